// Package ccaas holds Consentry's event model: the normalised event names,
// the attribute keys every receiver writes and the consent processor reads,
// and small helpers to build one log record per vendor event.
//
// The names are documented for users in docs/semantic-conventions.md; a test
// keeps that document and these constants in step.
package ccaas

// Vendors, the values of the ccaas.vendor resource attribute.
const (
	VendorGenesys  = "genesys"
	VendorTwilio   = "twilio"
	VendorSegment  = "segment"
	VendorTalkdesk = "talkdesk"
)

// AllVendors lists the vendors, sorted.
var AllVendors = []string{VendorGenesys, VendorSegment, VendorTalkdesk, VendorTwilio}

// Resource attributes: constant for every event from one vendor tenant.
const (
	AttrVendor   = "ccaas.vendor"    // genesys | twilio | segment | talkdesk
	AttrTenantID = "ccaas.tenant.id" // Genesys org id, Twilio account SID, Segment source, Talkdesk account
)

// Record attributes written by the receivers.
const (
	AttrEventID       = "ccaas.event.id"       // vendor event id or a stable derived key; the de-duplication key
	AttrEventType     = "ccaas.event.type"     // the vendor's own type string (topic pattern, CloudEvent type, ...)
	AttrEventRoute    = "ccaas.event.route"    // which receiver route accepted the event (eventbridge, notifications, ...)
	AttrInteractionID = "ccaas.interaction.id" // conversation / call / task id
	AttrParticipantID = "ccaas.participant.id"
	AttrChannel       = "ccaas.channel"   // voice, chat, email, message, callback, video, web, app, ...
	AttrDirection     = "ccaas.direction" // inbound | outbound
	AttrAgentID       = "ccaas.agent.id"
	AttrQueueID       = "ccaas.queue.id"

	AttrSubjectKey    = "ccaas.subject.key"     // keyed hash of the normalised identifier; never the identifier itself
	AttrSubjectIDType = "ccaas.subject.id_type" // phone | email | opaque

	AttrJurisdictionCountry = "ccaas.jurisdiction.country" // ISO 3166-1 alpha-2 of the customer, when hinted
	AttrJurisdictionRegion  = "ccaas.jurisdiction.region"  // ISO 3166-2 of the customer, e.g. US-CA
	AttrJurisdictionSource  = "ccaas.jurisdiction.source"  // where the hint came from: e164, vendor_field, ip, locale
	// Every location hint of every party: "<code>@<party>.<source>", party
	// customer, business (the called or calling business number) or agent.
	AttrJurisdictionHints = "ccaas.jurisdiction.hints"
	// The business's own number on the interaction (E.164): the number the
	// customer called (inbound: To, DNIS) or was called from (outbound).
	AttrBusinessNumber = "ccaas.business.number"

	AttrRecordingState          = "ccaas.recording.state"           // vendor recording state, lower-cased (active, paused, none, ...)
	AttrRecordingSecurePause    = "ccaas.recording.secure_pause"    // bool
	AttrRecordingActive         = "ccaas.recording.active"          // bool: the vendor says media is being recorded
	AttrRecordingRecordersState = "ccaas.recording.recorders_state" // map: per-recorder states (Genesys recordersState)

	// Raw consent signals, as the vendor sent them; the consent processor
	// interprets them under the policy.
	AttrConsentSignalPrefix   = "ccaas.consent.signal."   // + signal name from the receiver's mapping, string value
	AttrConsentCategoryPrefix = "ccaas.consent.category." // + Segment category id, bool value
	AttrConsentTCF            = "ccaas.consent.tcf"       // IAB TCF v2 TC string
	AttrConsentGPP            = "ccaas.consent.gpp"       // IAB GPP string
	AttrConsentGPC            = "ccaas.consent.gpc"       // bool: Sec-GPC: 1 was sent
	AttrConsentUSP            = "ccaas.consent.usp"       // IAB US Privacy string (us_privacy, "1YNN")
	AttrConsentNoticeID       = "ccaas.consent.notice.id" // a played-notice marker from the vendor flow
	AttrConsentNoticeVersion  = "ccaas.consent.notice.version"
	AttrConsentNoticeOffset   = "ccaas.consent.notice.offset" // seconds after the interaction's start the notice was played
	// Consent signals the receiver found but could not copy (a non-string
	// GPP value, an oversized TC string, a non-scalar mapped attribute):
	// their names ("gpp", "signal:recording", "category:Analytics").
	AttrConsentUnreadable = "ccaas.consent.unreadable"
	AttrErasureRequested  = "ccaas.erasure.requested"  // bool: the event asks to erase the subject
	AttrDisconnectType    = "ccaas.disconnect.type"    // why the interaction ended, vendor enum lower-cased
	AttrFlowType          = "ccaas.flow.type"          // IVR/bot flow type, vendor enum lower-cased
	AttrMessageType       = "ccaas.message.type"       // sms, whatsapp, open, webmessaging, ...
	AttrTranscriptFinal   = "ccaas.transcript.final"   // bool
	AttrTranscriptChannel = "ccaas.transcript.channel" // internal (agent) | external (customer) | both
	AttrTranscriptEngine  = "ccaas.transcript.engine"  // the transcription engine provider when the vendor names it
)

// Attributes the consent processor adds (BRIEF.md, "The event model").
const (
	AttrConsentStatus                = "consent.status"   // granted | denied | unknown | not_required
	AttrConsentDecision              = "consent.decision" // forward | quarantine
	AttrConsentReasons               = "consent.reasons"
	AttrConsentPurposes              = "consent.purposes"
	AttrConsentJurisdictions         = "consent.jurisdictions"
	AttrConsentAllPartyRequired      = "consent.all_party_required"
	AttrConsentProcessors            = "consent.processors"
	AttrConsentDisclosedProcessors   = "consent.disclosed_processors"
	AttrConsentUndisclosedProcessors = "consent.undisclosed_processors"
	AttrConsentNoticeIDTag           = "consent.notice.id"
	AttrConsentEvidence              = "consent.evidence"
	AttrConsentPolicyHash            = "consent.policy.hash"
	AttrConsentUnrouted              = "consent.unrouted"
)

// The values of consent.decision: the one vocabulary of the consent
// decision, read by the router, the release and the tools, written by the
// policy. Only DecisionForward lets a record flow; any other value, or
// none, keeps it in quarantine (see Decision).
const (
	DecisionForward    = "forward"
	DecisionQuarantine = "quarantine"
)

// Normalised event names (LogRecord.EventName).
const (
	EventInteractionStarted    = "ccaas.interaction.started"
	EventInteractionEnded      = "ccaas.interaction.ended"
	EventInteractionSnapshot   = "ccaas.interaction.snapshot"
	EventInteractionAttributes = "ccaas.interaction.attributes_updated"
	EventInteractionWrapup     = "ccaas.interaction.wrapup"
	EventAgentSegmentStarted   = "ccaas.agent.segment.started"
	EventAgentSegmentEnded     = "ccaas.agent.segment.ended"
	EventQueueEntered          = "ccaas.queue.entered"
	EventQueueExited           = "ccaas.queue.exited"
	EventFlowStarted           = "ccaas.flow.started"
	EventFlowEnded             = "ccaas.flow.ended"
	EventFlowOutcome           = "ccaas.flow.outcome"
	EventVoicemailStarted      = "ccaas.voicemail.started"
	EventVoicemailEnded        = "ccaas.voicemail.ended"
	EventOutboundInitiated     = "ccaas.outbound.initiated"
	EventContactUpdated        = "ccaas.contact.updated"
	EventRecordingAvailable    = "ccaas.recording.available"
	EventRecordingUpdated      = "ccaas.recording.updated"
	EventTranscriptSegment     = "ccaas.transcript.segment"
	EventAnalyticsSentiment    = "ccaas.analytics.sentiment"
	EventAnalyticsInsight      = "ccaas.analytics.insight"
	EventMessageReceived       = "ccaas.message.received"
	EventMessageSent           = "ccaas.message.sent"
	EventMessageReceipt        = "ccaas.message.receipt"
	EventTaskCreated           = "ccaas.task.created"
	EventAnalyticsTrack        = "ccaas.analytics.track"
	EventConsentUpdated        = "ccaas.consent.updated"
	EventErasureRequested      = "ccaas.erasure.requested"
	EventVendor                = "ccaas.vendor_event" // a vendor type we do not normalise yet; ccaas.event.type keeps the raw type
)
