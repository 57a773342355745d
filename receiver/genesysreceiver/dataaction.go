package genesysreceiver

import (
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/webhook"
)

// Data actions. A Web Services Data Action posts whatever its request
// template builds: a workflow fed by a Process Automation trigger with
// "TopLevelPrimitives" typically posts the event's top-level fields
// (conversationId, userId, wrapupCode, ...), an Architect flow the flow's
// variables. No envelope says what the body is, so a configured mapping
// (data_actions) does.

// defaultDataAction is the mapping /genesys/notifications uses for bodies
// that are not a notification envelope.
const defaultDataAction = "default"

// isEnvelope reports whether a body is a notification envelope.
func isEnvelope(e map[string]any) bool {
	_, topic := e["topicName"]
	_, body := e["eventBody"]
	return topic || body
}

// dataAction turns data-action bodies (one object, or an array) into
// records with the named mapping.
func (n *normalizer) dataAction(name string, body []byte, credOrg string, received time.Time) (plog.Logs, error) {
	m, ok := n.dataActions[name]
	if !ok {
		return plog.Logs{}, webhook.Errorf(http.StatusNotFound, "no data action mapping %q is configured", name)
	}
	events, err := webhook.DecodeObjects(body)
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	for _, e := range events {
		if err := n.mapDataAction(b, name, &m, e, credOrg, received); err != nil {
			return plog.Logs{}, err
		}
	}
	return b.Logs(), nil
}

// mapDataAction writes the record of one data-action body.
func (n *normalizer) mapDataAction(b *ccaas.Batch, name string, m *DataActionMapping, e map[string]any, credOrg string, received time.Time) error {
	str := func(path string) string {
		if path == "" {
			return ""
		}
		return scalarOf(ccaas.Lookup(e, path))
	}
	tenant, err := tenantFor(credOrg, str(m.OrganizationID))
	if err != nil {
		return err
	}
	eventType := m.EventType
	if eventType == "" {
		eventType = "dataaction." + name
	}
	id := str(m.EventID)
	if id == "" {
		id = ccaas.DerivedID(eventType, e)
	}
	lr := b.Record(tenant)
	ccaas.PutMap(lr.Body().SetEmptyMap(), e)
	lr.SetEventName(m.EventName)
	attrs := lr.Attributes()
	attrs.PutStr(ccaas.AttrEventID, id)
	attrs.PutStr(ccaas.AttrEventType, eventType)
	attrs.PutStr(ccaas.AttrEventRoute, routeDataActions)
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, str(m.InteractionID))
	ccaas.PutStr(attrs, ccaas.AttrParticipantID, str(m.ParticipantID))
	ccaas.PutStr(attrs, ccaas.AttrAgentID, str(m.AgentID))
	ccaas.PutStr(attrs, ccaas.AttrQueueID, str(m.QueueID))
	switch d := ccaas.Lower(str(m.Direction)); d {
	case "inbound", "outbound":
		attrs.PutStr(ccaas.AttrDirection, d)
	}
	if path, ok := strings.CutPrefix(m.Channel, "$."); ok {
		ccaas.PutStr(attrs, ccaas.AttrChannel, channelName(ccaas.Lower(str(path))))
	} else {
		ccaas.PutStr(attrs, ccaas.AttrChannel, m.Channel)
	}
	keyer := n.keyer(tenant)
	for _, p := range m.Subject {
		if ccaas.SetSubject(attrs, keyer, "", str(p)) {
			break
		}
	}
	for path, sig := range m.ConsentAttributes {
		ccaas.PutConsentSignal(attrs, sig, ccaas.Lookup(e, path))
	}
	var occurred time.Time
	if m.Time != "" {
		occurred = parseTime(ccaas.Lookup(e, m.Time))
	}
	ccaas.SetTimestamps(lr, occurred, received)
	return nil
}

// scalarOf renders a JSON scalar as text ("" for objects, arrays, null).
func scalarOf(v any) string {
	return ccaas.Str(map[string]any{"v": v}, "v")
}
