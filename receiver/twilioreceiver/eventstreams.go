package twilioreceiver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
)

// CloudEvent type prefixes Twilio Event Streams uses.
const (
	esTaskRouter     = "com.twilio.taskrouter."
	esVoiceStatus    = "com.twilio.voice.status-callback."
	esVoiceStatusOld = "com.twilio.voice.webhook.status-callback." // renamed in February 2024
	esVoice          = "com.twilio.voice."
	esConversations  = "com.twilio.conversations."
	esMessaging      = "com.twilio.messaging."
	esInboundMessage = "com.twilio.messaging.inbound-message.received"
	esMessageStatus  = "com.twilio.messaging.message." // queued, sent, delivered, read, undelivered, failed
)

// eventStreams handles an Event Streams webhook sink delivery: a JSON array
// of CloudEvents (a single CloudEvent object is accepted too). cred is the
// account whose token signed the request (nil only for unsigned requests in
// insecure mode).
func (n *normalizer) eventStreams(body []byte, cred *account, received time.Time) (plog.Logs, error) {
	v, err := ccaas.DecodeJSON(body)
	if err != nil {
		return plog.Logs{}, webhook.Malformed("%v", err)
	}
	var events []any
	switch t := v.(type) {
	case []any:
		events = t
	case map[string]any:
		events = []any{t}
	default:
		return plog.Logs{}, webhook.Malformed("an Event Streams delivery must be a JSON array of CloudEvents")
	}
	if len(events) == 0 {
		return plog.Logs{}, webhook.Malformed("the delivery holds no CloudEvents")
	}
	b := n.newBatch()
	for i, e := range events {
		ce, ok := e.(map[string]any)
		if !ok {
			return plog.Logs{}, webhook.Malformed("element %d of the array is not a JSON object", i)
		}
		id, typ := scalar(ce["id"]), scalar(ce["type"])
		if id == "" || typ == "" {
			return plog.Logs{}, webhook.Malformed("CloudEvent %d needs an id and a type", i)
		}
		data, err := cloudEventData(ce)
		if err != nil {
			return plog.Logs{}, webhook.Malformed("CloudEvent %d: %v", i, err)
		}
		tenant, err := tenantFor(cred, cloudEventAccount(typ, data))
		if err != nil {
			return plog.Logs{}, err
		}
		lr := b.Record(tenant)
		ccaas.PutMap(lr.Body().SetEmptyMap(), ce)
		ev := n.cloudEvent(lr.Attributes(), n.keyer(tenant), typ, data)
		if t := parseTime(scalar(ce["time"])); !t.IsZero() {
			ev.occurred = t
		}
		setCommon(lr, routeEventStreams, id, typ, ev, received)
	}
	return b.Logs(), nil
}

// cloudEventAccount finds the account SID an event belongs to.
func cloudEventAccount(typ string, data map[string]any) string {
	if data == nil {
		return ""
	}
	if strings.HasPrefix(typ, esVoice) {
		if p := voiceParameters(data); p != nil {
			if sid := scalar(p["AccountSid"]); sid != "" {
				return sid
			}
		}
	}
	return firstNonEmpty(scalar(data["account_sid"]), scalar(data["AccountSid"]), scalar(data["accountSid"]),
		scalar(data["accountId"]), ccaas.Str(data, "payload", "account_sid"))
}

// cloudEventData returns a CloudEvent's data as an object. Data may arrive
// as a JSON document encoded in a string; when the event's content type is
// JSON (or not a media type at all, which CloudEvents reads as JSON), the
// string is decoded, the event's body holds the decoded object, and the
// account check applies to it like to any other data. A string that does
// not decode to an object is an error: the account it belongs to could not
// be checked.
func cloudEventData(ce map[string]any) (map[string]any, error) {
	switch d := ce["data"].(type) {
	case map[string]any:
		return d, nil
	case string:
		if !jsonContentType(scalar(ce["datacontenttype"])) {
			return nil, nil
		}
		v, err := ccaas.DecodeJSON([]byte(d))
		if err != nil {
			return nil, fmt.Errorf("data is a string that is not JSON: %w", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("data is a JSON string that does not hold an object")
		}
		ce["data"] = m
		return m, nil
	default:
		return nil, nil
	}
}

// jsonContentType reports whether a CloudEvent datacontenttype says JSON:
// absent, application/json, any +json type, or a value that is not a media
// type at all (Twilio's documented examples put a timestamp there).
func jsonContentType(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(ct))
	if ct == "" || !strings.Contains(ct, "/") {
		return true
	}
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "text/json"
}

// voiceParameters returns the classic callback parameters a voice event
// carries (Voice.WebhookEvent: data.request.parameters).
func voiceParameters(data map[string]any) map[string]any {
	if p := ccaas.Obj(data, "request", "parameters"); p != nil {
		return p
	}
	return ccaas.Obj(data, "parameters")
}

// cloudEvent normalises one CloudEvent by its type.
func (n *normalizer) cloudEvent(attrs pcommon.Map, k *subject.Keyer, typ string, data map[string]any) event {
	switch {
	case strings.HasPrefix(typ, esTaskRouter):
		payload := ccaas.Obj(data, "payload")
		if payload == nil {
			payload = data
		}
		f := renamed{m: payload, names: esTaskRouterNames}
		return n.taskRouter(attrs, k, f, firstNonEmpty(f.get("EventType"), strings.TrimPrefix(typ, esTaskRouter)))

	case strings.HasPrefix(typ, esVoice):
		params := voiceParameters(data)
		if params == nil {
			params = data
		}
		f := jsonFields(params)
		if f.get("RecordingStatus") != "" {
			return n.recording(attrs, k, f)
		}
		ev := n.voiceStatus(attrs, k, f)
		rest := strings.TrimPrefix(strings.TrimPrefix(typ, esVoiceStatusOld), esVoiceStatus)
		switch {
		case rest == typ || !strings.HasPrefix(rest, "call."):
			// TwiML, answering-machine detection and other voice events
			// describe the call but are not status changes.
			ev.name = ccaas.EventVendor
		case f.get("CallStatus") == "":
			ev.name = callEventName(strings.TrimPrefix(rest, "call."))
		}
		if ev.occurred.IsZero() {
			ev.occurred = parseTime(scalar(data["timestamp"]))
		}
		return ev

	case strings.HasPrefix(typ, esConversations):
		et, ok := esConversationTypes[strings.TrimPrefix(typ, esConversations)]
		if !ok {
			et = typ
		}
		return n.conversation(attrs, k, jsonFields(data), et)

	case strings.HasPrefix(typ, esMessaging):
		f := renamed{m: data, names: esMessagingNames}
		switch {
		case typ == esInboundMessage:
			return n.message(attrs, k, f, true, "")
		case strings.HasPrefix(typ, esMessageStatus):
			return n.message(attrs, k, f, false, strings.TrimPrefix(typ, esMessageStatus))
		}
		return event{name: ccaas.EventVendor}

	case strings.HasPrefix(typ, esIntelligence):
		return intelligenceEvent(attrs, typ, data)

	default:
		return event{name: ccaas.EventVendor}
	}
}
