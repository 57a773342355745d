package segmentreceiver

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/webhook"
)

// Route names (metrics label and ccaas.event.route).
const (
	routeWebhook  = "webhook"
	routeTrack    = "track"
	routeIdentify = "identify"
	routePage     = "page"
	routeScreen   = "screen"
	routeGroup    = "group"
	routeAlias    = "alias"
	routeBatch    = "batch"
)

// Segment event types.
const (
	typeTrack    = "track"
	typeIdentify = "identify"
	typePage     = "page"
	typeScreen   = "screen"
	typeGroup    = "group"
	typeAlias    = "alias"
	typeDelete   = "delete" // webhook destinations only: a deletion (GDPR) request
)

// trackingTypes are the event types the Tracking API accepts.
var trackingTypes = map[string]bool{
	typeTrack: true, typeIdentify: true, typePage: true, typeScreen: true, typeGroup: true, typeAlias: true,
}

// Routes names the routes the decoder understands.
var Routes = []string{routeWebhook, routeTrack, routeIdentify, routePage, routeScreen, routeGroup, routeAlias, routeBatch}

// NewDecoder returns the decoder of a segment receiver configured by cfg
// (a *Config): it makes of a body, without authenticating it, the records
// the receiver would. Events of a source the configuration does not list
// (or of no source: tenant "") are keyed with subject_salt, as in
// insecure mode.
func NewDecoder(cfg component.Config) (webhook.Decoder, error) {
	c := *cfg.(*Config)
	c.InsecureAllowUnauthenticated = true
	n, err := newNormalizer(&c, "")
	if err != nil {
		return nil, err
	}
	return decoder{n}, nil
}

type decoder struct{ n *normalizer }

func (decoder) Routes() []string { return Routes }

func (d decoder) Decode(route string, body []byte, tenant string) (plog.Logs, error) {
	ri := &requestInfo{tenant: tenant, route: route, received: time.Now()}
	if route == routeWebhook {
		events, err := webhookEvents(body)
		if err != nil {
			return plog.Logs{}, err
		}
		return d.n.records(events, "", ri)
	}
	for _, tr := range trackingRoutes {
		if tr.name != route {
			continue
		}
		tb, err := parseTracking(body, tr.typ)
		if err != nil {
			return plog.Logs{}, err
		}
		if tb.invalid != nil {
			return plog.Logs{}, tb.invalid
		}
		return d.n.records(tb.events, tr.typ, ri)
	}
	return plog.Logs{}, fmt.Errorf("unknown segment route %q (want one of %v)", route, Routes)
}

// decodeObjectOrArray parses a body that holds one JSON object or an array
// of objects.
func decodeObjectOrArray(body []byte) ([]map[string]any, error) {
	v, err := ccaas.DecodeJSON(body)
	if err != nil {
		return nil, webhook.Malformed("%v", err)
	}
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}, nil
	case []any:
		return objectArray(t, "the array")
	default:
		return nil, webhook.Malformed("the body must be a JSON object or an array of objects")
	}
}

func objectArray(a []any, what string) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(a))
	for i, e := range a {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, webhook.Malformed("element %d of %s is not a JSON object", i, what)
		}
		out = append(out, o)
	}
	return out, nil
}

// webhookEvents decodes a webhook delivery: one Segment event, or an array
// of them (Actions batching).
func webhookEvents(body []byte) ([]map[string]any, error) {
	return decodeObjectOrArray(body)
}

// trackingBody is a decoded Tracking API request.
type trackingBody struct {
	events    []map[string]any
	writeKeys []string // the distinct write keys found in the body
	// invalid is a problem with the events, reported only once the request
	// is authenticated.
	invalid error
}

// parseTracking decodes a Tracking API body. typ is the type the path
// implies; "" is a batch. Write keys are taken out of the events: they are
// credentials, and records leave the receiver.
func parseTracking(body []byte, typ string) (*trackingBody, error) {
	v, err := ccaas.DecodeJSON(body)
	if err != nil {
		return nil, webhook.Malformed("%v", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, webhook.Malformed("the body must be a JSON object")
	}
	tb := &trackingBody{}
	if err := tb.takeWriteKey(root); err != nil {
		return nil, err
	}
	if typ != "" {
		tb.events = []map[string]any{root}
		switch got := ccaas.Str(root, "type"); {
		case got == "":
			root["type"] = typ
		case got != typ:
			tb.invalid = webhook.Malformed("the event's type %q does not match the endpoint (%s)", got, typ)
		}
		return tb, nil
	}

	sentAt, _ := root["sentAt"].(string)
	arr, ok := root["batch"].([]any)
	if !ok {
		tb.invalid = webhook.Malformed(`a batch request needs a "batch" array of events`)
		return tb, nil
	}
	events, err := objectArray(arr, "batch")
	if err != nil {
		tb.invalid = err
		return tb, nil
	}
	// The batch's context, integrations and sentAt apply to every event; an
	// event's own keys win.
	batchContext := ccaas.Obj(root, "context")
	batchIntegrations := ccaas.Obj(root, "integrations")
	if err := ccaas.CheckFanOut(len(events), []any{batchContext, batchIntegrations}, len(body)); err != nil {
		return nil, webhook.Malformed("%v", err)
	}
	for i, ev := range events {
		if err := tb.takeWriteKey(ev); err != nil {
			return nil, err
		}
		if t := ccaas.Str(ev, "type"); !trackingTypes[t] && tb.invalid == nil {
			tb.invalid = webhook.Malformed("batch event %d has type %q; want track, identify, page, screen, group or alias", i, t)
		}
		mergeInto(ev, "context", batchContext)
		mergeInto(ev, "integrations", batchIntegrations)
		if _, ok := ev["sentAt"]; !ok && sentAt != "" {
			ev["sentAt"] = sentAt // the batch was sent when its events were
		}
	}
	tb.events = events
	return tb, nil
}

// takeWriteKey removes writeKey from obj and remembers it.
func (tb *trackingBody) takeWriteKey(obj map[string]any) error {
	v, ok := obj["writeKey"]
	if !ok {
		return nil
	}
	delete(obj, "writeKey")
	k, ok := v.(string)
	if !ok {
		return webhook.Malformed("writeKey must be a string")
	}
	if k == "" {
		return nil
	}
	for _, seen := range tb.writeKeys {
		if seen == k {
			return nil
		}
	}
	tb.writeKeys = append(tb.writeKeys, k)
	return nil
}

// mergeInto merges the keys of defaults into obj[key] (a shallow merge; the
// event's own values win).
func mergeInto(obj map[string]any, key string, defaults map[string]any) {
	if len(defaults) == 0 {
		return
	}
	own, ok := obj[key].(map[string]any)
	if !ok {
		if _, present := obj[key]; present {
			return // not an object: leave the event as it is
		}
		own = make(map[string]any, len(defaults))
		obj[key] = own
	}
	for k, v := range defaults {
		if _, set := own[k]; !set {
			own[k] = v
		}
	}
}
