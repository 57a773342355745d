package twilioreceiver

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/webhook"
)

// Conversational Intelligence (formerly Voice Intelligence) reaches the
// receiver three ways:
//
//   - the Rule Execution webhook of an intelligence configuration (JSON:
//     accountId, conversationId, intelligenceConfiguration and an array of
//     operatorResults), on /twilio/intelligence;
//   - the Intelligence Service webhook (JSON: account_sid, service_sid,
//     transcript_sid, customer_key, event_type, e.g.
//     voice_intelligence_transcript_available), on the same route;
//   - Event Streams events com.twilio.intelligence.* (an operator result, or
//     a transcript).
//
// Operator results become analytics records (ccaas.analytics.sentiment for
// a sentiment operator, ccaas.analytics.insight otherwise), one per result;
// transcript notifications become ccaas.transcript.segment.

const esIntelligence = "com.twilio.intelligence."

func (r *handlers) handleIntelligence(req *webhook.Request) (plog.Logs, error) {
	cred, err := r.authenticate(req, "", nil, true)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.intelligence(req.Body, cred, req.Received)
}

// intelligence turns an Intelligence webhook body into records.
func (n *normalizer) intelligence(body []byte, cred *account, received time.Time) (plog.Logs, error) {
	v, err := ccaas.DecodeJSON(body)
	if err != nil {
		return plog.Logs{}, webhook.Malformed("%v", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return plog.Logs{}, webhook.Malformed("an Intelligence webhook body must be a JSON object")
	}
	tenant, err := tenantFor(cred, firstNonEmpty(scalar(root["accountId"]), scalar(root["account_sid"]), scalar(root["accountSid"])))
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	if results, ok := root["operatorResults"].([]any); ok {
		if len(results) == 0 {
			return plog.Logs{}, webhook.Malformed("a Rule Execution webhook without operatorResults")
		}
		shared := make(map[string]any, len(root))
		for k, v := range root {
			if k != "operatorResults" {
				shared[k] = v
			}
		}
		if err := ccaas.CheckFanOut(len(results), shared, len(body)); err != nil {
			return plog.Logs{}, webhook.Malformed("%v", err)
		}
		for i, res := range results {
			op, ok := res.(map[string]any)
			if !ok {
				return plog.Logs{}, webhook.Malformed("operatorResults[%d] is not an object", i)
			}
			// Each record's body is the webhook with this one result, so
			// that a decision about one result never forwards another.
			one := make(map[string]any, len(root))
			for k, v := range root {
				one[k] = v
			}
			one["operatorResults"] = []any{op}
			lr := b.Record(tenant)
			ccaas.PutMap(lr.Body().SetEmptyMap(), one)
			ev := operatorResult(lr.Attributes(), op, scalar(root["conversationId"]))
			id := scalar(op["id"])
			if id == "" {
				id = ccaas.DerivedID("intelligence.rule-execution", op)
			}
			setCommon(lr, routeIntelligence, id, "intelligence.rule-execution", ev, received)
		}
		return b.Logs(), nil
	}
	eventType := scalar(root["event_type"])
	transcript := scalar(root["transcript_sid"])
	if eventType == "" || transcript == "" {
		return plog.Logs{}, webhook.Malformed("an Intelligence webhook needs operatorResults, or an event_type and a transcript_sid")
	}
	lr := b.Record(tenant)
	ccaas.PutMap(lr.Body().SetEmptyMap(), root)
	ev := transcriptNotice(lr.Attributes(), root)
	setCommon(lr, routeIntelligence, "intelligence:"+transcript+":"+eventType, eventType, ev, received)
	return b.Logs(), nil
}

// operatorResult normalises one language operator result (a Rule
// Execution result or the data of com.twilio.intelligence.operator-result.*).
func operatorResult(attrs pcommon.Map, op map[string]any, conversation string) event {
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, firstNonEmpty(conversation, scalar(op["conversationId"])))
	name := ccaas.EventAnalyticsInsight
	operator := ccaas.Obj(op, "operator")
	label := strings.ToLower(firstNonEmpty(scalar(operator["displayName"]), scalar(operator["friendlyName"]), scalar(operator["name"])))
	if strings.Contains(label, "sentiment") {
		name = ccaas.EventAnalyticsSentiment
	}
	if chans := ccaas.Arr(op, "executionDetails", "channels"); len(chans) == 1 {
		ccaas.PutStr(attrs, ccaas.AttrChannel, intelligenceChannel(scalar(chans[0])))
	}
	return event{name: name, occurred: parseTime(scalar(op["dateCreated"]))}
}

// transcriptNotice normalises a notification that a transcript exists (the
// Intelligence Service webhook, com.twilio.intelligence.transcript.*).
// customer_key is the key the application gave the transcript, usually the
// CallSid, which links it to its call.
func transcriptNotice(attrs pcommon.Map, m map[string]any) event {
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, firstNonEmpty(scalar(m["customer_key"]), scalar(m["customerKey"]),
		scalar(m["transcript_sid"]), scalar(m["transcriptSid"]), scalar(m["sid"])))
	attrs.PutStr(ccaas.AttrChannel, "voice")
	attrs.PutBool(ccaas.AttrTranscriptFinal, true)
	return event{name: ccaas.EventTranscriptSegment,
		occurred: parseTime(firstNonEmpty(scalar(m["date_updated"]), scalar(m["dateUpdated"]), scalar(m["date_created"]), scalar(m["dateCreated"])))}
}

// intelligenceChannel maps a Conversation Intelligence channel (SMS, Voice,
// WhatsApp, RCS, ...) to ccaas.channel.
func intelligenceChannel(c string) string {
	switch strings.ToLower(c) {
	case "voice":
		return "voice"
	case "":
		return ""
	case "chat", "webchat":
		return "chat"
	case "email":
		return "email"
	default:
		return "message"
	}
}

// intelligenceEvent normalises an Event Streams com.twilio.intelligence.*
// event.
func intelligenceEvent(attrs pcommon.Map, typ string, data map[string]any) event {
	rest := strings.TrimPrefix(typ, esIntelligence)
	switch {
	case strings.HasPrefix(rest, "operator-result"):
		return operatorResult(attrs, data, "")
	case strings.HasPrefix(rest, "transcript"):
		return transcriptNotice(attrs, data)
	default:
		return event{name: ccaas.EventVendor}
	}
}
