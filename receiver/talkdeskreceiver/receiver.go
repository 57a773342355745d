package talkdeskreceiver

import (
	"context"
	"crypto"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"

	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

// Routes.
const (
	// PathWebhook receives HTTP Notifier and Webhook Trigger callbacks; the
	// last segment names the trigger.
	PathWebhook = "/talkdesk/webhook/{trigger}"
	// PathEvents receives Events API deliveries.
	PathEvents = "/talkdesk/events"
	// PathDigitalConnect receives Digital Connect conversation and message
	// events.
	PathDigitalConnect = "/talkdesk/digital-connect"

	// QueryToken is the query parameter that carries a URL token.
	QueryToken = "token"

	// HeaderSignature and HeaderSignatureID carry the Events API's ECDSA
	// signature (hex, SHA-512 over the raw body) and the id of the key that
	// made it.
	HeaderSignature   = "X-Hub-Ecdsa-Signature"
	HeaderSignatureID = "X-Hub-Ecdsa-Signature-Id"
)

type talkdeskReceiver struct {
	server *webhook.Server
	// live holds the handlers of the tenants in force (the listed ones and
	// tenants_file's).
	live *tenant.Live[handlers]
}

// handlers serve requests for one version of the tenants.
type handlers struct {
	cfg  *Config
	norm *normalizer

	tokenHeader  string
	headerTokens signature.TokenSet // token -> account id
	urlTokens    signature.TokenSet
	accounts     map[string]account
	keys         signature.ECDSAKeys
}

func newHandlers(cfg *Config, version string) (*handlers, error) {
	r := &handlers{cfg: cfg, tokenHeader: cfg.tokenHeader(), accounts: cfg.accounts()}
	norm, err := newNormalizer(cfg, version)
	if err != nil {
		return nil, err
	}
	r.norm = norm
	for _, t := range cfg.Tenants {
		for _, tok := range t.HeaderTokens {
			r.headerTokens.Add(string(tok), t.AccountID)
		}
		for _, tok := range t.URLTokens {
			r.urlTokens.Add(string(tok), t.AccountID)
		}
	}
	for _, k := range cfg.EventsAPI.SignatureKeys {
		if err := r.keys.AddText(k.ID, k.PublicKey); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Logs) (*talkdeskReceiver, error) {
	live, err := tenant.NewMerged(cfg.Receiver, cfg, metadata.Type.String(), "account_id", set.Logger,
		func(c *Config) *[]TenantConfig { return &c.Tenants }, (*Config).Validate,
		func(c *Config) (*handlers, error) { return newHandlers(c, set.BuildInfo.Version) })
	if err != nil {
		return nil, err
	}
	r := &talkdeskReceiver{live: live}

	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	tel := webhook.Telemetry{Requests: tb.ConsentryWebhookRequests, Duplicates: tb.ConsentryWebhookDuplicates}
	server, err := webhook.NewServer(&cfg.Config, set, tel, next,
		webhook.Route{Path: PathWebhook, Name: routeWebhook, Handle: tenant.Handle(live, (*handlers).handleWebhook)},
		webhook.Route{Path: PathEvents, Name: routeEvents, Handle: tenant.Handle(live, (*handlers).handleEvents)},
		webhook.Route{Path: PathDigitalConnect, Name: routeDigitalConnect, Handle: tenant.Handle(live, (*handlers).handleDigitalConnect)},
	)
	if err != nil {
		return nil, err
	}
	r.server = server
	return r, nil
}

func (r *talkdeskReceiver) Start(ctx context.Context, host component.Host) error {
	if err := r.server.Start(ctx, host); err != nil {
		return err
	}
	r.live.Start(host)
	return nil
}

func (r *talkdeskReceiver) Shutdown(ctx context.Context) error {
	r.live.Shutdown()
	return r.server.Shutdown(ctx)
}

// webhookAccount authenticates a callback by its header token or URL
// token. Every credential presented must be valid, and two must name the
// same account. A zero account with a nil error is an unauthenticated
// request that insecure_allow_unauthenticated lets through.
func (r *handlers) webhookAccount(req *http.Request) (account, error) {
	var owner string
	presented := false
	if v := req.Header.Get(r.tokenHeader); v != "" {
		if r.tokenHeader == "Authorization" {
			var ok bool
			if v, ok = cutBearer(v); !ok {
				return account{}, webhook.Unauthenticated()
			}
		}
		o, ok := r.headerTokens.Lookup(v)
		if !ok {
			return account{}, webhook.Unauthenticated()
		}
		owner, presented = o, true
	}
	if q := req.URL.Query(); q.Has(QueryToken) {
		vals := q[QueryToken]
		if len(vals) != 1 {
			return account{}, webhook.Unauthenticated()
		}
		o, ok := r.urlTokens.Lookup(vals[0])
		if !ok || (presented && o != owner) {
			return account{}, webhook.Unauthenticated()
		}
		owner, presented = o, true
	}
	if presented {
		return r.accounts[owner], nil
	}
	if r.cfg.InsecureAllowUnauthenticated {
		return account{}, nil
	}
	return account{}, webhook.Unauthenticated()
}

// cutBearer strips the "Bearer " scheme (any case) from an Authorization
// value.
func cutBearer(v string) (string, bool) {
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(v[len(scheme):]), true
}

func (r *handlers) handleWebhook(req *webhook.Request) (plog.Logs, error) {
	acct, err := r.webhookAccount(req.HTTP)
	if err != nil {
		return plog.Logs{}, err
	}
	trigger := req.HTTP.PathValue("trigger")
	if len(trigger) > 128 {
		return plog.Logs{}, webhook.Malformed("the trigger name is longer than 128 characters")
	}
	return r.norm.webhook(trigger, req.Body, acct, req.Received)
}

// handleDigitalConnect authenticates Digital Connect events with the
// webhook tokens.
func (r *handlers) handleDigitalConnect(req *webhook.Request) (plog.Logs, error) {
	acct, err := r.webhookAccount(req.HTTP)
	if err != nil {
		return plog.Logs{}, err
	}
	return r.norm.digitalConnect(req.Body, acct, req.Received)
}

// handleEvents verifies the Events API's ECDSA signature over the raw body
// before anything parses it. An unknown key id fails: keys are configured,
// never fetched on demand from a URL the request could influence.
func (r *handlers) handleEvents(req *webhook.Request) (plog.Logs, error) {
	sig := req.HTTP.Header.Get(HeaderSignature)
	keyID := strings.TrimSpace(req.HTTP.Header.Get(HeaderSignatureID))
	switch {
	case sig != "" || keyID != "":
		if !r.keys.Verify(crypto.SHA512, signature.Hex, keyID, sig, req.Body) {
			return plog.Logs{}, webhook.Unauthenticated()
		}
	case !r.cfg.InsecureAllowUnauthenticated:
		return plog.Logs{}, webhook.Unauthenticated()
	}
	return r.norm.events(req.Body, req.Received)
}
