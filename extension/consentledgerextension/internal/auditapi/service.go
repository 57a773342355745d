// Package auditapi implements Consentry's auditor API (consentry.v1.AuditService)
// over the consent ledger: the gRPC service, its REST mapping through
// grpc-gateway, authentication (bearer tokens stored as SHA-256 hashes,
// optional mTLS client certificates), per-method authorisation by role, and
// an access-log entry in the ledger for every call, allowed or denied.
//
// The consent_ledger extension wires it: it registers the service on its
// gRPC server (RegisterGRPC, with GRPCServerOptions) and serves HTTPHandler
// on its HTTP server. REST calls go through an in-process gRPC connection to
// the same service and interceptors, so both transports are authenticated,
// authorised and logged by the same code.
package auditapi

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/release"
)

// Releaser releases quarantined records (a *release.Releaser) and knows
// the consent scopes of the policy in force.
type Releaser interface {
	Release(ctx context.Context, req release.Request) (*release.Result, error)
	CheckScope(scope string) error
}

// Options configure a Service.
type Options struct {
	// Ledger is the consent ledger (required).
	Ledger *ledger.Ledger
	// Auth says who may call (required).
	Auth *AuthConfig
	// Keyer derives the subject key (ccaas.subject.key) of a raw identifier
	// the way the receivers do. Nil: requests naming a raw identifier are
	// refused.
	Keyer SubjectKeyer
	// Releaser releases records. Nil: release is refused with
	// FailedPrecondition.
	Releaser Releaser
	// Tenants resolves the tenant names of auditor identities (a tenants
	// registry). Nil, or a name it does not know: the name covers the
	// records of that tenant id and consent under that scope or the
	// vendors' default scopes of that tenant id.
	Tenants Tenants
	// OnConsentChange, when set, is called with the tenant (consent scope)
	// and subject key of every consent record stored and every subject
	// erased through the API, so that consent caches drop stale entries.
	OnConsentChange func(tenant, subjectKey string)
	// Logger (default: no-op).
	Logger *zap.Logger
	// Now replaces time.Now.
	Now func() time.Time
	// MeterProvider records consentry.audit.calls (default: none).
	MeterProvider metric.MeterProvider
	// DenialWindow is how long unauthenticated calls are aggregated per
	// source before their access-log entry is written (default 1 minute).
	DenialWindow time.Duration
	// VerifyLimit bounds VerifyLedger per identity (default
	// DefaultVerifyLimit; a Burst of 0 takes the default).
	VerifyLimit RateLimit
	// ProgressEvery is how often a streamed REST verification writes a
	// progress line (default 2s).
	ProgressEvery time.Duration
}

// SubjectKeyer derives subject keys from raw identifiers (phone numbers,
// e-mail addresses) with the receivers' subject salts.
type SubjectKeyer interface {
	// SubjectKey is the key raw has for a tenant id or consent scope.
	SubjectKey(tenant, raw string) (string, error)
	// SubjectKeys are the keys raw has under every configured salt: the
	// keys a lookup that names no tenant searches for.
	SubjectKeys(raw string) ([]string, error)
}

// Service is the auditor API.
type Service struct {
	ledger   *ledger.Ledger
	auth     *authenticator
	keyer    SubjectKeyer
	releaser Releaser
	tenants  Tenants
	onChange func(tenant, subjectKey string)
	log      *zap.Logger
	now      func() time.Time
	impl     *server

	calls   metric.Int64Counter
	denials *denials
	limits  map[string]*identityLimiter

	mu      sync.Mutex
	closers []func()
	stop    chan struct{}
	stopped chan struct{}
	// reached holds the ids of REST requests that reached the in-process
	// server (and were logged there).
	reached sync.Map
	// progress holds the ledger.VerifyProgress of streamed verifications
	// by request id.
	progress      sync.Map
	progressEvery time.Duration
	verifyPause   func() // tests: called at each progress report
}

// New builds the service. It reads Auth.TokensFile.
func New(opts Options) (*Service, error) {
	if opts.Ledger == nil {
		return nil, errors.New("auditapi: Ledger is required")
	}
	a, err := newAuthenticator(opts.Auth)
	if err != nil {
		return nil, err
	}
	s := &Service{
		ledger: opts.Ledger, auth: a, keyer: opts.Keyer, releaser: opts.Releaser, tenants: opts.Tenants,
		onChange: opts.OnConsentChange, log: opts.Logger, now: opts.Now,
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.onChange == nil {
		s.onChange = func(string, string) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.progressEvery = opts.ProgressEvery; s.progressEvery <= 0 {
		s.progressEvery = defaultProgressEvery
	}
	mp := opts.MeterProvider
	if mp == nil {
		mp = noop.NewMeterProvider()
	}
	s.calls, err = mp.Meter("github.com/consentry/consentry/extension/consentledgerextension/internal/auditapi").Int64Counter(
		"consentry.audit.calls",
		metric.WithDescription("Calls of the auditor API by method and outcome (ok, unauthenticated, permission_denied, rate_limited, error, access_log_failed); unauthenticated calls are counted here one by one and written to the access log aggregated per source."),
		metric.WithUnit("{call}"))
	if err != nil {
		return nil, err
	}
	vl := opts.VerifyLimit
	if vl.Burst <= 0 || vl.Every <= 0 {
		vl = DefaultVerifyLimit
	}
	s.limits = map[string]*identityLimiter{"VerifyLedger": newIdentityLimiter(vl)}
	s.denials = newDenials(opts.DenialWindow)
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	go s.runDenials(s.stop, s.stopped)
	s.impl = &server{s: s}
	return s, nil
}

// countCall counts a call in consentry.audit.calls.
func (s *Service) countCall(ctx context.Context, method, outcome string) {
	s.calls.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("method", method), attribute.String("outcome", outcome)))
}

// RegisterGRPC registers AuditService on srv. srv must have been built
// with GRPCServerOptions: without its interceptors every call is refused.
func (s *Service) RegisterGRPC(srv *grpc.Server) {
	consentryv1.RegisterAuditServiceServer(srv, s.impl)
}

// GRPCServerOptions returns the interceptors that authenticate, authorise
// and log every AuditService call. They let calls to other services on the
// same server through untouched.
func (s *Service) GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryInterceptor(false)),
		grpc.ChainStreamInterceptor(s.streamInterceptor(false)),
	}
}

// inprocCertKey carries the verified client certificate of a REST call to
// the in-process gRPC server. Only the in-process server reads it, and the
// gateway forwards no client header under any metadata key but
// authorization, so HTTP clients cannot set it.
const inprocCertKey = "consentry-inproc-client-cert"

// HTTPHandler returns the REST handler: the grpc-gateway mux over an
// in-process gRPC connection to this service, plus GET /openapi.json
// (Swagger 2.0) and GET /openapi.v3.json (OpenAPI 3.0), public. The
// in-process server stops when ctx ends or Close is called.
func (s *Service) HTTPHandler(ctx context.Context) (http.Handler, error) {
	lis := bufconn.Listen(1 << 20)
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryInterceptor(true)),
		grpc.ChainStreamInterceptor(s.streamInterceptor(true)),
	}
	gs := grpc.NewServer(opts...)
	consentryv1.RegisterAuditServiceServer(gs, s.impl)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///consentry-audit-inproc",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
	)
	if err != nil {
		gs.Stop()
		return nil, fmt.Errorf("auditapi: in-process connection: %w", err)
	}
	stop := func() {
		_ = conn.Close()
		gs.Stop()
		_ = lis.Close()
	}
	s.mu.Lock()
	s.closers = append(s.closers, stop)
	s.mu.Unlock()
	context.AfterFunc(ctx, stop)

	jsonpb := &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{},
	}
	var mux *runtime.ServeMux
	mux = runtime.NewServeMux(
		runtime.WithMiddlewares(func(next runtime.HandlerFunc) runtime.HandlerFunc {
			return s.checkRoute(mux, next)
		}),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: jsonpb}),
		runtime.WithIncomingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithOutgoingHeaderMatcher(func(string) (string, bool) { return "", false }),
		runtime.WithMetadata(func(_ context.Context, r *http.Request) metadata.MD {
			md := metadata.MD{}
			if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
				md.Set(inprocRequestKey, id)
			}
			if c := verifiedLeaf(r); c != nil {
				md.Set(inprocCertKey, base64.StdEncoding.EncodeToString(c.Raw))
			}
			md.Set(inprocPeerKey, hostOf(r.RemoteAddr))
			return md
		}),
		runtime.WithErrorHandler(s.httpErrorHandler),
	)
	if err := consentryv1.RegisterAuditServiceHandlerClient(ctx, mux, consentryv1.NewAuditServiceClient(conn)); err != nil {
		stop()
		return nil, fmt.Errorf("auditapi: gateway: %w", err)
	}
	for path, doc := range map[string][]byte{"/openapi.json": consentryv1.OpenAPI, "/openapi.v3.json": consentryv1.OpenAPIv3} {
		if err := mux.HandlePath(http.MethodGet, path, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
		}); err != nil {
			stop()
			return nil, err
		}
	}
	calls := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := r.Context().Value(requestIDKey{}).(string)
		if !ok {
			id = newRequestID()
		}
		defer s.reached.Delete(id)
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
	return errorShape(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l, ok := csvListings[r.URL.Path]; ok && r.Method == http.MethodGet {
			if wantsCSV(r) {
				s.serveCSV(w, r, calls, l)
				return
			}
			r = withoutFormat(r)
		}
		if r.URL.Path == verifyPath && r.Method == http.MethodPost && wantsNDJSON(r) {
			s.streamVerify(w, r, calls)
			return
		}
		calls(newDeadlineWriter(w), r)
	})), nil
}

// requestIDKey marks a REST request, so that the error handler knows
// whether the call reached the in-process server (and so the access log).
type requestIDKey struct{}

const inprocRequestKey = "consentry-inproc-request-id"

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Close stops the in-process servers that HTTPHandler started, then writes
// the unauthenticated calls aggregated so far to the access log (the ledger
// must still be open).
func (s *Service) Close() error {
	s.mu.Lock()
	cs := s.closers
	s.closers = nil
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	for _, c := range cs {
		c()
	}
	if stop != nil {
		close(stop)
		<-s.stopped
	}
	return nil
}

func verifiedLeaf(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}
