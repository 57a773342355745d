package consentledgerextension

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/extension/consentledgerextension/internal/auditapi"
	extmeta "github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key signed by the CA.
func (ca *testCA) issue(t *testing.T, cn string, server bool) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// TestMutualTLS serves the API with client certificates required and
// mapped to identities: a mapped certificate authenticates on REST and gRPC
// with its role, an unmapped one from the same CA gets 401, and one from
// another CA does not get through the handshake.
func TestMutualTLS(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ca, other := newCA(t, "consentry-test-ca"), newCA(t, "someone-else")
	srvCert, srvKey := ca.issue(t, "consentry", true)
	tlsCfg := configtls.NewDefaultServerConfig()
	tlsCfg.CertFile = writeFile(t, dir, "server.pem", srvCert)
	tlsCfg.KeyFile = writeFile(t, dir, "server.key", srvKey)
	tlsCfg.ClientCAFile = writeFile(t, dir, "ca.pem", ca.pem)

	cfg := createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(dir, "ledger.db")
	cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)
	h := confighttp.NewDefaultServerConfig()
	h.NetAddr.Endpoint = httpAddr
	h.TLS = configoptional.Some(tlsCfg)
	g := configgrpc.NewDefaultServerConfig()
	g.NetAddr.Endpoint = grpcAddr
	g.TLS = configoptional.Some(tlsCfg)
	cfg.API.HTTP, cfg.API.GRPC = configoptional.Some(h), configoptional.Some(g)
	cfg.API.Auth = auditapi.AuthConfig{ClientCerts: []auditapi.ClientCertConfig{{Subject: "bob.auditor", Identity: "bob", Role: "auditor", Tenants: []string{auditapi.AllTenants}}}}
	require.NoError(t, cfg.API.Validate())
	ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(extmeta.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, ext.Shutdown(ctx)) }()

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	clientTLS := func(c *testCA, cn string) *tls.Config {
		cp, kp := c.issue(t, cn, false)
		pair, err := tls.X509KeyPair(cp, kp)
		require.NoError(t, err)
		return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	get := func(tc *tls.Config, path string) (int, error) {
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
		resp, err := cl.Get("https://" + httpAddr + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	bob := clientTLS(ca, "bob.auditor")
	code, err := get(bob, "/v1/quarantine/records")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "a mapped certificate authenticates without a token")
	code, err = get(bob, "/v1/quarantine/records/01ABC?reason=x")
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, code, "with its mapped role (auditor): no payload reads")
	code, err = get(clientTLS(ca, "mallory"), "/v1/quarantine/records")
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code, "a valid but unmapped certificate is nobody")
	_, err = get(clientTLS(other, "bob.auditor"), "/v1/quarantine/records")
	assert.Error(t, err, "a certificate of another CA fails the handshake")

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(bob)))
	require.NoError(t, err)
	defer conn.Close()
	client := consentryv1.NewAuditServiceClient(conn)
	_, err = client.ListQuarantinedRecords(ctx, &consentryv1.ListQuarantinedRecordsRequest{})
	require.NoError(t, err)
	_, err = client.GetQuarantinedRecord(ctx, &consentryv1.GetQuarantinedRecordRequest{Id: "01ABC", Reason: "x"})
	assert.Equal(t, codes.PermissionDenied, status.Code(err))
}
