package twilioreceiver

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

// Route names (the ccaas.event.route attribute and the metrics label).
const (
	routeEventStreams   = "eventstreams"
	routeVoiceStatus    = "voice_status"
	routeVoiceRecording = "voice_recording"
	routeTaskRouter     = "taskrouter"
	routeConversations  = "conversations"
	routeMessaging      = "messaging"
	routeMessageStatus  = "messaging_status"
	routeConference     = "voice_conference"
	routeTranscription  = "voice_transcription"
	routeIntelligence   = "intelligence"

	// unknownTenant is the tenant of events that arrive unsigned (only with
	// insecure_allow_unauthenticated) and name no account.
	unknownTenant = "unknown"
)

// normalizer turns Twilio events into records.
type normalizer struct {
	keyers       *subject.Keyers // by account and subaccount SID
	insecure     bool
	consentAttrs []attrPath
	subjectAttrs []string
	keywords     messageKeywords
	roles        conferenceRoles
	notice       ccaas.NoticeMapping
	location     ccaas.LocationMapping
	version      string
}

// newNormalizer makes the normalizer of a receiver configured by cfg.
func newNormalizer(cfg *Config, version string) (*normalizer, error) {
	keyers, err := cfg.Keyers(cfg.tenants())
	if err != nil {
		return nil, err
	}
	n := &normalizer{keyers: keyers, insecure: cfg.InsecureAllowUnauthenticated,
		subjectAttrs: cfg.SubjectAttributes, notice: cfg.NoticeAttributes, location: cfg.LocationAttributes, version: version,
		keywords: newMessageKeywords(cfg.Messaging), roles: newConferenceRoles(cfg.Conference)}
	for path, sig := range cfg.ConsentAttributes {
		n.consentAttrs = append(n.consentAttrs, attrPath{path: path, signal: sig})
	}
	return n, nil
}

func (n *normalizer) keyer(tenant string) *subject.Keyer {
	return n.keyers.Resolve(tenant, n.insecure)
}

func (n *normalizer) newBatch() *ccaas.Batch {
	return ccaas.NewBatch(ccaas.VendorTwilio, metadata.ScopeName, n.version)
}

// event is what a normaliser decided about one event.
type event struct {
	name     string
	occurred time.Time
}

// --- Programmable Voice -----------------------------------------------------

// voiceStatus normalises a call status callback (or the parameters of an
// Event Streams voice status-callback event).
func (n *normalizer) voiceStatus(attrs pcommon.Map, k *subject.Keyer, f fields) event {
	status := ccaas.Lower(f.get("CallStatus"))
	n.voiceCommon(attrs, k, f)
	return event{name: callEventName(status), occurred: parseTime(f.get("Timestamp"))}
}

// callEventName maps CallStatus to an event name.
func callEventName(status string) string {
	switch status {
	case "queued", "initiated", "ringing", "in-progress", "answered":
		return ccaas.EventInteractionStarted
	case "completed", "busy", "no-answer", "failed", "canceled":
		return ccaas.EventInteractionEnded
	default:
		return ccaas.EventVendor
	}
}

// voiceCommon writes what every voice callback says about the call: its id,
// direction, and the customer (the caller on inbound calls, the called party
// on outbound ones) with the geographic hints Twilio adds for PSTN numbers.
func (n *normalizer) voiceCommon(attrs pcommon.Map, k *subject.Keyer, f fields) {
	attrs.PutStr(ccaas.AttrChannel, "voice")
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, f.get("CallSid"))
	dir := ccaas.Lower(f.get("Direction"))
	switch {
	case dir == "inbound":
		attrs.PutStr(ccaas.AttrDirection, "inbound")
	case strings.HasPrefix(dir, "outbound"):
		attrs.PutStr(ccaas.AttrDirection, "outbound")
	}
	// The customer is the caller on inbound calls and the called party on
	// outbound ones; the other end is the business's number, whose place
	// counts too (ToState of an inbound call, FromState of an outbound one).
	customer, business := "From", "To"
	if strings.HasPrefix(dir, "outbound") {
		customer, business = "To", "From"
	}
	setVendorJurisdiction(attrs, f.get(customer+"Country"), f.get(customer+"State"))
	ccaas.AddVendorFieldHint(attrs, ccaas.PartyCustomer, f.get(customer+"Country"), f.get(customer+"State"))
	ccaas.AddVendorFieldHint(attrs, ccaas.PartyBusiness, f.get(business+"Country"), f.get(business+"State"))
	legacy := map[string]string{"From": "Caller", "To": "Called"}
	setSubject(attrs, k, firstNonEmpty(f.get(customer), f.get(legacy[customer])), anyID)
	ccaas.SetBusinessNumber(attrs, firstNonEmpty(f.get(business), f.get(legacy[business])))
}

// recording normalises a recording status callback. Pausing and stopping a
// recording are how a flow honours a refused or withdrawn consent, so the
// state is always written.
func (n *normalizer) recording(attrs pcommon.Map, k *subject.Keyer, f fields) event {
	status := ccaas.Lower(f.get("RecordingStatus"))
	ccaas.PutStr(attrs, ccaas.AttrRecordingState, status)
	switch status {
	case "in-progress":
		attrs.PutBool(ccaas.AttrRecordingActive, true)
	case "paused", "stopped", "completed", "absent", "failed", "deleted":
		attrs.PutBool(ccaas.AttrRecordingActive, false)
	}
	n.voiceCommon(attrs, k, f)
	if _, ok := attrs.Get(ccaas.AttrInteractionID); !ok {
		// A conference recording names the conference, not a call.
		ccaas.PutStr(attrs, ccaas.AttrInteractionID, f.get("ConferenceSid"))
	}
	name := ccaas.EventRecordingUpdated
	if status == "completed" {
		name = ccaas.EventRecordingAvailable
	}
	// RecordingStartTime is when the recording began, not when this status
	// was reached: only an explicit Timestamp dates the event.
	return event{name: name, occurred: parseTime(f.get("Timestamp"))}
}

// --- TaskRouter -------------------------------------------------------------

// taskRouterEventNames maps TaskRouter event types to event names.
var taskRouterEventNames = map[string]string{
	"task.created":          ccaas.EventTaskCreated,
	"task.updated":          ccaas.EventInteractionAttributes,
	"task.wrapup":           ccaas.EventInteractionWrapup,
	"task.completed":        ccaas.EventInteractionEnded,
	"task.canceled":         ccaas.EventInteractionEnded,
	"task.deleted":          ccaas.EventInteractionEnded,
	"task-queue.entered":    ccaas.EventQueueEntered,
	"task-queue.moved":      ccaas.EventQueueExited,
	"task-queue.timeout":    ccaas.EventQueueExited,
	"reservation.accepted":  ccaas.EventAgentSegmentStarted,
	"reservation.completed": ccaas.EventAgentSegmentEnded,
	"reservation.wrapup":    ccaas.EventInteractionWrapup,
}

// esTaskRouterNames maps classic TaskRouter parameter names to the
// snake_case keys of the Event Streams TaskRouter payload.
var esTaskRouterNames = map[string]string{
	"Sid": "sid", "EventType": "eventtype", "AccountSid": "account_sid", "ResourceSid": "resource_sid",
	"Timestamp": "timestamp", "TimestampMs": "timestamp_ms",
	"TaskSid": "task_sid", "TaskAttributes": "task_attributes", "TaskQueueSid": "task_queue_sid",
	"TaskChannelUniqueName": "task_channel_unique_name", "WorkerSid": "worker_sid",
	"ReservationSid": "reservation_sid", "WorkflowSid": "workflow_sid",
	"WorkerActivityName": "worker_activity_name", "WorkerPreviousActivityName": "worker_previous_activity_name",
	"WorkerActivitySid": "worker_activity_sid", "WorkerPreviousActivitySid": "worker_previous_activity_sid",
}

// taskRouter normalises a TaskRouter event (classic callback or the payload
// of an Event Streams TaskRouter event).
func (n *normalizer) taskRouter(attrs pcommon.Map, k *subject.Keyer, f fields, eventType string) event {
	if eventType == "worker.activity.update" {
		return workerActivity(attrs, f)
	}
	name, ok := taskRouterEventNames[eventType]
	if !ok {
		name = ccaas.EventVendor
	}
	ccaas.PutStr(attrs, ccaas.AttrAgentID, f.get("WorkerSid"))
	ccaas.PutStr(attrs, ccaas.AttrQueueID, f.get("TaskQueueSid"))
	if ch := taskChannel(ccaas.Lower(f.get("TaskChannelUniqueName"))); ch != "" {
		attrs.PutStr(ccaas.AttrChannel, ch)
	}
	interaction := f.get("TaskSid")
	if ta := decodeAttributes(f.get("TaskAttributes")); ta != nil {
		interaction = firstNonEmpty(n.taskAttributes(attrs, k, ta), interaction)
	}
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, interaction)
	return event{name: name, occurred: parseTime(firstNonEmpty(f.get("TimestampMs"), f.get("Timestamp")))}
}

// workerActivity normalises worker.activity.update: an agent's activity
// (Available, Offline, Break, ...) changed. It carries the worker, never a
// customer: WorkerAttributes (the agent's e-mail, name) do not make a
// subject.
func workerActivity(attrs pcommon.Map, f fields) event {
	ccaas.PutStr(attrs, ccaas.AttrAgentID, f.get("WorkerSid"))
	ccaas.PutStr(attrs, ccaas.AttrAgentStatus, ccaas.Lower(f.get("WorkerActivityName")))
	ccaas.PutStr(attrs, ccaas.AttrAgentPreviousStatus, ccaas.Lower(f.get("WorkerPreviousActivityName")))
	attrs.PutStr(ccaas.AttrAgentStatusType, "presence")
	return event{name: ccaas.EventAgentStatusChanged, occurred: parseTime(firstNonEmpty(f.get("TimestampMs"), f.get("Timestamp")))}
}

// taskChannel maps a TaskChannel unique name to a ccaas.channel value.
func taskChannel(name string) string {
	switch name {
	case "", "default":
		return ""
	case "sms", "whatsapp", "messenger":
		return "message"
	default:
		return name
	}
}

// Built-in TaskAttributes paths that name the customer, as Studio's "Send to
// Flex", Flex Conversations and Flex Insights write them. The address the
// interaction runs over comes first, so that the task's subject is the one
// its call or conversation events have.
var (
	subjectPathsInbound  = []string{"customerAddress", "from", "caller", "customers.phone", "customers.email", "phone", "email"}
	subjectPathsOutbound = []string{"customerAddress", "outbound_to", "to", "called", "customers.phone", "customers.email", "phone", "email"}
)

// taskAttributes reads the customer-defined TaskAttributes: who the customer
// is, where they are, what they consented to. It returns the interaction the
// task belongs to (the call or conversation), when the attributes say.
func (n *normalizer) taskAttributes(attrs pcommon.Map, k *subject.Keyer, ta map[string]any) string {
	dir := ccaas.Lower(scalar(ta["direction"]))
	if dir == "inbound" || dir == "outbound" {
		attrs.PutStr(ccaas.AttrDirection, dir)
	}
	ct := ccaas.Lower(scalar(ta["channelType"]))
	switch ct {
	case "":
	case "sms", "whatsapp", "messenger", "gbm":
		attrs.PutStr(ccaas.AttrChannel, "message")
		attrs.PutStr(ccaas.AttrMessageType, ct)
	case "web":
		attrs.PutStr(ccaas.AttrChannel, "chat")
	default:
		if _, ok := attrs.Get(ccaas.AttrChannel); !ok {
			attrs.PutStr(ccaas.AttrChannel, ct)
		}
	}
	// Where the caller and the called number are (Studio writes both).
	callerCountry := firstNonEmpty(scalar(ta["caller_country"]), scalar(ta["from_country"]))
	callerState := firstNonEmpty(scalar(ta["caller_state"]), scalar(ta["from_state"]))
	calledCountry := firstNonEmpty(scalar(ta["called_country"]), scalar(ta["to_country"]))
	calledState := firstNonEmpty(scalar(ta["called_state"]), scalar(ta["to_state"]))
	customerCountry, customerState, businessCountry, businessState := callerCountry, callerState, calledCountry, calledState
	businessNumber := firstNonEmpty(scalar(ta["called"]), scalar(ta["to"]))
	if dir == "outbound" {
		customerCountry, customerState, businessCountry, businessState = calledCountry, calledState, callerCountry, callerState
		businessNumber = firstNonEmpty(scalar(ta["caller"]), scalar(ta["from"]))
	}
	setVendorJurisdiction(attrs, customerCountry, customerState)
	ccaas.AddVendorFieldHint(attrs, ccaas.PartyCustomer, customerCountry, customerState)
	ccaas.AddVendorFieldHint(attrs, ccaas.PartyBusiness, businessCountry, businessState)
	ccaas.SetBusinessNumber(attrs, businessNumber)

	found := false
	for _, p := range n.subjectAttrs {
		if found = setSubject(attrs, k, scalar(ccaas.Lookup(ta, p)), anyID); found {
			break
		}
	}
	paths := subjectPathsInbound
	if dir == "outbound" {
		paths = subjectPathsOutbound
	}
	for i := 0; !found && i < len(paths); i++ {
		found = setSubject(attrs, k, scalar(ccaas.Lookup(ta, paths[i])), phoneOrEmail)
	}
	if !found {
		setSubject(attrs, k, scalar(ccaas.Lookup(ta, "customers.external_id")), anyID)
	}
	n.customAttributes(attrs, ta)
	return firstNonEmpty(scalar(ta["call_sid"]), scalar(ta["conversationSid"]), scalar(ta["conversation_sid"]))
}

// --- Conversations ----------------------------------------------------------

// conversationEventNames maps Conversations post-event types to event names.
var conversationEventNames = map[string]string{
	"onMessageAdded":      ccaas.EventMessageReceived,
	"onDeliveryUpdated":   ccaas.EventMessageReceipt,
	"onConversationAdded": ccaas.EventInteractionStarted,
	// onConversationRemoved and a state change to closed end the
	// conversation; see conversation().
	"onConversationRemoved": ccaas.EventInteractionEnded,
}

// esConversationTypes maps Event Streams Conversations type suffixes to the
// webhook event types.
var esConversationTypes = map[string]string{
	"conversation.added":         "onConversationAdded",
	"conversation.updated":       "onConversationUpdated",
	"conversation.removed":       "onConversationRemoved",
	"conversation-state.updated": "onConversationStateUpdated",
	"message.added":              "onMessageAdded",
	"message.updated":            "onMessageUpdated",
	"message.removed":            "onMessageRemoved",
	"participant.added":          "onParticipantAdded",
	"participant.updated":        "onParticipantUpdated",
	"participant.removed":        "onParticipantRemoved",
	"user.added":                 "onUserAdded",
	"user.updated":               "onUserUpdated",
}

// messagingSources are the Conversations message sources through which the
// author is the customer's own address.
var messagingSources = map[string]string{
	"sms": "sms", "whatsapp": "whatsapp", "messenger": "messenger", "gbm": "gbm", "email": "email", "mms": "sms",
}

// conversation normalises a Conversations webhook (or the data of an Event
// Streams Conversations event).
func (n *normalizer) conversation(attrs pcommon.Map, k *subject.Keyer, f fields, eventType string) event {
	name, ok := conversationEventNames[eventType]
	if !ok {
		name = ccaas.EventVendor
	}
	state := ccaas.Lower(firstNonEmpty(f.get("StateTo"), f.get("State")))
	if (eventType == "onConversationStateUpdated" || eventType == "onConversationUpdated") && state == "closed" {
		name = ccaas.EventInteractionEnded
	}
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, f.get("ConversationSid"))
	ccaas.PutStr(attrs, ccaas.AttrParticipantID, f.get("ParticipantSid"))

	source := ccaas.Lower(f.get("Source"))
	mt, fromCustomer := messagingSources[source]
	switch {
	case fromCustomer && mt == "email":
		attrs.PutStr(ccaas.AttrChannel, "email")
	case fromCustomer:
		attrs.PutStr(ccaas.AttrChannel, "message")
		attrs.PutStr(ccaas.AttrMessageType, mt)
	case source == "sdk":
		attrs.PutStr(ccaas.AttrChannel, "chat")
	default:
		attrs.PutStr(ccaas.AttrChannel, "message")
	}
	if fromCustomer && strings.HasPrefix(eventType, "onMessage") {
		attrs.PutStr(ccaas.AttrDirection, "inbound")
	}

	// The customer: the participant's messaging binding (their phone number
	// or WhatsApp address), else an author who wrote through a messaging
	// channel, else (source unknown) an author who is recognisably a phone
	// number. Identities of SDK and API authors may be agents or the
	// business and are not used.
	authorAccepts := phoneOnly
	switch {
	case fromCustomer:
		authorAccepts = anyID
	case source == "sdk" || source == "api":
		authorAccepts = -1
	}
	if !setSubject(attrs, k, f.get("MessagingBinding.Address"), anyID) &&
		!(authorAccepts >= 0 && setSubject(attrs, k, f.get("Author"), authorAccepts)) {
		setSubject(attrs, k, f.get("MessagingBinding.AuthorAddress"), anyID)
	}
	if a := decodeAttributes(f.get("Attributes")); a != nil {
		n.customAttributes(attrs, a)
	}
	when := f.get("DateCreated")
	if strings.HasSuffix(eventType, "Updated") || strings.HasSuffix(eventType, "Removed") {
		when = firstNonEmpty(f.get("DateUpdated"), when)
	}
	return event{name: name, occurred: parseTime(when)}
}

// setCommon writes the attributes every record has.
func setCommon(lr plog.LogRecord, route, id, eventType string, ev event, received time.Time) {
	attrs := lr.Attributes()
	attrs.PutStr(ccaas.AttrEventID, id)
	ccaas.PutStr(attrs, ccaas.AttrEventType, eventType)
	attrs.PutStr(ccaas.AttrEventRoute, route)
	lr.SetEventName(ev.name)
	ccaas.SetTimestamps(lr, ev.occurred, received)
}

// customAttributes reads what the customer-defined attributes (TaskAttributes,
// Conversations Attributes) carry for consent: the mapped consent signals,
// the played notice and location hints.
func (n *normalizer) customAttributes(attrs pcommon.Map, m map[string]any) {
	consentSignals(attrs, n.consentAttrs, m)
	get := func(path string) (any, bool) {
		v := ccaas.Lookup(m, path)
		return v, v != nil
	}
	n.notice.Apply(attrs, get)
	n.location.Apply(attrs, get)
}
