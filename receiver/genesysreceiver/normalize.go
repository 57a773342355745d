package genesysreceiver

import (
	"encoding/json"
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

	// unknownTenant is the tenant of events that arrive unauthenticated (only
	// with insecure_allow_unauthenticated) and name no organization.
	unknownTenant = "unknown"

	eventBridgeSourcePrefix = "aws.partner/genesys.com/cloud/"
)

// normalizer turns Genesys payloads into records.
type normalizer struct {
	keyers       *subject.Keyers
	consentAttrs map[string]string
	insecure     bool
	version      string
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
		if pattern == "" || !strings.HasPrefix(pattern, "v2.") {
			pattern = topicPattern(topic)
		}
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
		lr := b.Record(tenant)
		ccaas.PutMap(lr.Body().SetEmptyMap(), e)
		n.normalise(lr, tenant, routeEventBridge, id, pattern, eventBody, envTime, received)
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
		lr := b.Record(tenant)
		ccaas.PutMap(lr.Body().SetEmptyMap(), e)
		n.normalise(lr, tenant, routeNotifications, ccaas.DerivedID(topic, eventBody), topicPattern(topic), eventBody, time.Time{}, received)
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

// normalise sets the event name, timestamps and ccaas.* attributes of one
// record from its topic pattern and event body.
func (n *normalizer) normalise(lr plog.LogRecord, tenant, route, id, pattern string, eventBody map[string]any, envTime, received time.Time) {
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
	case pattern == "v2.conversations.{id}.transcription":
		lr.SetEventName(ccaas.EventTranscriptSegment)
		if t := parseTime(ccaas.Get(eventBody, "eventTime")); !t.IsZero() {
			occurred = t
		}
		ccaas.PutStr(attrs, ccaas.AttrInteractionID, ccaas.Str(eventBody, "conversationId"))
		ccaas.PutStr(attrs, ccaas.AttrChannel, "voice")
		if ts := ccaas.Arr(eventBody, "transcripts"); len(ts) > 0 {
			if t0, ok := ts[0].(map[string]any); ok {
				if final, ok := ccaas.Bool(t0, "isFinal"); ok {
					attrs.PutBool(ccaas.AttrTranscriptFinal, final)
				}
				ccaas.PutStr(attrs, ccaas.AttrTranscriptChannel, ccaas.Lower(ccaas.Str(t0, "channel")))
				ccaas.PutStr(attrs, ccaas.AttrTranscriptEngine, ccaas.Str(t0, "engineProvider"))
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
	ccaas.SetTimestamps(lr, occurred, received)
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
	// called party on outbound ones.
	var addr string
	if direction == "outbound" {
		addr = firstNonEmpty(ccaas.Str(body, "dnis"), ccaas.Str(body, "addressTo"))
	} else {
		addr = firstNonEmpty(ccaas.Str(body, "ani"), ccaas.Str(body, "addressFrom"))
	}
	if !ccaas.SetSubject(attrs, keyer, "", addr) {
		ccaas.SetSubject(attrs, keyer, subject.IDTypeOpaque, ccaas.Str(body, "externalContactId"))
	}
	if m := ccaas.Obj(body, "attributes"); m != nil {
		n.consentSignals(attrs, m)
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
	for _, media := range [...]struct{ key, channel string }{
		{"calls", "voice"}, {"callbacks", "callback"}, {"chats", "chat"}, {"messages", "message"},
		{"emails", "email"}, {"videos", "video"}, {"cobrowsesessions", "cobrowse"}, {"screenshares", "screenshare"},
	} {
		legs := ccaas.Arr(customer, media.key)
		if len(legs) == 0 {
			continue
		}
		attrs.PutStr(ccaas.AttrChannel, media.channel)
		if leg, ok := legs[len(legs)-1].(map[string]any); ok {
			ccaas.PutStr(attrs, ccaas.AttrDirection, ccaas.Lower(ccaas.Str(leg, "direction")))
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
				m := attrs.PutEmptyMap(ccaas.AttrRecordingRecordersState)
				for k, v := range rs {
					if s, ok := v.(string); ok {
						m.PutStr(k, ccaas.Lower(s))
					}
				}
			}
		}
		break
	}
	ccaas.SetSubject(attrs, keyer, "", ccaas.Str(customer, "address"))
	if m := ccaas.Obj(customer, "attributes"); m != nil {
		n.consentSignals(attrs, m)
	}
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

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
