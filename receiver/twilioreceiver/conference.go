package twilioreceiver

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/consentry/consentry/internal/ccaas"
)

// Conference status callbacks (the <Conference> noun's and the Conferences
// API's statusCallback): Flex voice puts the customer's call and the
// agent's leg into one conference, so its participants joining, leaving
// and being held are what an agent's work on a call looks like.

// conferenceRoles resolves participant labels to roles.
type conferenceRoles struct{ labels map[string]string }

func newConferenceRoles(cfg ConferenceConfig) conferenceRoles {
	r := conferenceRoles{labels: map[string]string{}}
	for _, l := range cfg.CustomerLabels {
		r.labels[strings.ToLower(strings.TrimSpace(l))] = "customer"
	}
	for _, l := range cfg.AgentLabels {
		r.labels[strings.ToLower(strings.TrimSpace(l))] = "agent"
	}
	return r
}

func (r conferenceRoles) role(label string) string {
	return r.labels[strings.ToLower(strings.TrimSpace(label))]
}

// conference normalises one conference status callback. The conference is
// the interaction (ccaas.interaction.id = ConferenceSid) and each call leg
// a participant (ccaas.participant.id = CallSid). The callbacks name no
// phone numbers: the customer's subject is not known from them.
func (n *normalizer) conference(attrs pcommon.Map, f fields) event {
	attrs.PutStr(ccaas.AttrChannel, "voice")
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, f.get("ConferenceSid"))
	ccaas.PutStr(attrs, ccaas.AttrParticipantID, f.get("CallSid"))
	role := n.roles.role(f.get("ParticipantLabel"))
	ccaas.PutStr(attrs, ccaas.AttrParticipantRole, role)
	for _, b := range [...]struct{ param, attr string }{
		{"Hold", ccaas.AttrParticipantHold}, {"Muted", ccaas.AttrParticipantMuted},
	} {
		switch strings.ToLower(f.get(b.param)) {
		case "true":
			attrs.PutBool(b.attr, true)
		case "false":
			attrs.PutBool(b.attr, false)
		}
	}
	var name string
	switch ev := ccaas.Lower(f.get("StatusCallbackEvent")); ev {
	case "conference-start":
		name = ccaas.EventInteractionStarted
	case "conference-end":
		name = ccaas.EventInteractionEnded
		ccaas.PutStr(attrs, ccaas.AttrDisconnectType, ccaas.Lower(f.get("ReasonConferenceEnded")))
	case "participant-join":
		name = ccaas.EventParticipantJoined
		if role == "agent" {
			name = ccaas.EventAgentSegmentStarted
		}
	case "participant-leave":
		name = ccaas.EventParticipantLeft
		if role == "agent" {
			name = ccaas.EventAgentSegmentEnded
		}
		ccaas.PutStr(attrs, ccaas.AttrDisconnectType, ccaas.Lower(f.get("ReasonParticipantLeft")))
	case "participant-hold", "participant-unhold", "participant-mute", "participant-unmute", "participant-modify":
		name = ccaas.EventParticipantUpdated
	default:
		// announcement-end, announcement-fail, participant-speech-start/stop:
		// not a change of who takes part.
		name = ccaas.EventVendor
	}
	return event{name: name, occurred: parseTime(f.get("Timestamp"))}
}
