package consentledgerextension

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/extension/consentledgerextension/internal/auditapi"
	extmeta "github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
	"github.com/consentry/consentry/internal/subject"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// withAPI serves the auditor API on both transports, on free loopback
// ports, with a custodian token.
func withAPI(t *testing.T, cfg *Config) (httpAddr, grpcAddr string) {
	httpAddr, grpcAddr = freeAddr(t), freeAddr(t)
	h := confighttp.NewDefaultServerConfig()
	h.NetAddr.Endpoint = httpAddr
	g := configgrpc.NewDefaultServerConfig()
	g.NetAddr.Endpoint = grpcAddr
	cfg.API.HTTP = configoptional.Some(h)
	cfg.API.GRPC = configoptional.Some(g)
	cfg.API.SubjectSalt = testSalt
	cfg.API.Auth = auditapi.AuthConfig{Tokens: []auditapi.TokenConfig{
		{Identity: "carol", Role: "custodian", SHA256: auditapi.HashToken(custodianToken), Tenants: []string{auditapi.AllTenants}},
	}}
	return httpAddr, grpcAddr
}

const (
	custodianToken = "custodian-token-0123456789"
	testSalt       = "api-test-salt-0123456789"
)

// TestServedAPI starts the extension with the auditor API on both
// transports and checks the wiring: authentication on REST and gRPC, the
// OpenAPI document, raw-identifier consent under the receivers' salt, and
// that consent recorded through the API reaches the consent store's
// subscribers at once.
func TestServedAPI(t *testing.T) {
	ctx := context.Background()
	cfg := createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(t.TempDir(), "ledger.db")
	cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
	httpAddr, grpcAddr := withAPI(t, cfg)
	require.NoError(t, cfg.Validate())
	require.NoError(t, cfg.API.Validate())

	ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(extmeta.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
	e := ext.(*ledgerExtension)
	var changed atomic.Value
	consentClient{e}.Subscribe(func(k consentstore.Key) { changed.Store(k) })

	// REST: no token -> 401; the OpenAPI document is public.
	resp, err := http.Get("http://" + httpAddr + "/v1/quarantine/records")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, err = http.Get("http://" + httpAddr + "/openapi.json")
	require.NoError(t, err)
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(doc), "/v1/quarantine/records")
	resp, err = http.Get("http://" + httpAddr + "/openapi.v3.json")
	require.NoError(t, err)
	doc, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(doc), `"openapi": "3.0.3"`)

	// gRPC: without a token, Unauthenticated; with one, the call works.
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := consentryv1.NewAuditServiceClient(conn)
	_, err = client.ListQuarantinedRecords(ctx, &consentryv1.ListQuarantinedRecordsRequest{})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+custodianToken)
	_, err = client.ListQuarantinedRecords(authed, &consentryv1.ListQuarantinedRecordsRequest{})
	require.NoError(t, err)

	// Consent by raw phone number: the key is the one the receivers derive.
	res, err := client.RecordConsent(authed, &consentryv1.RecordConsentRequest{
		Subject: &consentryv1.Subject{Tenant: "genesys/org-1", RawIdentifier: "(415) 555-0100"},
		Status:  "granted", Purposes: []string{"analytics"}, Reason: "caller agreed by phone, ticket 42",
	})
	require.NoError(t, err)
	k, err := subject.NewKeyer([]byte(testSalt))
	require.NoError(t, err)
	want, _, err := k.KeyRaw(subject.IDType("phone"), "+14155550100")
	require.NoError(t, err)
	assert.Equal(t, want, res.GetSubjectKey())
	assert.Equal(t, consentstore.Key{Scope: "genesys/org-1", Subject: want}, changed.Load(), "subscribers hear of it at once")
	recs, err := consentClient{e}.Lookup(ctx, consentstore.Key{Scope: "genesys/org-1", Subject: want})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, []string{"analytics"}, recs[0].Granted)

	// Release needs the consent processor and router to be registered.
	l, err := e.ledgerOrErr()
	require.NoError(t, err)
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("x")
	payload, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	_, err = l.Append(ctx, []ledger.Record{{Tenant: "genesys/org-1", Vendor: "genesys", EventID: "e1", SubjectKey: want, Payload: payload}})
	require.NoError(t, err)
	_, err = client.ReleaseRecords(authed, &consentryv1.ReleaseRecordsRequest{
		Subject: &consentryv1.Subject{Tenant: "genesys/org-1", SubjectKey: want}, Reason: "consent recorded"})
	assert.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "no consent processor uses this ledger")

	// The gRPC listener answers grpc.health.v1 and server reflection
	// without credentials.
	hc := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "consentry.v1.AuditService"} {
		hr, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		require.NoError(t, err)
		assert.Equal(t, healthpb.HealthCheckResponse_SERVING, hr.GetStatus(), "health of %q", svc)
	}
	rs, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	require.NoError(t, err)
	require.NoError(t, rs.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	lr, err := rs.Recv()
	require.NoError(t, err)
	var services []string
	for _, s := range lr.GetListServicesResponse().GetService() {
		services = append(services, s.GetName())
	}
	assert.Subset(t, services, []string{"consentry.v1.AuditService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"})
	require.NoError(t, rs.CloseSend())

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, ext.Shutdown(sctx))
	_, err = http.Get("http://" + httpAddr + "/openapi.json")
	assert.Error(t, err, "the REST server stopped")
}

// TestSaltKeyer: the API keys a raw identifier as the receivers do: a
// tenant's own salt (also for its default consent scope, vendor/id),
// else the default; a lookup without a tenant tries every distinct salt.
func TestSaltKeyer(t *testing.T) {
	const own = "own-salt-of-AC1-0123456789"
	cfg := APIConfig{SubjectSalt: testSalt, SubjectSalts: map[string]configopaque.String{"AC1": own, "AC2": testSalt}}
	k, err := cfg.keyer()
	require.NoError(t, err)
	key := func(salt string) string {
		kr, err := subject.NewKeyer([]byte(salt))
		require.NoError(t, err)
		s, _, err := kr.KeyRaw(subject.IDTypeEmail, "Alice@Example.org")
		require.NoError(t, err)
		return s
	}
	for scope, want := range map[string]string{"AC1": key(own), "twilio/AC1": key(own), "other/AC1": key(testSalt), "AC9": key(testSalt)} {
		got, err := k.SubjectKey(scope, " alice@example.ORG")
		require.NoError(t, err)
		assert.Equal(t, want, got, scope)
	}
	all, err := k.SubjectKeys("alice@example.org")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{key(own), key(testSalt)}, all)

	// Without a default salt, an unknown tenant has no key.
	cfg = APIConfig{SubjectSalts: map[string]configopaque.String{"AC1": own}}
	k, err = cfg.keyer()
	require.NoError(t, err)
	_, err = k.SubjectKey("AC9", "alice@example.org")
	assert.Error(t, err)
	all, err = k.SubjectKeys("alice@example.org")
	require.NoError(t, err)
	assert.Equal(t, []string{key(own)}, all)
}
