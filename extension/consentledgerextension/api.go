package consentledgerextension

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/extension/consentledgerextension/internal/auditapi"
	"github.com/consentry/consentry/extension/consentledgerextension/internal/console"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/tenant"
)

// APIConfig configures the auditor API (gRPC and its REST mapping).
type APIConfig struct {
	// GRPC serves consentry.v1.AuditService (e.g. endpoint 127.0.0.1:7481).
	GRPC configoptional.Optional[configgrpc.ServerConfig] `mapstructure:"grpc"`
	// HTTP serves the REST mapping and /openapi.json (e.g. 127.0.0.1:7480).
	HTTP configoptional.Optional[confighttp.ServerConfig] `mapstructure:"http"`
	// Auth says who may call: bearer tokens (as SHA-256 hashes) with roles,
	// and optionally mTLS client certificates.
	Auth auditapi.AuthConfig `mapstructure:"auth"`
	// SubjectSalt is the receivers' subject_salt, so that consent can be
	// recorded and looked up by a raw phone number or e-mail address (the
	// API derives the same ccaas.subject.key). SubjectSalts overrides it per
	// tenant (consent scope), like the receivers' per-tenant salts. Unset:
	// only subject keys are accepted.
	SubjectSalt  configopaque.String            `mapstructure:"subject_salt"`
	SubjectSalts map[string]configopaque.String `mapstructure:"subject_salts"`
	// VerifyLimit bounds VerifyLedger per identity: it reads the whole
	// ledger.
	VerifyLimit RateLimitConfig `mapstructure:"verify_limit"`
	// UnauthenticatedLogWindow is how long unauthenticated calls are
	// counted per source before their one access-log entry is written.
	UnauthenticatedLogWindow time.Duration `mapstructure:"unauthenticated_log_window"`
	// Console serves the auditor console (a web interface that calls this
	// REST API from the browser) under /console/ on the http listener.
	// Off by default; it needs api.http.
	Console bool `mapstructure:"console"`
}

// RateLimitConfig allows Burst calls at once, then one every Interval, one
// at a time, per identity.
type RateLimitConfig struct {
	Burst    int           `mapstructure:"burst"`
	Interval time.Duration `mapstructure:"interval"`
}

func (c *APIConfig) enabled() bool { return c.GRPC.HasValue() || c.HTTP.HasValue() }

var errConsoleNeedsHTTP = errors.New("console: needs api.http (the console is served on the REST listener, under /console/)")

// Validate checks the API section.
func (c *APIConfig) Validate() error {
	if !c.enabled() {
		if c.Console {
			return errConsoleNeedsHTTP
		}
		return nil
	}
	var errs []error
	if err := c.Auth.Check(); err != nil {
		errs = append(errs, err)
	}
	// An empty endpoint would listen on a random port of every interface.
	if c.GRPC.HasValue() && c.GRPC.Get().NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("grpc.endpoint: required (e.g. 127.0.0.1:7481)"))
	}
	if c.Console && !c.HTTP.HasValue() {
		errs = append(errs, errConsoleNeedsHTTP)
	}
	if c.HTTP.HasValue() && c.HTTP.Get().NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("http.endpoint: required (e.g. 127.0.0.1:7480)"))
	}
	if c.SubjectSalt != "" && len(c.SubjectSalt) < subject.MinSaltLen {
		errs = append(errs, fmt.Errorf("subject_salt: must be at least %d bytes", subject.MinSaltLen))
	}
	for tenant, salt := range c.SubjectSalts {
		if len(salt) < subject.MinSaltLen {
			errs = append(errs, fmt.Errorf("subject_salts[%s]: must be at least %d bytes", tenant, subject.MinSaltLen))
		}
	}
	if len(c.Auth.ClientCerts) > 0 && !c.verifiesClientCerts() {
		errs = append(errs, errors.New("auth.client_certs: no API server verifies client certificates (set tls.client_ca_file on http or grpc): the mappings would never match, and no caller could use them"))
	}
	if c.VerifyLimit.Burst < 1 || c.VerifyLimit.Interval <= 0 {
		errs = append(errs, fmt.Errorf("verify_limit: burst must be at least 1 and interval positive (got %d, %s)", c.VerifyLimit.Burst, c.VerifyLimit.Interval))
	}
	if c.UnauthenticatedLogWindow < time.Second {
		errs = append(errs, fmt.Errorf("unauthenticated_log_window: at least 1s (got %s)", c.UnauthenticatedLogWindow))
	}
	return errors.Join(errs...)
}

// verifiesClientCerts reports whether a served API server verifies client
// certificates against a client CA.
func (c *APIConfig) verifiesClientCerts() bool {
	if c.HTTP.HasValue() {
		if h := c.HTTP.Get(); h.TLS.HasValue() && h.TLS.Get().ClientCAFile != "" {
			return true
		}
	}
	if c.GRPC.HasValue() {
		if g := c.GRPC.Get(); g.TLS.HasValue() && g.TLS.Get().ClientCAFile != "" {
			return true
		}
	}
	return false
}

// keyer derives subject keys from raw identifiers the way the receivers do.
func (c *APIConfig) keyer() (auditapi.SubjectKeyer, error) {
	if c.SubjectSalt == "" && len(c.SubjectSalts) == 0 {
		return nil, nil
	}
	// The receivers' tenant model: a tenant's own salt, else the default.
	scopes := make([]tenant.Entry, 0, len(c.SubjectSalts))
	for scope, salt := range c.SubjectSalts {
		scopes = append(scopes, tenant.Entry{ID: scope, Tenant: tenant.Tenant{SubjectSalt: salt}})
	}
	ks, err := tenant.Receiver{SubjectSalt: c.SubjectSalt}.Keyers(scopes)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	sk := &saltKeyer{ks: ks, hasDefault: c.SubjectSalt != ""}
	// Every distinct salt once, for a lookup that names no tenant.
	seen := map[configopaque.String]bool{}
	for _, salt := range append([]configopaque.String{c.SubjectSalt}, slices.Collect(maps.Values(c.SubjectSalts))...) {
		if salt == "" || seen[salt] {
			continue
		}
		seen[salt] = true
		k, err := subject.NewKeyer([]byte(salt))
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		sk.all = append(sk.all, k)
	}
	return sk, nil
}

// saltKeyer is the API's SubjectKeyer over the configured salts.
type saltKeyer struct {
	ks         *subject.Keyers
	hasDefault bool
	all        []*subject.Keyer
}

// SubjectKey keys raw for a tenant id or consent scope: the tenant's own
// salt; for a vendor's default consent scope (twilio/AC123), its tenant
// id's; else the default salt.
func (k *saltKeyer) SubjectKey(scope, raw string) (string, error) {
	kr := k.ks.Resolve(scope, false)
	if v, id, ok := strings.Cut(scope, "/"); kr == nil && ok && slices.Contains(ccaas.AllVendors, v) {
		kr = k.ks.Resolve(id, false)
	}
	if kr == nil {
		kr = k.ks.Resolve(scope, k.hasDefault)
	}
	if kr == nil {
		return "", fmt.Errorf("no subject salt is configured for tenant %q", scope)
	}
	return keyRaw(kr, raw)
}

// SubjectKeys keys raw under every configured salt.
func (k *saltKeyer) SubjectKeys(raw string) ([]string, error) {
	out := make([]string, 0, len(k.all))
	for _, kr := range k.all {
		key, err := keyRaw(kr, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, key)
	}
	return out, nil
}

func keyRaw(k *subject.Keyer, raw string) (string, error) {
	t, _, err := subject.Detect(raw)
	if err != nil {
		return "", err
	}
	key, _, err := k.KeyRaw(t, raw)
	return key, err
}

// apiServers is the running auditor API.
type apiServers struct {
	svc    *auditapi.Service
	grpc   *grpc.Server
	health *health.Server
	http   *http.Server
	stop   context.CancelFunc
}

// startAPI serves the auditor API over the open ledger.
func (e *ledgerExtension) startAPI(ctx context.Context, host component.Host, l *ledger.Ledger) error {
	api := &e.cfg.API
	if !api.enabled() {
		return nil
	}
	keyer, err := api.keyer()
	if err != nil {
		return err
	}
	svc, err := auditapi.New(auditapi.Options{
		Ledger:   l,
		Auth:     &api.Auth,
		Keyer:    keyer,
		Releaser: e.releaser,
		OnConsentChange: func(tenant, subjectKey string) {
			e.notify(consentstore.Key{Scope: tenant, Subject: subjectKey})
		},
		Logger:        e.set.Logger,
		MeterProvider: e.set.MeterProvider,
		DenialWindow:  api.UnauthenticatedLogWindow,
		VerifyLimit:   auditapi.RateLimit{Burst: api.VerifyLimit.Burst, Every: api.VerifyLimit.Interval},
	})
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	s := &apiServers{svc: svc}
	e.api = s
	// The servers' lifetime, not Start's context (which ends when Start returns).
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	if api.GRPC.HasValue() {
		gcfg := api.GRPC.Get()
		opts := make([]configgrpc.ToServerOption, 0, 2)
		for _, o := range svc.GRPCServerOptions() {
			opts = append(opts, configgrpc.WithGrpcServerOption(o))
		}
		srv, err := gcfg.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, opts...)
		if err != nil {
			return fmt.Errorf("api.grpc: %w", err)
		}
		svc.RegisterGRPC(srv)
		// grpc.health.v1 and server reflection, so that load balancers
		// and grpcurl work without the .proto files. Both are outside
		// AuditService: they need no credentials and say only what the
		// public /openapi.json says.
		s.health = health.NewServer()
		s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		s.health.SetServingStatus(consentryv1.AuditService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
		healthpb.RegisterHealthServer(srv, s.health)
		reflection.Register(srv)
		ln, err := gcfg.NetAddr.Listen(ctx)
		if err != nil {
			return fmt.Errorf("api.grpc: listening on %s: %w", gcfg.NetAddr.Endpoint, err)
		}
		s.grpc = srv
		e.serve("grpc", ln.Addr(), host, func() error { return srv.Serve(ln) })
	}
	if api.HTTP.HasValue() {
		hcfg := api.HTTP.Get()
		handler, err := svc.HTTPHandler(runCtx)
		if err != nil {
			return fmt.Errorf("api.http: %w", err)
		}
		if api.Console {
			// Static files beside the API: the browser calls the API itself,
			// so every action is authorised and logged there.
			handler = console.Mount(handler)
		}
		srv, err := hcfg.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, handler)
		if err != nil {
			return fmt.Errorf("api.http: %w", err)
		}
		ln, err := hcfg.ToListener(ctx)
		if err != nil {
			return fmt.Errorf("api.http: listening on %s: %w", hcfg.NetAddr.Endpoint, err)
		}
		s.http = srv
		e.serve("http", ln.Addr(), host, func() error { return srv.Serve(ln) })
		if api.Console {
			scheme := "http"
			if hcfg.TLS.HasValue() {
				scheme = "https"
			}
			e.set.Logger.Info("Auditor console listening", zap.String("url", scheme+"://"+ln.Addr().String()+console.Prefix))
		}
	}
	return nil
}

func (e *ledgerExtension) serve(kind string, addr net.Addr, host component.Host, serve func() error) {
	e.set.Logger.Info("Auditor API listening", zap.String("transport", kind), zap.String("endpoint", addr.String()))
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(fmt.Errorf("auditor API (%s): %w", kind, err)))
		}
	}()
}

// apiShutdownGrace bounds how long Shutdown waits for in-flight API calls.
const apiShutdownGrace = 10 * time.Second

// stopAPI stops the servers: in-flight calls finish (bounded by ctx).
func (e *ledgerExtension) stopAPI(ctx context.Context) error {
	s := e.api
	if s == nil {
		return nil
	}
	e.api = nil
	// Give in-flight calls a bounded grace period even when the collector's
	// shutdown context has no deadline: an export stream must not hold the
	// collector up forever.
	ctx, cancel := context.WithTimeout(ctx, apiShutdownGrace)
	defer cancel()
	var errs []error
	if s.http != nil {
		errs = append(errs, s.http.Shutdown(ctx))
	}
	if s.grpc != nil {
		s.health.Shutdown() // NOT_SERVING while in-flight calls finish
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			s.grpc.Stop()
		}
	}
	s.stop()
	errs = append(errs, s.svc.Close())
	return errors.Join(errs...)
}
