package auditapi

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestAuthConfigValidate(t *testing.T) {
	good := HashToken("t")
	all := []string{AllTenants}
	for _, c := range []struct {
		name string
		cfg  *AuthConfig
		want string
	}{
		{"nil", nil, "missing"},
		{"empty", &AuthConfig{}, "nobody could call"},
		{"ok", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: good, Tenants: all}}}, ""},
		{"some tenants", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: good, Tenants: []string{"acme", "AC0123"}}}}, ""},
		{"file only", &AuthConfig{TokensFile: "x.yaml"}, ""},
		{"certs only", &AuthConfig{ClientCerts: []ClientCertConfig{{Subject: "ops", Role: "admin", Tenants: all}}}, ""},
		{"raw token", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: "my-secret-token", Tenants: all}}}, "64 hex digits"},
		{"bad role", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "root", SHA256: good, Tenants: all}}}, "unknown role"},
		{"no identity", &AuthConfig{Tokens: []TokenConfig{{Role: "admin", SHA256: good, Tenants: all}}}, "identity is empty"},
		{"dup", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "admin", SHA256: good, Tenants: all}, {Identity: "b", Role: "auditor", SHA256: strings.ToUpper(good), Tenants: all}}}, "twice"},
		{"cert no subject", &AuthConfig{ClientCerts: []ClientCertConfig{{Role: "admin", Tenants: all}}}, "subject is empty"},
		{"token without tenants", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: good}}}, "tenants is required"},
		{"cert without tenants", &AuthConfig{ClientCerts: []ClientCertConfig{{Subject: "ops", Role: "admin"}}}, "tenants is required"},
		{"all and more", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: good, Tenants: []string{"*", "acme"}}}}, "cannot be combined"},
		{"wildcard", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: good, Tenants: []string{"acme*"}}}}, "wildcards"},
		{"blank tenant", &AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "auditor", SHA256: good, Tenants: []string{" "}}}}, "not a tenant name"},
	} {
		err := c.cfg.Check()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "my-secret-token") {
			t.Errorf("%s: error echoes the token: %v", c.name, err)
		}
	}
}

func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "tokens.yaml")
	jsonPath := filepath.Join(dir, "tokens.json")
	os.WriteFile(yamlPath, []byte("tokens:\n  - identity: alice\n    role: investigator\n    tenants: [acme, AC0123]\n    sha256: "+HashToken("alice-token")+"\n"), 0o600)
	os.WriteFile(jsonPath, []byte(`{"tokens":[{"identity":"bob","role":"custodian","tenants":["*"],"sha256":"`+HashToken("bob-token")+`"}]}`), 0o600)
	for path, want := range map[string]principal{
		yamlPath: {identity: "alice", role: RoleInvestigator, tenants: []string{"acme", "AC0123"}, via: "token"},
		jsonPath: {identity: "bob", role: RoleCustodian, tenants: []string{"*"}, via: "token"},
	} {
		a, err := newAuthenticator(&AuthConfig{TokensFile: path})
		if err != nil {
			t.Fatal(err)
		}
		tok := map[string]string{"alice": "alice-token", "bob": "bob-token"}[want.identity]
		if p, ok := a.byToken(tok); !ok || p.identity != want.identity || p.role != want.role || p.via != want.via || !slices.Equal(p.tenants, want.tenants) {
			t.Errorf("%s: %+v %v", path, p, ok)
		}
		if _, ok := a.byToken(tok + "x"); ok {
			t.Errorf("%s: wrong token accepted", path)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("tokens:\n  - identity: x\n    role: auditor\n    tenants: ['*']\n    token: plain\n"), 0o600)
	if _, err := newAuthenticator(&AuthConfig{TokensFile: bad}); err == nil || strings.Contains(err.Error(), "plain") {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := newAuthenticator(&AuthConfig{TokensFile: filepath.Join(dir, "missing.yaml")}); err == nil {
		t.Fatal("missing file accepted")
	}
	if _, err := newAuthenticator(&AuthConfig{TokensFile: yamlPath, Tokens: []TokenConfig{{Identity: "a2", Role: "admin", SHA256: HashToken("alice-token"), Tenants: []string{"*"}}}}); err == nil {
		t.Fatal("token both inline and in the file accepted")
	}
}

func TestClientCertMapping(t *testing.T) {
	a, err := newAuthenticator(&AuthConfig{ClientCerts: []ClientCertConfig{
		{Subject: "auditor.example.org", Role: "auditor", Tenants: []string{"acme"}},
		{Subject: "spiffe://example.org/ops", Identity: "ops", Role: "admin", Tenants: []string{"*"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("spiffe://example.org/ops")
	for _, c := range []struct {
		cert *x509.Certificate
		want string
	}{
		{&x509.Certificate{Subject: pkix.Name{CommonName: "Auditor.Example.org"}}, "auditor.example.org"},
		{&x509.Certificate{DNSNames: []string{"x", "auditor.example.org"}}, "auditor.example.org"},
		{&x509.Certificate{URIs: []*url.URL{u}}, "ops"},
		{&x509.Certificate{Subject: pkix.Name{CommonName: "someone.else"}}, ""},
	} {
		p, ok := a.byCert(c.cert)
		if ok != (c.want != "") || p.identity != c.want {
			t.Errorf("%v: %+v %v, want %q", c.cert.Subject, p, ok, c.want)
		}
	}
}

// TestEmptyTokenHashRefused: the SHA-256 of the empty string as a token
// hash (printf %s "$TOKEN" | sha256sum with TOKEN unset) would let anyone
// who sends an empty bearer token in, were one accepted: it is refused,
// also in upper case and in the tokens file.
func TestEmptyTokenHashRefused(t *testing.T) {
	empty := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, h := range []string{empty, strings.ToUpper(empty)} {
		err := (&AuthConfig{Tokens: []TokenConfig{{Identity: "a", Role: "admin", SHA256: h, Tenants: []string{"*"}}}}).Check()
		if err == nil || !strings.Contains(err.Error(), "SHA-256 of the empty string") {
			t.Errorf("%s: %v", h, err)
		}
	}
	f := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(f, []byte(`tokens: [{identity: b, role: auditor, tenants: ["*"], sha256: `+empty+`}]`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newAuthenticator(&AuthConfig{TokensFile: f}); err == nil || !strings.Contains(err.Error(), "SHA-256 of the empty string") {
		t.Errorf("tokens file: %v", err)
	}
}
