package genesysreceiver

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

const (
	routeEventBridge   = "eventbridge"
	routeNotifications = "notifications"
	routeOpenMessaging = "openmessaging"
	routeDataActions   = "dataactions"

	// unknownTenant is the tenant of events that arrive unauthenticated (only
	// with insecure_allow_unauthenticated) and name no organization.
	unknownTenant = "unknown"

	eventBridgeSourcePrefix = "aws.partner/genesys.com/cloud/"
)

// normalizer turns Genesys payloads into records.
type normalizer struct {
	keyers       *subject.Keyers
	consentAttrs map[string]string
	dataActions  map[string]DataActionMapping
	notice       ccaas.NoticeMapping
	location     ccaas.LocationMapping
	insecure     bool
	version      string
}

// newNormalizer makes the normalizer of a receiver configured by cfg.
func newNormalizer(cfg *Config, version string) (*normalizer, error) {
	keyers, err := cfg.Keyers(cfg.tenants())
	if err != nil {
		return nil, err
	}
	return &normalizer{version: version, keyers: keyers, consentAttrs: cfg.ConsentAttributes,
		dataActions: cfg.DataActions, notice: cfg.NoticeAttributes, location: cfg.LocationAttributes,
		insecure: cfg.InsecureAllowUnauthenticated}, nil
}

func (n *normalizer) keyer(org string) *subject.Keyer {
	return n.keyers.Resolve(org, n.insecure)
}

func (n *normalizer) newBatch() *ccaas.Batch {
	return ccaas.NewBatch(ccaas.VendorGenesys, metadata.ScopeName, n.version)
}

// tenantFor decides the tenant of one event: the credential's organization,
// which must agree with any organization the event names.
func tenantFor(credOrg, eventOrg string) (string, error) {
	switch {
	case credOrg == "" && eventOrg == "":
		return unknownTenant, nil
	case credOrg == "":
		return eventOrg, nil
	case eventOrg != "" && eventOrg != credOrg:
		return "", webhook.Forbidden("the event belongs to organization %q, not to the credential's organization", eventOrg)
	default:
		return credOrg, nil
	}
}

// eventBridge handles EventBridge events delivered by an API destination:
// {"version":"0","id":...,"detail-type":topic pattern,"source":"aws.partner/genesys.com/cloud/<org>/<suffix>",
// "time":...,"detail":{"topicName","version","eventBody","metadata","timestamp"}}, alone or in an array.
func (n *normalizer) eventBridge(body []byte, credOrg string, received time.Time) (plog.Logs, error) {
	events, err := webhook.DecodeObjects(body)
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	for i, e := range events {
		detail := ccaas.Obj(e, "detail")
		if detail == nil {
			return plog.Logs{}, webhook.Malformed("event %d has no \"detail\" object; is this an EventBridge event?", i)
		}
		topic := ccaas.Str(detail, "topicName")
		pattern := ccaas.Str(e, "detail-type")
		if topic == "" && pattern == "" {
			return plog.Logs{}, webhook.Malformed("event %d has neither detail-type nor detail.topicName", i)
		}
		// detail-type is the topic pattern, but an input transformer or a
		// partner integration may put the concrete topic there: it is
		// matched like the pattern. Anything else names no topic.
		if !strings.HasPrefix(pattern, "v2.") {
			pattern = topic
		}
		pattern = topicPattern(pattern)
		srcOrg := ""
		if src := ccaas.Str(e, "source"); src != "" {
			rest, ok := strings.CutPrefix(src, eventBridgeSourcePrefix)
			if !ok {
				return plog.Logs{}, webhook.Malformed("event %d: source %q is not a Genesys Cloud partner event source", i, src)
			}
			srcOrg, _, _ = strings.Cut(rest, "/")
		}
		eventBody := ccaas.Obj(detail, "eventBody")
		if srcOrg == "" {
			srcOrg = ccaas.Str(eventBody, "organizationId")
		}
		tenant, err := tenantFor(credOrg, srcOrg)
		if err != nil {
			return plog.Logs{}, err
		}
		id := ccaas.Str(e, "id")
		if id == "" {
			id = ccaas.DerivedID(topic, eventBody)
		}
		envTime := parseTime(ccaas.Get(e, "time"))
		if envTime.IsZero() {
			envTime = parseTime(ccaas.Get(detail, "timestamp"))
		}
		if err := n.emit(b, tenant, routeEventBridge, id, topic, pattern, e, []string{"detail", "eventBody"}, envTime, received, len(body)); err != nil {
			return plog.Logs{}, err
		}
	}
	return b.Logs(), nil
}

// notifications handles the notification envelope ({"topicName","version",
// "eventBody","metadata"}) that Process Automation workflows and data actions
// post, alone or in an array.
func (n *normalizer) notifications(body []byte, credOrg string, received time.Time) (plog.Logs, error) {
	events, err := webhook.DecodeObjects(body)
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	for i, e := range events {
		if !isEnvelope(e) {
			// A data action's own body: read with the default mapping.
			if _, ok := n.dataActions[defaultDataAction]; !ok {
				return plog.Logs{}, webhook.Malformed("notification %d is not a notification envelope (no topicName or eventBody); configure data_actions.default to map data-action bodies", i)
			}
			if err := n.mapDataAction(b, defaultDataAction, ptr(n.dataActions[defaultDataAction]), e, credOrg, received); err != nil {
				return plog.Logs{}, err
			}
			continue
		}
		topic := ccaas.Str(e, "topicName")
		if topic == "" {
			return plog.Logs{}, webhook.Malformed("notification %d has no topicName", i)
		}
		eventBody := ccaas.Obj(e, "eventBody")
		if eventBody == nil {
			return plog.Logs{}, webhook.Malformed("notification %d has no eventBody object", i)
		}
		tenant, err := tenantFor(credOrg, ccaas.Str(eventBody, "organizationId"))
		if err != nil {
			return plog.Logs{}, err
		}
		if err := n.emit(b, tenant, routeNotifications, ccaas.DerivedID(topic, eventBody), topic, topicPattern(topic), e, []string{"eventBody"}, time.Time{}, received, len(body)); err != nil {
			return plog.Logs{}, err
		}
	}
	return b.Logs(), nil
}

// openMessaging handles an Open Messaging outbound webhook
// (OpenNormalizedMessage).
func (n *normalizer) openMessaging(body []byte, org string, received time.Time) (plog.Logs, error) {
	v, err := ccaas.DecodeJSON(body)
	if err != nil {
		return plog.Logs{}, webhook.Malformed("%v", err)
	}
	msg, ok := v.(map[string]any)
	if !ok {
		return plog.Logs{}, webhook.Malformed("an Open Messaging webhook body must be a JSON object")
	}
	id := ccaas.Str(msg, "id")
	typ := ccaas.Str(msg, "type")
	channel := ccaas.Obj(msg, "channel")
	if id == "" || typ == "" || channel == nil {
		return plog.Logs{}, webhook.Malformed("an Open Messaging message needs id, type and channel")
	}
	if org == "" {
		org = unknownTenant
	}
	b := n.newBatch()
	lr := b.Record(org)
	ccaas.PutMap(lr.Body().SetEmptyMap(), msg)
	attrs := lr.Attributes()
	direction := ccaas.Lower(ccaas.Str(msg, "direction"))
	status := ccaas.Str(msg, "status")
	eventID := id + ":" + typ
	if status != "" {
		eventID += ":" + status
	}
	attrs.PutStr(ccaas.AttrEventID, eventID)
	attrs.PutStr(ccaas.AttrEventType, "openmessaging."+typ)
	attrs.PutStr(ccaas.AttrEventRoute, routeOpenMessaging)
	attrs.PutStr(ccaas.AttrChannel, "message")
	attrs.PutStr(ccaas.AttrMessageType, "open")
	ccaas.PutStr(attrs, ccaas.AttrDirection, direction)
	// Outbound messages name the Genesys conversation they belong to.
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(msg, "conversationId"))
	switch {
	case strings.EqualFold(typ, "Receipt"):
		lr.SetEventName(ccaas.EventMessageReceipt)
	case direction == "outbound":
		lr.SetEventName(ccaas.EventMessageSent)
	default:
		lr.SetEventName(ccaas.EventMessageReceived)
	}
	// The customer is the recipient of outbound messages and the sender of
	// inbound ones.
	party := ccaas.Obj(channel, "from")
	if direction == "outbound" {
		party = ccaas.Obj(channel, "to")
	}
	if party != nil {
		switch strings.ToLower(ccaas.Str(party, "idType")) {
		case "email":
			ccaas.SetSubject(attrs, n.keyer(org), subject.IDTypeEmail, ccaas.Str(party, "id"))
		case "phone":
			ccaas.SetSubject(attrs, n.keyer(org), subject.IDTypePhone, ccaas.Str(party, "id"))
		default:
			ccaas.SetSubject(attrs, n.keyer(org), subject.IDTypeOpaque, ccaas.Str(party, "id"))
		}
	}
	ccaas.SetTimestamps(lr, parseTime(ccaas.Get(channel, "time")), received)
	return b.Logs(), nil
}

// detailEventNames maps the suffix of v2.detail.events.conversation.{id}.*
// topics to event names.
var detailEventNames = map[string]string{
	"customer.start":  ccaas.EventInteractionStarted,
	"customer.end":    ccaas.EventInteractionEnded,
	"user.start":      ccaas.EventAgentSegmentStarted,
	"user.end":        ccaas.EventAgentSegmentEnded,
	"acd.start":       ccaas.EventQueueEntered,
	"acd.end":         ccaas.EventQueueExited,
	"flow.start":      ccaas.EventFlowStarted,
	"flow.end":        ccaas.EventFlowEnded,
	"flow.outcome":    ccaas.EventFlowOutcome,
	"acw":             ccaas.EventInteractionWrapup,
	"wrapup":          ccaas.EventInteractionWrapup,
	"attributes":      ccaas.EventInteractionAttributes,
	"contact":         ccaas.EventContactUpdated,
	"outbound":        ccaas.EventOutboundInitiated,
	"voicemail.start": ccaas.EventVoicemailStarted,
	"voicemail.end":   ccaas.EventVoicemailEnded,
}

const detailPrefix = "v2.detail.events.conversation.{id}."

// transcriptionTopic is the topic of real-time transcripts.
const transcriptionTopic = "v2.conversations.{id}.transcription"

// emit writes the records of one notification: root is the event as it
// arrived (the record's body), bodyPath where its eventBody is. A
// transcription event carries one utterance per channel; it becomes one
// record per utterance whose body holds that utterance alone, so that each
// record says whose speech it is and a decision about one speaker never
// forwards another's words. Every such record copies the rest of the
// event: bodyLen bounds those copies (ccaas.CheckFanOut).
func (n *normalizer) emit(b *ccaas.Batch, tenant, route, id, topic, pattern string, root map[string]any, bodyPath []string, envTime, received time.Time, bodyLen int) error {
	eventBody := ccaas.Obj(root, bodyPath...)
	if pattern == transcriptionTopic {
		if ts := ccaas.Arr(eventBody, "transcripts"); len(ts) > 1 {
			shared, _ := withTranscript(root, bodyPath, nil)
			if err := ccaas.CheckFanOut(len(ts), shared, bodyLen); err != nil {
				return webhook.Malformed("%v", err)
			}
			for i, t := range ts {
				one, oneBody := withTranscript(root, bodyPath, t)
				var uid string
				if tm, ok := t.(map[string]any); ok {
					uid = ccaas.Str(tm, "utteranceId")
				}
				if uid == "" {
					uid = strconv.Itoa(i)
				}
				lr := b.Record(tenant)
				ccaas.PutMap(lr.Body().SetEmptyMap(), one)
				n.normalise(lr, tenant, route, id+":"+uid, topic, pattern, oneBody, envTime, received)
			}
			return nil
		}
	}
	lr := b.Record(tenant)
	ccaas.PutMap(lr.Body().SetEmptyMap(), root)
	n.normalise(lr, tenant, route, id, topic, pattern, eventBody, envTime, received)
	return nil
}

// withTranscript returns a copy of root whose eventBody (at path) holds the
// one transcript t; maps along the path are copied, the rest is shared.
func withTranscript(root map[string]any, path []string, t any) (map[string]any, map[string]any) {
	out := maps.Clone(root)
	cur := out
	for _, key := range path {
		next := maps.Clone(ccaas.Obj(cur, key))
		if next == nil {
			next = map[string]any{}
		}
		cur[key] = next
		cur = next
	}
	cur["transcripts"] = []any{t}
	return out, cur
}

// normalise sets the event name, timestamps and ccaas.* attributes of one
// record from its topic (concrete, when known) and pattern and its event
// body.
func (n *normalizer) normalise(lr plog.LogRecord, tenant, route, id, topic, pattern string, eventBody map[string]any, envTime, received time.Time) {
	attrs := lr.Attributes()
	attrs.PutStr(ccaas.AttrEventID, id)
	attrs.PutStr(ccaas.AttrEventType, pattern)
	attrs.PutStr(ccaas.AttrEventRoute, route)
	occurred := envTime
	keyer := n.keyer(tenant)

	switch {
	case strings.HasPrefix(pattern, detailPrefix):
		suffix := strings.TrimPrefix(pattern, detailPrefix)
		name, ok := detailEventNames[suffix]
		if !ok {
			name = ccaas.EventVendor
		}
		lr.SetEventName(name)
		if t := parseTime(ccaas.Get(eventBody, "eventTime")); !t.IsZero() {
			occurred = t
		}
		n.detailEvent(attrs, keyer, eventBody)
	case strings.HasPrefix(pattern, "v2.users.{id}.conversations.{id}.recordings"):
		if len(ccaas.Arr(eventBody, "mediaUris")) > 0 {
			lr.SetEventName(ccaas.EventRecordingAvailable)
		} else {
			lr.SetEventName(ccaas.EventRecordingUpdated)
		}
		ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(eventBody, "conversationId"))
		ccaas.PutStr(attrs, ccaas.AttrChannel, "voice")
	case strings.HasPrefix(pattern, "v2.users.{id}.conversations") || strings.HasPrefix(pattern, "v2.routing.queues.{id}.conversations"):
		lr.SetEventName(ccaas.EventInteractionSnapshot)
		n.snapshot(attrs, keyer, eventBody)
		if strings.HasPrefix(pattern, "v2.users.{id}.") {
			// A user's conversations topic is about that user, the agent.
			if _, ok := attrs.Get(ccaas.AttrAgentID); !ok {
				ccaas.PutStr(attrs, ccaas.AttrAgentID, topicUser(topic))
			}
		}
	case isAgentStatusTopic(pattern):
		if t := agentStatus(attrs, pattern, topic, eventBody); !t.IsZero() {
			occurred = t
		}
		name := ccaas.EventAgentStatusChanged
		if _, ok := attrs.Get(ccaas.AttrAgentStatus); !ok {
			name = ccaas.EventVendor // an audit of something else
		}
		lr.SetEventName(name)
	case pattern == transcriptionTopic:
		lr.SetEventName(ccaas.EventTranscriptSegment)
		if t := parseTime(ccaas.Get(eventBody, "eventTime")); !t.IsZero() {
			occurred = t
		}
		ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(eventBody, "conversationId"))
		ccaas.PutStr(attrs, ccaas.AttrChannel, "voice")
		// emit split the event: at most one utterance is left here.
		if ts := ccaas.Arr(eventBody, "transcripts"); len(ts) > 0 {
			if t0, ok := ts[0].(map[string]any); ok {
				if final, ok := ccaas.Bool(t0, "isFinal"); ok {
					attrs.PutBool(ccaas.AttrTranscriptFinal, final)
				}
				ccaas.PutStr(attrs, ccaas.AttrTranscriptChannel, ccaas.Lower(ccaas.Str(t0, "channel")))
				ccaas.PutStr(attrs, ccaas.AttrTranscriptEngine, ccaas.Lower(ccaas.Str(t0, "engineProvider")))
				ccaas.PutStr(attrs, ccaas.AttrTranscriptUtteranceID, ccaas.Str(t0, "utteranceId"))
			}
		}
	case strings.HasPrefix(pattern, "v2.speechandtextanalytics."):
		if strings.HasSuffix(pattern, ".sentiment") {
			lr.SetEventName(ccaas.EventAnalyticsSentiment)
		} else {
			lr.SetEventName(ccaas.EventAnalyticsInsight)
		}
		ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(eventBody, "conversationId"))
		if mt := ccaas.Lower(ccaas.Str(eventBody, "mediaType")); mt != "" {
			attrs.PutStr(ccaas.AttrChannel, channelName(mt))
		}
	default:
		lr.SetEventName(ccaas.EventVendor)
		ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(eventBody, "conversationId"))
	}
	if strings.HasPrefix(pattern, "v2.users.{id}") {
		// User topics are about the user in the topic: the agent.
		if _, ok := attrs.Get(ccaas.AttrAgentID); !ok {
			ccaas.PutStr(attrs, ccaas.AttrAgentID, firstNonEmpty(ccaas.Str(eventBody, "userId"), topicUser(topic)))
		}
	}
	ccaas.SetTimestamps(lr, occurred, received)
}

// Agent presence and routing status topics.
const (
	presenceTopic      = "v2.users.{id}.presence"
	routingStatusTopic = "v2.users.{id}.routingStatus"
	activityTopic      = "v2.users.{id}.activity"
	auditTopicPrefix   = "v2.audits.entitytype."
)

func isAgentStatusTopic(pattern string) bool {
	switch pattern {
	case presenceTopic, routingStatusTopic, activityTopic:
		return true
	}
	return strings.HasPrefix(pattern, auditTopicPrefix)
}

// agentStatus reads an agent's new status (and previous one, when the
// event says) from a presence, routing status, user activity or audit
// event, and returns when it changed. It writes ccaas.agent.status only
// when the event is a status change.
func agentStatus(attrs pcommon.Map, pattern, topic string, body map[string]any) time.Time {
	agent := firstNonEmpty(ccaas.Str(body, "userId"), topicUser(topic))
	presence := func(m map[string]any) string {
		return ccaas.Lower(firstNonEmpty(ccaas.Str(m, "presenceDefinition", "systemPresence"), ccaas.Str(m, "systemPresence")))
	}
	var status, kind string
	var at time.Time
	switch {
	case pattern == presenceTopic:
		status, kind, at = presence(body), "presence", parseTime(ccaas.Get(body, "modifiedDate"))
	case pattern == routingStatusTopic:
		rs := ccaas.Obj(body, "routingStatus")
		if rs == nil {
			rs = body
		}
		status, kind, at = ccaas.Lower(ccaas.Str(rs, "status")), "routing", parseTime(ccaas.Get(rs, "startTime"))
	case pattern == activityTopic:
		agent = firstNonEmpty(agent, ccaas.Str(body, "id"))
		if p := ccaas.Obj(body, "presence"); p != nil {
			status, kind, at = presence(p), "presence", parseTime(ccaas.Get(p, "modifiedDate"))
		}
		if status == "" {
			rs := ccaas.Obj(body, "routingStatus")
			status, kind, at = ccaas.Lower(ccaas.Str(rs, "status")), "routing", parseTime(ccaas.Get(rs, "startTime"))
		}
	default: // an audit: UserPresence, or a routing status audit
		entity := strings.ToLower(ccaas.Str(body, "entityType"))
		if !strings.Contains(entity, "presence") && !strings.Contains(entity, "routingstatus") {
			return time.Time{}
		}
		agent = firstNonEmpty(agent, ccaas.Str(body, "entity", "id"))
	changes:
		for _, pc := range ccaas.Arr(body, "propertyChanges") {
			m, ok := pc.(map[string]any)
			if !ok {
				continue
			}
			switch strings.ToUpper(strings.ReplaceAll(ccaas.Str(m, "property"), "_", "")) {
			case "PRESENCE", "SYSTEMPRESENCE":
				kind = "presence"
			case "ROUTINGSTATUS", "STATUS":
				kind = "routing"
			default:
				continue
			}
			status = ccaas.Lower(lastString(ccaas.Arr(m, "newValues")))
			ccaas.PutStr(attrs, ccaas.AttrAgentPreviousStatus, ccaas.Lower(lastString(ccaas.Arr(m, "oldValues"))))
			break changes
		}
		at = parseTime(ccaas.Get(body, "eventTime"))
	}
	ccaas.PutStr(attrs, ccaas.AttrAgentID, agent)
	if status == "" {
		return at
	}
	attrs.PutStr(ccaas.AttrAgentStatus, status)
	attrs.PutStr(ccaas.AttrAgentStatusType, kind)
	return at
}

// lastString returns the last string of a JSON array.
func lastString(a []any) string {
	for i := len(a) - 1; i >= 0; i-- {
		if s, ok := a[i].(string); ok {
			return s
		}
	}
	return ""
}

// topicUser returns the user id of a concrete v2.users.<id>... topic.
func topicUser(topic string) string {
	rest, ok := strings.CutPrefix(topic, "v2.users.")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ".")
	if !looksLikeID(id) {
		return ""
	}
	return id
}

// detailEvent reads the fields shared by conversation detail events.
func (n *normalizer) detailEvent(attrs pcommon.Map, keyer *subject.Keyer, body map[string]any) {
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(body, "conversationId"))
	ccaas.PutStr(attrs, ccaas.AttrParticipantID, ccaas.Str(body, "participantId"))
	if mt := ccaas.Lower(ccaas.Str(body, "mediaType")); mt != "" {
		attrs.PutStr(ccaas.AttrChannel, channelName(mt))
	}
	direction := ccaas.Lower(ccaas.Str(body, "direction"))
	ccaas.PutStr(attrs, ccaas.AttrDirection, direction)
	ccaas.PutStr(attrs, ccaas.AttrAgentID, ccaas.Str(body, "userId"))
	ccaas.PutStr(attrs, ccaas.AttrQueueID, ccaas.Str(body, "queueId"))
	ccaas.PutStr(attrs, ccaas.AttrDisconnectType, ccaas.Lower(ccaas.Str(body, "disconnectType")))
	ccaas.PutStr(attrs, ccaas.AttrFlowType, ccaas.Lower(ccaas.Str(body, "flowType")))
	ccaas.PutStr(attrs, ccaas.AttrMessageType, ccaas.Lower(ccaas.Str(body, "messageType")))

	// The customer's address: the caller on inbound interactions, the
	// called party on outbound ones. The other end is the business's
	// number (the DNIS the customer dialled, or the caller id shown).
	addr := firstNonEmpty(ccaas.Str(body, "ani"), ccaas.Str(body, "addressFrom"))
	business := firstNonEmpty(ccaas.Str(body, "dnis"), ccaas.Str(body, "addressTo"))
	if direction == "outbound" {
		addr, business = business, addr
	}
	if !ccaas.SetSubject(attrs, keyer, "", addr) {
		ccaas.SetSubject(attrs, keyer, subject.IDTypeOpaque, ccaas.Str(body, "externalContactId"))
	}
	if mt := ccaas.Lower(ccaas.Str(body, "mediaType")); mt == "" || mt == "voice" || mt == "call" || mt == "callback" {
		ccaas.SetBusinessNumber(attrs, business)
	}
	if m := ccaas.Obj(body, "attributes"); m != nil {
		n.participantAttributes(attrs, m)
	}
}

// snapshot reads a conversation snapshot (ConversationEventTopicConversation).
func (n *normalizer) snapshot(attrs pcommon.Map, keyer *subject.Keyer, conv map[string]any) {
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(conv, "id"))
	ccaas.PutStr(attrs, ccaas.AttrRecordingState, ccaas.Lower(ccaas.Str(conv, "recordingState")))
	if sp, ok := ccaas.Bool(conv, "securePause"); ok {
		attrs.PutBool(ccaas.AttrRecordingSecurePause, sp)
	}
	var customer, agent map[string]any
	for _, p := range ccaas.Arr(conv, "participants") {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		switch ccaas.Lower(ccaas.Str(pm, "purpose")) {
		case "customer", "external":
			if customer == nil {
				customer = pm
			}
		case "agent", "user":
			if agent == nil {
				agent = pm
			}
		}
	}
	if agent != nil {
		ccaas.PutStr(attrs, ccaas.AttrAgentID, ccaas.Str(agent, "userId"))
		ccaas.PutStr(attrs, ccaas.AttrQueueID, ccaas.Str(agent, "queueId"))
	}
	if customer == nil {
		return
	}
	ccaas.PutStr(attrs, ccaas.AttrParticipantID, ccaas.Str(customer, "id"))
	if _, ok := attrs.Get(ccaas.AttrQueueID); !ok {
		ccaas.PutStr(attrs, ccaas.AttrQueueID, ccaas.Str(customer, "queueId"))
	}
	var channel, direction string
	for _, media := range [...]struct{ key, channel string }{
		{"calls", "voice"}, {"callbacks", "callback"}, {"chats", "chat"}, {"messages", "message"},
		{"emails", "email"}, {"videos", "video"}, {"cobrowsesessions", "cobrowse"}, {"screenshares", "screenshare"},
	} {
		legs := ccaas.Arr(customer, media.key)
		if len(legs) == 0 {
			continue
		}
		attrs.PutStr(ccaas.AttrChannel, media.channel)
		channel = media.channel
		if leg, ok := legs[len(legs)-1].(map[string]any); ok {
			direction = ccaas.Lower(ccaas.Str(leg, "direction"))
			ccaas.PutStr(attrs, ccaas.AttrDirection, direction)
			if rec, ok := ccaas.Bool(leg, "recording"); ok {
				attrs.PutBool(ccaas.AttrRecordingActive, rec)
			}
			if st := ccaas.Lower(ccaas.Str(leg, "recordingState")); st != "" {
				attrs.PutStr(ccaas.AttrRecordingState, st)
			}
			if sp, ok := ccaas.Bool(leg, "securePause"); ok {
				attrs.PutBool(ccaas.AttrRecordingSecurePause, sp)
			}
			if rs := ccaas.Obj(leg, "recordersState"); rs != nil {
				states := make(map[string]any, len(rs))
				for k, v := range rs {
					if s, ok := v.(string); ok {
						states[k] = ccaas.Lower(s)
					}
				}
				ccaas.PutMap(attrs.PutEmptyMap(ccaas.AttrRecordingRecordersState), states)
			}
		}
		break
	}
	ccaas.SetSubject(attrs, keyer, "", ccaas.Str(customer, "address"))
	if channel == "voice" || channel == "callback" {
		// The number the customer's call leg connects to: the DNIS, or on
		// outbound calls the caller id.
		business := ccaas.Str(customer, "dnis")
		if direction == "outbound" {
			business = ccaas.Str(customer, "ani")
		}
		ccaas.SetBusinessNumber(attrs, business)
	}
	if m := ccaas.Obj(customer, "attributes"); m != nil {
		n.participantAttributes(attrs, m)
	}
}

// participantAttributes reads the participant attributes (participant
// data) an Architect flow set: the mapped consent signals, the played
// notice and location hints.
func (n *normalizer) participantAttributes(attrs pcommon.Map, m map[string]any) {
	n.consentSignals(attrs, m)
	get := func(k string) (any, bool) {
		v, ok := m[k]
		return v, ok
	}
	n.notice.Apply(attrs, get)
	n.location.Apply(attrs, get)
}

// consentSignals copies the participant attributes named in
// consent_attributes to ccaas.consent.signal.<name>.
func (n *normalizer) consentSignals(attrs pcommon.Map, participantAttrs map[string]any) {
	for attr, sig := range n.consentAttrs {
		if v, ok := participantAttrs[attr]; ok {
			ccaas.PutConsentSignal(attrs, sig, v)
		}
	}
}

// channelName maps Genesys media types to ccaas.channel values.
func channelName(mediaType string) string {
	switch mediaType {
	case "call":
		return "voice"
	case "internalmessage":
		return "internal_message"
	case "screenmonitoring":
		return "screen_monitoring"
	default:
		return mediaType
	}
}

// topicPattern replaces the ids in a concrete topic name with {id}, giving
// the pattern Genesys documents (and EventBridge sends as detail-type).
func topicPattern(topic string) string {
	if !strings.ContainsRune(topic, '-') {
		return topic
	}
	parts := strings.Split(topic, ".")
	for i, p := range parts {
		if looksLikeID(p) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, ".")
}

// looksLikeID reports whether s is a UUID (Genesys ids are).
func looksLikeID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// parseTime reads epoch milliseconds (a number or a string of digits) or an
// RFC 3339 timestamp; anything else is the zero time.
func parseTime(v any) time.Time {
	switch t := v.(type) {
	case json.Number:
		if ms, err := strconv.ParseInt(string(t), 10, 64); err == nil && ms > 0 {
			return time.UnixMilli(ms).UTC()
		}
	case string:
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return ts.UTC()
		}
		if ms, err := strconv.ParseInt(t, 10, 64); err == nil && ms > 0 {
			return time.UnixMilli(ms).UTC()
		}
	}
	return time.Time{}
}

func ptr[T any](v T) *T { return &v }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
