package segmentreceiver

import (
	"context"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

// Routes and headers.
const (
	// PathWebhook receives the Segment webhook destination (Webhooks Classic
	// or Webhooks Actions).
	PathWebhook = "/segment/webhook"

	// HeaderSignature carries the webhook signature: hex HMAC-SHA1 of the raw
	// body keyed with the destination's shared secret (for a batch: of the
	// first event only).
	HeaderSignature = "X-Signature"

	// HeaderGPC is the Global Privacy Control request header; "1" opts the
	// person out of sale and sharing.
	HeaderGPC = "Sec-GPC"

	// ContentTypeText is what analytics.js and the mobile SDKs send their
	// JSON as (a "simple" request that needs no CORS preflight).
	ContentTypeText = "text/plain"
)

// trackingRoutes are the Segment HTTP Tracking API endpoints. The one-letter
// paths are the ones analytics.js (/v1/t, /v1/p, ...) and the mobile SDKs
// (/v1/b) post to; /v1/import is the API's historic alias of /v1/batch.
var trackingRoutes = []struct {
	name, typ string // typ "" = batch
	paths     []string
}{
	{routeTrack, typeTrack, []string{"/v1/track", "/v1/t"}},
	{routeIdentify, typeIdentify, []string{"/v1/identify", "/v1/i"}},
	{routePage, typePage, []string{"/v1/page", "/v1/p"}},
	{routeScreen, typeScreen, []string{"/v1/screen", "/v1/s"}},
	{routeGroup, typeGroup, []string{"/v1/group", "/v1/g"}},
	{routeAlias, typeAlias, []string{"/v1/alias", "/v1/a"}},
	{routeBatch, "", []string{"/v1/batch", "/v1/b", "/v1/import"}},
}

type segmentReceiver struct {
	server *webhook.Server
	// live holds the handlers of the tenants in force (the listed ones and
	// tenants_file's).
	live *tenant.Live[handlers]
}

// handlers serve requests for one version of the tenants.
type handlers struct {
	cfg  *Config
	norm *normalizer

	batchHeader   string
	sharedSecrets [][]byte // every tenant's webhook shared secrets...
	sharedOwners  []string // ...and the tenant each belongs to
	tenantShared  map[string][][]byte
	batchTokens   signature.TokenSet
	writeKeys     signature.TokenSet
}

func newHandlers(cfg *Config, version string) (*handlers, error) {
	r := &handlers{cfg: cfg, batchHeader: cfg.batchAuthHeader(), tenantShared: map[string][][]byte{}}
	norm, err := newNormalizer(cfg, version)
	if err != nil {
		return nil, err
	}
	r.norm = norm
	for _, t := range cfg.Tenants {
		for _, s := range t.SharedSecrets {
			r.sharedSecrets = append(r.sharedSecrets, []byte(s))
			r.sharedOwners = append(r.sharedOwners, t.SourceID)
			r.tenantShared[t.SourceID] = append(r.tenantShared[t.SourceID], []byte(s))
		}
		for _, s := range t.BatchAuthSecrets {
			r.batchTokens.Add(string(s), t.SourceID)
		}
		for _, k := range t.WriteKeys {
			r.writeKeys.Add(string(k), t.SourceID)
		}
	}
	return r, nil
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Logs) (*segmentReceiver, error) {
	live, err := tenant.NewMerged(cfg.Receiver, cfg, metadata.Type.String(), "source_id", set.Logger,
		func(c *Config) *[]TenantConfig { return &c.Tenants }, (*Config).Validate,
		func(c *Config) (*handlers, error) { return newHandlers(c, set.BuildInfo.Version) })
	if err != nil {
		return nil, err
	}
	r := &segmentReceiver{live: live}

	// Webhooks (Actions) mappings send with POST, PUT or PATCH.
	routes := []webhook.Route{{Path: PathWebhook, Name: routeWebhook, Methods: []string{http.MethodPost, http.MethodPut, http.MethodPatch}, Handle: tenant.Handle(live, (*handlers).handleWebhook)}}
	for _, tr := range trackingRoutes {
		route, typ := tr.name, tr.typ
		handle := func(req *webhook.Request) (plog.Logs, error) { return live.Load().handleTracking(route, typ, req) }
		for _, p := range tr.paths {
			routes = append(routes, webhook.Route{
				Path:         p,
				Name:         tr.name,
				ContentTypes: []string{webhook.ContentTypeJSON, ContentTypeText},
				Handle:       handle,
				Respond:      respondLikeSegment,
			})
		}
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	tel := webhook.Telemetry{Requests: tb.ConsentryWebhookRequests, Duplicates: tb.ConsentryWebhookDuplicates}
	server, err := webhook.NewServer(&cfg.Config, set, tel, next, routes...)
	if err != nil {
		return nil, err
	}
	r.server = server
	return r, nil
}

func newNormalizer(cfg *Config, version string) (*normalizer, error) {
	keyers, err := cfg.Keyers(cfg.tenants())
	if err != nil {
		return nil, err
	}
	return &normalizer{
		version:   version,
		keyers:    keyers,
		insecure:  cfg.InsecureAllowUnauthenticated,
		tcfFields: splitPaths(cfg.TCFFields),
		gppFields: splitPaths(cfg.GPPFields),
		uspFields: splitPaths(cfg.USPFields),
	}, nil
}

func (r *segmentReceiver) Start(ctx context.Context, host component.Host) error {
	if err := r.server.Start(ctx, host); err != nil {
		return err
	}
	r.live.Start(host)
	return nil
}

func (r *segmentReceiver) Shutdown(ctx context.Context) error {
	r.live.Shutdown()
	return r.server.Shutdown(ctx)
}

// respondLikeSegment answers as api.segment.io does: 200 {"success":true}.
// Segment's SDKs look only at the status code (2xx delivered; 400 and other
// 4xx dropped; 429 and 5xx retried).
func respondLikeSegment(w http.ResponseWriter, _, _ int) {
	w.Header().Set("Content-Type", webhook.ContentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"success":true}` + "\n"))
}

func (r *handlers) handleWebhook(req *webhook.Request) (plog.Logs, error) {
	batched := isArray(req.Body)
	tenant, err := r.webhookTenant(req.HTTP, req.Body, batched)
	if err != nil {
		return plog.Logs{}, err
	}
	events, err := webhookEvents(req.Body)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.records(events, "", r.requestInfo(req, tenant, routeWebhook))
}

// handleTracking handles a request to a tracking route.
func (r *handlers) handleTracking(route, typ string, req *webhook.Request) (plog.Logs, error) {
	basicUser, hasBasic, err := basicWriteKey(req.HTTP)
	if err != nil {
		return plog.Logs{}, err
	}
	basicTenant := ""
	if hasBasic {
		// Authenticate before parsing when the credential is in a header.
		t, ok := r.writeKeys.Lookup(basicUser)
		if !ok {
			return plog.Logs{}, webhook.Unauthenticated()
		}
		basicTenant = t
	}
	// The write key may be in the body (analytics.js, the mobile SDKs):
	// decode, authenticate, and only then judge the events.
	tb, err := parseTracking(req.Body, typ)
	if err != nil {
		return plog.Logs{}, err
	}
	tenant, err := r.trackingTenant(basicUser, basicTenant, hasBasic, tb.writeKeys)
	if err != nil {
		return plog.Logs{}, err
	}
	if tb.invalid != nil {
		return plog.Logs{}, tb.invalid
	}
	return r.norm.records(tb.events, typ, r.requestInfo(req, tenant, route))
}

func (r *handlers) requestInfo(req *webhook.Request, tenant, route string) *requestInfo {
	return &requestInfo{
		tenant:   tenant,
		route:    route,
		gpc:      req.HTTP.Header.Get(HeaderGPC) == "1",
		received: req.Received,
	}
}
