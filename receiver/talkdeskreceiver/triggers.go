package talkdeskreceiver

import (
	"strings"

	"github.com/consentry/consentry/internal/ccaas"
)

// trigger says what a Talkdesk trigger (or Events API event type) means.
type trigger struct {
	name       string // the canonical Talkdesk spelling, written to ccaas.event.type
	event      string // normalised EventName
	call       bool   // a voice call event: ccaas.channel=voice
	direction  string // inbound | outbound | "" (from the payload, if at all)
	disconnect string // ccaas.disconnect.type when the payload has no hangup reason
	callEnd    bool   // a call-end event
	channel    string // ccaas.channel of a non-voice event (Digital Connect)
}

// triggers lists the names Talkdesk uses: the Webhook Trigger API's
// trigger names, the HTTP Notifier's triggers (spelt the same way), and the
// Events API's event types. Lookups ignore case and punctuation, so
// "inbound-call-ends", "inbound_call_ends" and "inboundCallEnds" are the
// same trigger.
var triggers = func() map[string]trigger {
	list := []trigger{
		// Webhook Trigger API (Talkdesk Connections), documented names.
		{name: "inboundCallReachesContactCenter", event: ccaas.EventInteractionStarted, call: true, direction: "inbound"},
		{name: "inboundCallStarts", event: ccaas.EventAgentSegmentStarted, call: true, direction: "inbound"},
		{name: "inboundCallEnds", event: ccaas.EventInteractionEnded, call: true, direction: "inbound", callEnd: true},
		{name: "outboundCallEnds", event: ccaas.EventInteractionEnded, call: true, direction: "outbound", callEnd: true},
		{name: "contactCreated", event: ccaas.EventContactUpdated},
		{name: "contactUpdated", event: ccaas.EventContactUpdated},
		{name: "noteCreated", event: ccaas.EventContactUpdated},
		{name: "agentLogIn", event: ccaas.EventAgentLoggedIn},
		{name: "agentLogOut", event: ccaas.EventAgentLoggedOut},

		// HTTP Notifier triggers that the Webhook Trigger API does not have.
		{name: "outboundCallStarts", event: ccaas.EventInteractionStarted, call: true, direction: "outbound"},
		{name: "inboundCallRinging", event: ccaas.EventVendor, call: true, direction: "inbound"},
		{name: "transferredCallAnswered", event: ccaas.EventAgentSegmentStarted, call: true},
		{name: "callEntersWaitingQueue", event: ccaas.EventQueueEntered, call: true, direction: "inbound"},
		{name: "callLeavesWaitingQueue", event: ccaas.EventQueueExited, call: true, direction: "inbound"},
		{name: "callAbandoned", event: ccaas.EventInteractionEnded, call: true, direction: "inbound", disconnect: "abandoned", callEnd: true},
		{name: "callShortAbandoned", event: ccaas.EventInteractionEnded, call: true, direction: "inbound", disconnect: "short_abandoned", callEnd: true},
		{name: "callMissed", event: ccaas.EventInteractionEnded, call: true, direction: "inbound", disconnect: "missed", callEnd: true},
		{name: "inboundDispositionCodeSet", event: ccaas.EventInteractionWrapup, call: true, direction: "inbound"},
		{name: "outboundDispositionCodeSet", event: ccaas.EventInteractionWrapup, call: true, direction: "outbound"},
		{name: "voicemailLeft", event: ccaas.EventVoicemailEnded, call: true, direction: "inbound"},
		{name: "voicemailAssigned", event: ccaas.EventVendor, call: true, direction: "inbound"},
		{name: "voicemailTranscriptionAvailable", event: ccaas.EventTranscriptSegment, call: true, direction: "inbound"},
		{name: "agentStatusChanges", event: ccaas.EventAgentStatusChanged},
		{name: "csatScoreReceived", event: ccaas.EventAnalyticsInsight},

		// Names a Studio flow or an automation of your own may post; also
		// the names an Events API call stream would most likely use.
		{name: "recordingAvailable", event: ccaas.EventRecordingAvailable, call: true},
		{name: "callStarted", event: ccaas.EventInteractionStarted, call: true},
		{name: "callAnswered", event: ccaas.EventAgentSegmentStarted, call: true},
		{name: "callFinished", event: ccaas.EventInteractionEnded, call: true, callEnd: true},

		// Events API (partner apps): app lifecycle, and user.logout.
		{name: "user.logout", event: ccaas.EventAgentLoggedOut},
		{name: "app.installed", event: ccaas.EventVendor},
		{name: "app.updated", event: ccaas.EventVendor},
		{name: "app.uninstalled", event: ccaas.EventVendor},
		{name: "app.trial_started", event: ccaas.EventVendor},
		{name: "app.trial_extended", event: ccaas.EventVendor},
		{name: "app.trial_ended", event: ccaas.EventVendor},
		{name: "app.credentials_rotated", event: ccaas.EventVendor},
	}
	synonyms := map[string]string{
		"agentLoggedIn":      "agentLogIn",
		"agentLoggedOut":     "agentLogOut",
		"agentStatusChanged": "agentStatusChanges",
		"agentStatusChange":  "agentStatusChanges",
		"callEnded":          "callFinished",
		"callFinished":       "callFinished",
		"recordingReady":     "recordingAvailable",
		// Talkdesk's own call events ("event": "call_initiated", ...), as
		// its legacy integrations and message bus spell them.
		"callInitiated": "callStarted",
		"callVoicemail": "voicemailLeft",
	}
	m := make(map[string]trigger, len(list)+len(synonyms))
	for _, t := range list {
		m[triggerKey(t.name)] = t
	}
	for alias, target := range synonyms {
		m[triggerKey(alias)] = m[triggerKey(target)]
	}
	return m
}()

// triggerKey folds a trigger name for lookup: ASCII letters lower-cased,
// digits kept, everything else dropped.
func triggerKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteByte(c)
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}

func lookupTrigger(name string) (trigger, bool) {
	k := triggerKey(name)
	if k == "" {
		return trigger{}, false
	}
	t, ok := triggers[k]
	return t, ok
}
