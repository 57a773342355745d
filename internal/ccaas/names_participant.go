package ccaas

// Conference participants (Twilio conference status callbacks, which Flex
// voice is built on): who joined, left, was held or muted. Agent legs use
// the agent segment events; these are for every other party.
const (
	EventParticipantJoined  = "ccaas.participant.joined"
	EventParticipantLeft    = "ccaas.participant.left"
	EventParticipantUpdated = "ccaas.participant.updated" // held, resumed, muted, unmuted, modified

	AttrParticipantRole  = "ccaas.participant.role"  // agent | customer, from the participant's label
	AttrParticipantHold  = "ccaas.participant.hold"  // bool: the participant is on hold
	AttrParticipantMuted = "ccaas.participant.muted" // bool: the participant is muted
)
