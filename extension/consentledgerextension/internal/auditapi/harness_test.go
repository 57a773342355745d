package auditapi

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap/zaptest"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
	"github.com/consentry/consentry/internal/ledger/postgres"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
	"github.com/consentry/consentry/internal/release"
)

type backend struct {
	name string
	open func(t testing.TB) func(ctx context.Context) (*sqlstore.Store, error)
}

var backends = []backend{{"sqlite", sqliteDB}, {"postgres", postgresDB}}

func sqliteDB(t testing.TB) func(ctx context.Context) (*sqlstore.Store, error) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	return func(ctx context.Context) (*sqlstore.Store, error) {
		return sqlite.Open(ctx, sqlite.Config{Path: path, Synchronous: "NORMAL"})
	}
}

func postgresDB(t testing.TB) func(ctx context.Context) (*sqlstore.Store, error) {
	dsn, schema := ledgertest.Postgres(t)
	return func(ctx context.Context) (*sqlstore.Store, error) {
		return postgres.Open(ctx, postgres.Config{DSN: dsn, Schema: schema, MaxConns: 4})
	}
}

// forEachBackend runs fn once per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

func openLedger(t testing.TB, b backend) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	st, err := b.open(t)(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{ID: "kek-1", Key: kek}}, BatchLinger: 200 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

// Test tokens, one per role.
var roleTokens = map[string]string{
	"auditor":      "tok-auditor-0123456789",
	"investigator": "tok-investigator-0123456789",
	"custodian":    "tok-custodian-0123456789",
	"admin":        "tok-admin-0123456789",
}

func testAuth() *AuthConfig {
	c := &AuthConfig{}
	for _, role := range []string{"auditor", "investigator", "custodian", "admin"} {
		c.Tokens = append(c.Tokens, TokenConfig{Identity: role + "@example.org", Role: role, SHA256: HashToken(roleTokens[role]), Tenants: []string{AllTenants}})
	}
	return c
}

// fakeReleaser releases through the real release operation, with an
// evaluator that forwards a record when the ledger holds a granted consent
// for its subject (as the consent processor would with a ledger-backed
// store) and a forward pipeline that remembers the event ids it got.
type fakeReleaser struct {
	*release.Releaser
	mu        sync.Mutex
	forwarded []string // event ids
}

func newFakeReleaser(l *ledger.Ledger) *fakeReleaser {
	f := &fakeReleaser{}
	var hub consentledger.Hub
	hub.RegisterEvaluator(component.MustNewID("consent"), consentledger.EvaluatorFunc(func(ctx context.Context, rec plog.Logs) error {
		rl := rec.ResourceLogs().At(0)
		tenant, _ := rl.Resource().Attributes().Get("ccaas.tenant.id")
		lr := rl.ScopeLogs().At(0).LogRecords().At(0)
		subj, _ := lr.Attributes().Get("ccaas.subject.key")
		cs, err := l.LookupConsents(ctx, tenant.Str(), subj.Str())
		if err != nil {
			return err
		}
		granted := false
		for _, c := range cs {
			granted = c.Status == ledger.ConsentGranted
		}
		d, reason := "quarantine", "consent_missing"
		if granted {
			d, reason = "forward", "consent_recorded"
		}
		lr.Attributes().PutStr("consent.decision", d)
		lr.Attributes().PutEmptySlice("consent.reasons").AppendEmpty().SetStr(reason)
		return nil
	}))
	hub.RegisterForward(component.MustNewID("consent_router"), consumerFunc(func(_ context.Context, ld plog.Logs) error {
		ev, _ := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("ccaas.event.id")
		f.mu.Lock()
		f.forwarded = append(f.forwarded, ev.Str())
		f.mu.Unlock()
		return nil
	}))
	f.Releaser = release.New(l, &hub)
	return f
}

type consumerFunc func(context.Context, plog.Logs) error

func (f consumerFunc) ConsumeLogs(ctx context.Context, ld plog.Logs) error { return f(ctx, ld) }
func (consumerFunc) Capabilities() consumer.Capabilities                   { return consumer.Capabilities{} }

func payload(t testing.TB, tenant, subject, eventID, body string) []byte {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("ccaas.vendor", "genesys")
	rl.Resource().Attributes().PutStr("ccaas.tenant.id", tenant)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName("ccaas.recording.available")
	lr.Attributes().PutStr("ccaas.subject.key", subject)
	lr.Attributes().PutStr("ccaas.event.id", eventID)
	lr.Body().SetStr(body)
	b, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appendRecords(t testing.TB, l *ledger.Ledger, tenant, subject string, n int) []string {
	t.Helper()
	var recs []ledger.Record
	for i := range n {
		ev := fmt.Sprintf("%s-%s-%d", tenant, subject, i)
		recs = append(recs, ledger.Record{
			Tenant: tenant, Vendor: "genesys", EventID: ev, EventName: "ccaas.recording.available",
			SubjectKey: subject, InteractionID: "int-" + subject, Reasons: []string{"consent_missing"},
			ConsentStatus: "unknown", OccurredAt: time.Now().Add(-time.Hour),
			Payload: payload(t, tenant, subject, ev, "secret words of "+subject),
		})
	}
	res, err := l.Append(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res))
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		ids[i] = r.ID
	}
	return ids
}

// fakeKeyer keys an E.164 number by tenant ("key-<tenant>-<digits>"), as
// if every tenant had its own salt; SubjectKeys gives the keys of the
// tenants listed (the configured salts; default t1 and t2).
type fakeKeyer struct{ tenants []string }

func (fakeKeyer) SubjectKey(tenant, raw string) (string, error) {
	if raw == "" || raw[0] != '+' {
		return "", fmt.Errorf("not an E.164 number")
	}
	return "key-" + tenant + "-" + raw[1:], nil
}

func (k fakeKeyer) SubjectKeys(raw string) ([]string, error) {
	var out []string
	tenants := k.tenants
	if tenants == nil {
		tenants = []string{"t1", "t2"}
	}
	for _, t := range tenants {
		key, err := k.SubjectKey(t, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, key)
	}
	return out, nil
}

type env struct {
	l        *ledger.Ledger
	svc      *Service
	client   consentryv1.AuditServiceClient
	releaser *fakeReleaser
	tel      *componenttest.Telemetry
}

// newEnv serves the service on an in-memory gRPC listener.
func newEnv(t *testing.T, b backend) *env { return newEnvWith(t, b, nil) }

// newEnvWith is newEnv with options changed by opt.
func newEnvWith(t testing.TB, b backend, opt func(*Options)) *env {
	t.Helper()
	l := openLedger(t, b)
	rel := newFakeReleaser(l)
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	opts := Options{
		Ledger: l, Auth: testAuth(), Releaser: rel, Logger: zaptest.NewLogger(t),
		MeterProvider: tel.NewTelemetrySettings().MeterProvider,
		Keyer:         fakeKeyer{},
	}
	if opt != nil {
		opt(&opts)
	}
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(svc.GRPCServerOptions()...)
	svc.RegisterGRPC(gs)
	go func() { _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///test",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Close()
		gs.Stop()
		_ = svc.Close()
	})
	return &env{l: l, svc: svc, client: consentryv1.NewAuditServiceClient(conn), releaser: rel, tel: tel}
}

func as(role string) context.Context {
	ctx := context.Background()
	switch role {
	case "":
		return ctx
	case "invalid":
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer not-a-known-token")
	default:
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+roleTokens[role])
	}
}

type httpbodyAlias = httpbody.HttpBody

func metadataCtx(auth string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", auth)
}

func hexKey(s string) ([]ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("bad public key %q", s)
	}
	return []ed25519.PublicKey{b}, nil
}
