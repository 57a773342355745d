package genesysreceiver

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

// Routes.
const (
	PathEventBridge   = "/genesys/eventbridge"
	PathNotifications = "/genesys/notifications"
	PathOpenMessaging = "/genesys/openmessaging"
	// PathDataActions receives the bodies of Web Services Data Actions; the
	// last segment names the data_actions mapping that reads them.
	PathDataActions = "/genesys/dataactions/{action}"

	// HeaderHubSignature carries Open Messaging's signature:
	// "sha256=" + base64(HMAC-SHA256(secret, raw body)).
	HeaderHubSignature = "X-Hub-Signature-256"
)

type genesysReceiver struct {
	server *webhook.Server
	// live holds the handlers of the tenants in force (the listed ones and
	// tenants_file's).
	live *tenant.Live[handlers]
}

// handlers serve requests for one version of the tenants.
type handlers struct {
	cfg  *Config
	norm *normalizer

	apiKeyHeader string
	tokens       signature.TokenSet
	basic        signature.BasicSet
	omSecrets    [][]byte
	omOwners     []string
}

func newHandlers(cfg *Config, version string) (*handlers, error) {
	r := &handlers{cfg: cfg, apiKeyHeader: cfg.apiKeyHeader()}
	norm, err := newNormalizer(cfg, version)
	if err != nil {
		return nil, err
	}
	r.norm = norm
	for _, t := range cfg.Tenants {
		for _, k := range t.APIKeys {
			r.tokens.Add(string(k), t.OrganizationID)
		}
		for _, b := range t.BasicAuth {
			r.basic.Add(b.Username, string(b.Password), t.OrganizationID)
		}
		for _, s := range t.OpenMessagingSecrets {
			r.omSecrets = append(r.omSecrets, []byte(s))
			r.omOwners = append(r.omOwners, t.OrganizationID)
		}
	}
	return r, nil
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Logs) (*genesysReceiver, error) {
	live, err := tenant.NewMerged(cfg.Receiver, cfg, metadata.Type.String(), "organization_id", set.Logger,
		func(c *Config) *[]TenantConfig { return &c.Tenants }, (*Config).Validate,
		func(c *Config) (*handlers, error) { return newHandlers(c, set.BuildInfo.Version) })
	if err != nil {
		return nil, err
	}
	r := &genesysReceiver{live: live}

	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	tel := webhook.Telemetry{Requests: tb.ConsentryWebhookRequests, Duplicates: tb.ConsentryWebhookDuplicates}
	server, err := webhook.NewServer(&cfg.Config, set, tel, next,
		webhook.Route{Path: PathEventBridge, Name: routeEventBridge, Handle: tenant.Handle(live, (*handlers).handleEventBridge)},
		webhook.Route{Path: PathNotifications, Name: routeNotifications, Handle: tenant.Handle(live, (*handlers).handleNotifications)},
		webhook.Route{Path: PathOpenMessaging, Name: routeOpenMessaging, Handle: tenant.Handle(live, (*handlers).handleOpenMessaging)},
		webhook.Route{Path: PathDataActions, Name: routeDataActions, Handle: tenant.Handle(live, (*handlers).handleDataActions)},
	)
	if err != nil {
		return nil, err
	}
	r.server = server
	return r, nil
}

func (r *genesysReceiver) Start(ctx context.Context, host component.Host) error {
	if err := r.server.Start(ctx, host); err != nil {
		return err
	}
	r.live.Start(host)
	return nil
}

func (r *genesysReceiver) Shutdown(ctx context.Context) error {
	r.live.Shutdown()
	return r.server.Shutdown(ctx)
}

// credentialTenant authenticates a request by API key or Basic credentials.
// It returns the tenant the credential belongs to; "" with ok=true means an
// unauthenticated request that insecure_allow_unauthenticated lets through.
func (r *handlers) credentialTenant(req *http.Request) (string, error) {
	if v := req.Header.Get(r.apiKeyHeader); v != "" {
		if r.apiKeyHeader == "Authorization" {
			v = strings.TrimPrefix(v, "Bearer ")
		}
		if org, ok := r.tokens.Lookup(v); ok {
			return org, nil
		}
		return "", webhook.Unauthenticated()
	}
	if user, pass, ok := req.BasicAuth(); ok {
		if org, ok := r.basic.Lookup(user, pass); ok {
			return org, nil
		}
		return "", webhook.Unauthenticated()
	}
	if r.cfg.InsecureAllowUnauthenticated {
		return "", nil
	}
	return "", webhook.Unauthenticated()
}

func (r *handlers) handleEventBridge(req *webhook.Request) (plog.Logs, error) {
	org, err := r.credentialTenant(req.HTTP)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.eventBridge(req.Body, org, req.Received)
}

func (r *handlers) handleNotifications(req *webhook.Request) (plog.Logs, error) {
	org, err := r.credentialTenant(req.HTTP)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.notifications(req.Body, org, req.Received)
}

func (r *handlers) handleDataActions(req *webhook.Request) (plog.Logs, error) {
	org, err := r.credentialTenant(req.HTTP)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.dataAction(req.HTTP.PathValue("action"), req.Body, org, req.Received)
}

func (r *handlers) handleOpenMessaging(req *webhook.Request) (plog.Logs, error) {
	org := ""
	sig := req.HTTP.Header.Get(HeaderHubSignature)
	switch {
	case sig != "":
		mac, ok := strings.CutPrefix(sig, "sha256=")
		if !ok {
			return plog.Logs{}, webhook.Unauthenticated()
		}
		i := signature.VerifyHMAC(signature.SHA256, signature.Base64, r.omSecrets, mac, req.Body)
		if i < 0 {
			return plog.Logs{}, webhook.Unauthenticated()
		}
		org = r.omOwners[i]
	case !r.cfg.InsecureAllowUnauthenticated:
		return plog.Logs{}, webhook.Unauthenticated()
	}
	return r.norm.openMessaging(req.Body, org, req.Received)
}
