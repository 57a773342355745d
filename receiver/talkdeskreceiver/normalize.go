package talkdeskreceiver

import (
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/region"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

const (
	routeWebhook        = "webhook"
	routeEvents         = "events"
	routeDigitalConnect = "digital_connect"

	// unknownTenant is the tenant of events that name no account and arrive
	// unauthenticated (insecure mode) or signed through the Events API.
	unknownTenant = "unknown"

	// recordingSuffix turns a call-end event id into the id of the
	// recording record derived from it.
	recordingSuffix = ":recording"

	// redacted replaces credentials Talkdesk puts in Events API payloads.
	redacted = "[redacted by consentry]"
)

// credentialFields are Events API data fields that hold the partner app's
// credentials (app.installed, app.credentials_rotated). They never leave the
// receiver: a consent gate must not forward API secrets to an exporter.
var credentialFields = []string{"client_secret", "private_key"}

// account is the tenant a credential authenticated.
type account struct {
	id, name string
}

// normalizer turns Talkdesk payloads into records.
type normalizer struct {
	keyers   *subject.Keyers
	consent  map[string]string // payload field -> signal name
	notice   ccaas.NoticeMapping
	location ccaas.LocationMapping
	aliases  map[string]string // trigger key -> canonical trigger name
	fields   FieldsConfig      // where the payload keeps what the receiver reads
	version  string
}

// newNormalizer makes the normalizer of a receiver configured by cfg.
func newNormalizer(cfg *Config, version string) (*normalizer, error) {
	keyers, err := cfg.Keyers(cfg.tenants())
	if err != nil {
		return nil, err
	}
	aliases := make(map[string]string, len(cfg.TriggerAliases))
	for alias, target := range cfg.TriggerAliases {
		aliases[triggerKey(alias)] = target
	}
	return &normalizer{version: version, keyers: keyers, consent: cfg.ConsentFields, notice: cfg.NoticeFields,
		location: cfg.LocationFields, aliases: aliases, fields: cfg.Fields}, nil
}

// keyer falls back to the receiver-wide salt: Events API deliveries may
// name accounts that have no tenant entry of their own.
func (n *normalizer) keyer(tenant string) *subject.Keyer {
	return n.keyers.Resolve(tenant, true)
}

func (n *normalizer) newBatch() *ccaas.Batch {
	return ccaas.NewBatch(ccaas.VendorTalkdesk, metadata.ScopeName, n.version)
}

// resolveTrigger maps a URL trigger name to its meaning; unknown names keep
// their spelling and become ccaas.vendor_event, and report false.
func (n *normalizer) resolveTrigger(name string) (trigger, bool) {
	if target, ok := n.aliases[triggerKey(name)]; ok {
		name = target
	}
	if t, ok := lookupTrigger(name); ok {
		return t, true
	}
	return trigger{name: name, event: ccaas.EventVendor}, false
}

// fields reads payload fields from up to two objects, the first one that
// has a value winning (Events API: data, then the envelope). A name may be
// a dotted path.
type fields struct{ primary, secondary map[string]any }

func (f fields) get(name string) any {
	v := ccaas.Lookup(f.primary, name)
	if _, has := text(v); has {
		return v
	}
	if w := ccaas.Lookup(f.secondary, name); w != nil {
		return w
	}
	return v
}

func (f fields) str(name string) string {
	s, _ := text(f.get(name))
	return s
}

// first returns the first of names that has a value.
func (f fields) first(names ...string) string {
	for _, name := range names {
		if s := f.str(name); s != "" {
			return s
		}
	}
	return ""
}

// webhook handles one HTTP Notifier or Webhook Trigger callback: a JSON
// object built from the automation's template (or an array of them).
// cred is the account whose token authenticated the request; a zero cred
// (insecure mode) takes the account from the payload.
func (n *normalizer) webhook(triggerName string, body []byte, cred account, received time.Time) (plog.Logs, error) {
	events, err := webhook.DecodeObjects(body)
	if err != nil {
		return plog.Logs{}, err
	}
	urlTrigger, known := n.resolveTrigger(triggerName)
	b := n.newBatch()
	for _, e := range events {
		f := fields{primary: e}
		tr := urlTrigger
		if !known {
			// The URL does not say; a payload that names its event
			// (Talkdesk's own call events: "event": "call_finished") does.
			if t, ok := lookupTrigger(f.first(n.fields.Event...)); ok {
				tr = t
			}
		}
		tenant, err := tenantFor(cred, f.str("account_id"), f.str("account_name"))
		if err != nil {
			return plog.Logs{}, err
		}
		id := f.first("event_id")
		if id == "" {
			id = ccaas.DerivedID(triggerKey(tr.name), e)
		}
		n.emit(b, tenant, routeWebhook, id, tr, e, f, received)
	}
	return b.Logs(), nil
}

// events handles one Events API delivery: {"id","type","created_at",
// "api_version","app_id",...,"data":{"account_id",...}} (or an array of
// them). Its signature was checked before.
func (n *normalizer) events(body []byte, received time.Time) (plog.Logs, error) {
	evs, err := webhook.DecodeObjects(body)
	if err != nil {
		return plog.Logs{}, err
	}
	b := n.newBatch()
	for i, e := range evs {
		data := ccaas.Obj(e, "data")
		env := fields{primary: e}
		typ := env.first("type", "event_type", "event")
		if typ == "" {
			return plog.Logs{}, webhook.Malformed("event %d has no type; is this an Events API delivery?", i)
		}
		for _, k := range credentialFields {
			for _, m := range [...]map[string]any{data, e} {
				if _, ok := m[k]; ok {
					m[k] = redacted
				}
			}
		}
		id := env.first("event_id", "id")
		if id == "" {
			id = ccaas.DerivedID(typ, e)
		}
		f := fields{primary: data, secondary: e}
		tenant := f.str("account_id")
		if tenant == "" {
			tenant = unknownTenant
		}
		tr, ok := lookupTrigger(typ)
		if !ok {
			tr = trigger{event: ccaas.EventVendor}
		}
		tr.name = typ // the Events API's own spelling
		n.emit(b, tenant, routeEvents, id, tr, e, f, received)
	}
	return b.Logs(), nil
}

// tenantFor decides the tenant of one webhook event: the credential's
// account, which must agree with any account the event names.
func tenantFor(cred account, eventID, eventName string) (string, error) {
	if cred.id == "" {
		if eventID != "" {
			return eventID, nil
		}
		return unknownTenant, nil
	}
	if eventID != "" && eventID != cred.id {
		return "", webhook.Forbidden("the event belongs to another Talkdesk account than the token's")
	}
	if cred.name != "" && eventName != "" && !strings.EqualFold(eventName, cred.name) {
		return "", webhook.Forbidden("the event belongs to another Talkdesk account than the token's")
	}
	return cred.id, nil
}

// emit writes the record(s) for one event. An event that carries a
// recording link (in any of the recording_url fields) becomes two records:
// the event without the link, and a ccaas.recording.available record with
// it, so that the link flows only where the policy lets recordings flow.
func (n *normalizer) emit(b *ccaas.Batch, tenant, route, id string, tr trigger, raw map[string]any, f fields, received time.Time) {
	var links []string
	for _, name := range n.fields.RecordingURL {
		if isLink(f.str(name)) {
			links = append(links, name)
		}
	}
	split := len(links) > 0 && tr.event != ccaas.EventRecordingAvailable
	lr := b.Record(tenant)
	body := lr.Body().SetEmptyMap()
	ccaas.PutMap(body, raw)
	n.normalise(lr, tenant, route, id, tr.event, tr, f, received)
	if !split {
		return
	}
	rec := b.Record(tenant)
	body.CopyTo(rec.Body().SetEmptyMap())
	lr.Attributes().CopyTo(rec.Attributes())
	rec.SetTimestamp(lr.Timestamp())
	rec.SetObservedTimestamp(lr.ObservedTimestamp())
	rec.SetEventName(ccaas.EventRecordingAvailable)
	rec.Attributes().PutStr(ccaas.AttrEventID, id+recordingSuffix)
	rec.Attributes().Remove(ccaas.AttrDisconnectType)
	for _, name := range links {
		removeField(body, name)
	}
}

// removeField deletes a field (a name or dotted path) from the body and, for
// Events API and Digital Connect bodies, from their data or payload object.
func removeField(body pcommon.Map, name string) {
	removePath(body, name)
	for _, inner := range [...]string{"data", "payload"} {
		if d, ok := body.Get(inner); ok && d.Type() == pcommon.ValueTypeMap {
			removePath(d.Map(), name)
		}
	}
}

// removePath removes what ccaas.Lookup would find at path.
func removePath(m pcommon.Map, path string) {
	for depth := 0; depth < ccaas.MaxJSONDepth; depth++ {
		if m.Remove(path) {
			return
		}
		head, rest, found := strings.Cut(path, ".")
		if !found {
			return
		}
		v, ok := m.Get(head)
		if !ok || v.Type() != pcommon.ValueTypeMap {
			return
		}
		m, path = v.Map(), rest
	}
}

// normalise sets the event name, timestamps and ccaas.* attributes.
func (n *normalizer) normalise(lr plog.LogRecord, tenant, route, id, event string, tr trigger, f fields, received time.Time) {
	lr.SetEventName(event)
	attrs := lr.Attributes()
	attrs.PutStr(ccaas.AttrEventID, id)
	attrs.PutStr(ccaas.AttrEventType, tr.name)
	attrs.PutStr(ccaas.AttrEventRoute, route)
	ccaas.PutStr(attrs, ccaas.AttrInteractionID, f.first(n.fields.InteractionID...))
	ccaas.PutStr(attrs, ccaas.AttrAgentID, f.first(n.fields.AgentID...))

	callish := tr.call || f.str("call_id") != ""
	switch {
	case tr.channel != "":
		attrs.PutStr(ccaas.AttrChannel, tr.channel)
	case callish:
		attrs.PutStr(ccaas.AttrChannel, "voice")
	}
	dir := tr.direction
	for _, name := range n.fields.Direction {
		if d := direction(f.str(name)); d != "" {
			dir = d
			break
		}
	}
	if dialer, ok := parseBool(f.get("proactive_outbound")); ok && dialer {
		// The outbound dialer called the customer: whatever the trigger's
		// name, the business initiated the call.
		dir = "outbound"
	}
	if callish || tr.channel != "" {
		ccaas.PutStr(attrs, ccaas.AttrDirection, dir)
	}
	if event == ccaas.EventInteractionEnded {
		disconnect := ccaas.Lower(f.str("hangup"))
		if disconnect == "" {
			disconnect = tr.disconnect
		}
		ccaas.PutStr(attrs, ccaas.AttrDisconnectType, disconnect)
	}

	if event == ccaas.EventAgentStatusChanged {
		ccaas.PutStr(attrs, ccaas.AttrAgentStatus, ccaas.Lower(f.first(n.fields.AgentStatus...)))
		ccaas.PutStr(attrs, ccaas.AttrAgentPreviousStatus, ccaas.Lower(f.first(n.fields.PreviousAgentStatus...)))
		attrs.PutStr(ccaas.AttrAgentStatusType, "presence")
	}

	n.setSubject(attrs, n.keyer(tenant), f)
	n.consentSignals(attrs, f)
	n.places(attrs, f)

	occurred := time.Time{}
	for _, name := range timeFields(event) {
		if t := parseTime(f.get(name)); !t.IsZero() {
			occurred = t
			break
		}
	}
	ccaas.SetTimestamps(lr, occurred, received)
}

// timeFields lists where an event's occurrence time is, best first. On
// call-end triggers, timestamp is the end and start_time the start.
func timeFields(event string) []string {
	switch event {
	case ccaas.EventInteractionStarted, ccaas.EventAgentSegmentStarted:
		return []string{"start_time", "timestamp", "created_at", "occurred_at"}
	default:
		return []string{"timestamp", "end_time", "created_at", "updated_at", "occurred_at"}
	}
}

// setSubject derives the subject key from the customer's identifiers, best
// first: the phone fields (the call's contact number, then the contact's
// phone), the e-mail fields, then the contact id fields. talkdesk_phone_number
// is the business line and never the subject.
func (n *normalizer) setSubject(attrs pcommon.Map, k *subject.Keyer, f fields) {
	for _, c := range [...]struct {
		names []string
		typ   subject.IDType
	}{
		{n.fields.CustomerPhone, subject.IDTypePhone},
		{n.fields.CustomerEmail, subject.IDTypeEmail},
		{n.fields.CustomerID, subject.IDTypeOpaque},
	} {
		for _, name := range c.names {
			if ccaas.SetSubject(attrs, k, c.typ, f.str(name)) {
				return
			}
		}
	}
}

// consentSignals copies the fields named in consent_fields to
// ccaas.consent.signal.<name>, as sent (trimmed), and the played notice of
// notice_fields. A mapped field holding an object or a list is unreadable,
// never dropped; an unfilled template placeholder ("{{var}}") is absent.
func (n *normalizer) consentSignals(attrs pcommon.Map, f fields) {
	for field, sig := range n.consent {
		v := f.get(field)
		if s, ok := text(v); ok {
			attrs.PutStr(ccaas.AttrConsentSignalPrefix+sig, s)
		} else if isUnreadable(v) {
			ccaas.MarkUnreadable(attrs, "signal:"+sig)
		}
	}
	n.notice.Apply(attrs, f.lookup)
}

// places writes the location hints: the business line
// (fields.business_phone) and its area code, a US state in the contact's
// free-text address ("..., CA 94105"), and the location_fields.
func (n *normalizer) places(attrs pcommon.Map, f fields) {
	ccaas.SetBusinessNumber(attrs, f.first(n.fields.BusinessPhone...))
	if st := usStateOfAddress(f.first(n.fields.CustomerAddress...)); st != "" {
		ccaas.AddJurisdictionHint(attrs, st, ccaas.PartyCustomer, ccaas.HintAddress)
	}
	n.location.Apply(attrs, f.lookup)
}

// lookup reads a field for a mapping: present when it has a value.
func (f fields) lookup(name string) (any, bool) {
	v := f.get(name)
	if s, ok := v.(string); ok && isPlaceholder(strings.TrimSpace(s)) {
		return nil, false
	}
	return v, v != nil
}

func isUnreadable(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// usAddressState finds ", CA 94105" (a US state code before a ZIP code) in
// a free-text address.
var usAddressState = regexp.MustCompile(`(?:^|[\s,])([A-Za-z]{2})\s+\d{5}(?:-\d{4})?\s*(?:,\s*(?:US|USA|United States)\s*)?$`)

// usStateOfAddress returns the ISO 3166-2 code of the US state a free-text
// address ends with, or "".
func usStateOfAddress(addr string) string {
	m := usAddressState.FindStringSubmatch(strings.TrimSpace(addr))
	if m == nil {
		return ""
	}
	code := region.Parse(m[1])
	if !strings.HasPrefix(code, "US-") {
		return ""
	}
	return code
}
