package twilioreceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
)

// Transcription callbacks on one route: Real-Time Transcription's
// statusCallbackUrl (<Start><Transcription>, the RealtimeTranscriptions
// API), which sends TranscriptionEvent, and the transcribeCallback of
// <Record transcribe="true">, which sends TranscriptionStatus.

// trackSpeakers maps Real-Time Transcription tracks to whose speech they
// carry. A track is named from Twilio's side of the call leg that runs the
// TwiML: inbound_track is what the far end (the caller, or the called
// customer) says, outbound_track what Twilio plays or bridges to them (the
// agent).
var trackSpeakers = map[string]string{
	"inbound_track":  "external",
	"outbound_track": "internal",
	"both_tracks":    "both",
}

// transcription normalises a transcription callback and returns its event,
// ccaas.event.type and ccaas.event.id.
func (n *normalizer) transcription(attrs pcommon.Map, k *subject.Keyer, f *form) (event, string, string, error) {
	callSid := f.get("CallSid")
	if callSid == "" {
		return event{}, "", "", webhook.Malformed("a transcription callback needs a CallSid")
	}
	if rt := ccaas.Lower(f.get("TranscriptionEvent")); rt != "" {
		attrs.PutStr(ccaas.AttrChannel, "voice")
		attrs.PutStr(ccaas.AttrInteractionID, callSid)
		name := ccaas.EventVendor // transcription-started, -stopped, -error
		if rt == "transcription-content" {
			name = ccaas.EventTranscriptSegment
			if final, ok := parseFlag(f.get("Final")); ok {
				attrs.PutBool(ccaas.AttrTranscriptFinal, final)
			}
			ccaas.PutStr(attrs, ccaas.AttrTranscriptChannel, trackSpeakers[ccaas.Lower(f.get("Track"))])
			ccaas.PutStr(attrs, ccaas.AttrTranscriptUtteranceID, f.get("SequenceId"))
		}
		ccaas.PutStr(attrs, ccaas.AttrTranscriptEngine, ccaas.Lower(f.get("TranscriptionEngine")))
		id := f.signedID("transcription", false)
		return event{name: name, occurred: parseTime(f.get("Timestamp"))}, "voice.transcription." + rt, id, nil
	}
	status := ccaas.Lower(f.get("TranscriptionStatus"))
	if status == "" && f.get("TranscriptionText") == "" {
		return event{}, "", "", webhook.Malformed("a transcription callback needs a TranscriptionEvent or a TranscriptionStatus")
	}
	// <Record transcribe>: the recording is of the caller alone (a
	// voicemail, a recorded answer), so the speech is theirs.
	n.voiceCommon(attrs, k, f)
	attrs.PutBool(ccaas.AttrTranscriptFinal, status == "completed")
	attrs.PutStr(ccaas.AttrTranscriptChannel, "external")
	name := ccaas.EventTranscriptSegment
	if status != "" && status != "completed" {
		name = ccaas.EventVendor // failed: there is no text
	}
	id := f.signedID("transcription", false)
	return event{name: name}, joinType("voice.record-transcription", status), id, nil
}

// parseFlag reads Twilio's "true" / "false" parameters.
func parseFlag(s string) (bool, bool) {
	switch ccaas.Lower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
