package auditapi

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Role is what an identity may do. Each role has the rights of the roles
// before it.
type Role int

// Roles, weakest first.
const (
	RoleNone Role = iota
	// RoleAuditor lists metadata, statistics, consent records and the
	// access log, and verifies the ledger.
	RoleAuditor
	// RoleInvestigator adds decrypted reads (with a reason) and evidence
	// export.
	RoleInvestigator
	// RoleCustodian adds recording consent, release, purge and erasure.
	RoleCustodian
	// RoleAdmin may do everything.
	RoleAdmin
)

var roleNames = []string{"none", "auditor", "investigator", "custodian", "admin"}

func (r Role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("role(%d)", int(r))
	}
	return roleNames[r]
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	for i, n := range roleNames[1:] {
		if strings.EqualFold(s, n) {
			return Role(i + 1), nil
		}
	}
	return RoleNone, fmt.Errorf("unknown role %q (want auditor, investigator, custodian or admin)", s)
}

// AuthConfig configures who may call the auditor API: bearer tokens,
// stored only as SHA-256 hashes, and optionally mTLS client certificates
// mapped to identities. The extension embeds it under `api.auth`.
type AuthConfig struct {
	// Tokens are bearer tokens: identity, role and the token's SHA-256 in
	// hex (`printf %s "$TOKEN" | sha256sum`).
	Tokens []TokenConfig `mapstructure:"tokens"`
	// TokensFile is a YAML or JSON file with more tokens, in the same shape
	// (`tokens: [{identity, role, sha256}]`), read at start.
	TokensFile string `mapstructure:"tokens_file"`
	// ClientCerts map verified client certificates to identities: a
	// certificate matches when its subject common name, or one of its DNS
	// or URI subject alternative names, equals Subject. Only certificates
	// that the TLS server verified against its client CA count.
	ClientCerts []ClientCertConfig `mapstructure:"client_certs"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TokenConfig is one bearer token.
type TokenConfig struct {
	Identity string `mapstructure:"identity" yaml:"identity" json:"identity"`
	Role     string `mapstructure:"role" yaml:"role" json:"role"`
	// Tenants are the tenants the identity may see (required): tenant
	// names (a tenants registry's tenant ids, or ccaas.tenant.id values and
	// consent scopes), or ["*"] for every tenant.
	Tenants []string `mapstructure:"tenants" yaml:"tenants" json:"tenants"`
	// SHA256 is the hex SHA-256 of the token; the token itself is never
	// configured.
	SHA256 string `mapstructure:"sha256" yaml:"sha256" json:"sha256"`
}

// ClientCertConfig maps a client certificate to an identity and a role.
type ClientCertConfig struct {
	// Subject is a common name, DNS name or URI (e.g. a SPIFFE id).
	Subject string `mapstructure:"subject"`
	// Identity defaults to Subject.
	Identity string `mapstructure:"identity"`
	Role     string `mapstructure:"role"`
	// Tenants are the tenants the identity may see (required), as for
	// tokens.
	Tenants []string `mapstructure:"tenants"`
}

// emptyTokenHash is the SHA-256 of the empty string: what hashing an unset
// variable gives.
var emptyTokenHash = HashToken("")

// HashToken returns the hex SHA-256 of a bearer token: what TokenConfig
// stores.
func HashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// Check checks the configuration without reading TokensFile. It is not
// named Validate on purpose: the collector validates every nested config
// struct, and an auth section is only required when the API is served (the
// extension's APIConfig.Validate calls Check then).
func (c *AuthConfig) Check() error {
	if c == nil {
		return errors.New("api.auth: missing: configure tokens, tokens_file or client_certs")
	}
	if len(c.Tokens) == 0 && c.TokensFile == "" && len(c.ClientCerts) == 0 {
		return errors.New("api.auth: no tokens, tokens_file or client_certs: nobody could call the audit API")
	}
	_, err := compileTokens(c.Tokens, "api.auth.tokens")
	if err != nil {
		return err
	}
	_, err = compileCerts(c.ClientCerts)
	return err
}

type credential struct {
	identity string
	role     Role
	tenants  []string
	hash     [sha256.Size]byte
}

type certMapping struct {
	subject  string
	identity string
	role     Role
	tenants  []string
}

func compileTokens(ts []TokenConfig, where string) ([]credential, error) {
	out := make([]credential, 0, len(ts))
	seen := map[string]bool{}
	for i, t := range ts {
		if strings.TrimSpace(t.Identity) == "" {
			return nil, fmt.Errorf("%s[%d]: identity is empty", where, i)
		}
		r, err := ParseRole(t.Role)
		if err != nil {
			return nil, fmt.Errorf("%s[%d] (%s): %w", where, i, t.Identity, err)
		}
		if err := checkTenantNames(t.Tenants); err != nil {
			return nil, fmt.Errorf("%s[%d] (%s): %w", where, i, t.Identity, err)
		}
		h := strings.ToLower(strings.TrimSpace(t.SHA256))
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("%s[%d] (%s): sha256 must be the 64 hex digits of the token's SHA-256 (printf %%s \"$TOKEN\" | sha256sum), not the token", where, i, t.Identity)
		}
		if h == emptyTokenHash {
			return nil, fmt.Errorf("%s[%d] (%s): sha256 is the SHA-256 of the empty string: the token was empty when it was hashed (printf %%s \"$TOKEN\" with TOKEN unset?); hash the real token", where, i, t.Identity)
		}
		if seen[h] {
			return nil, fmt.Errorf("%s[%d] (%s): the same token hash is configured twice", where, i, t.Identity)
		}
		seen[h] = true
		c := credential{identity: t.Identity, role: r, tenants: slices.Clone(t.Tenants)}
		copy(c.hash[:], b)
		out = append(out, c)
	}
	return out, nil
}

func compileCerts(cs []ClientCertConfig) ([]certMapping, error) {
	out := make([]certMapping, 0, len(cs))
	for i, c := range cs {
		if strings.TrimSpace(c.Subject) == "" {
			return nil, fmt.Errorf("api.auth.client_certs[%d]: subject is empty", i)
		}
		r, err := ParseRole(c.Role)
		if err != nil {
			return nil, fmt.Errorf("api.auth.client_certs[%d] (%s): %w", i, c.Subject, err)
		}
		if err := checkTenantNames(c.Tenants); err != nil {
			return nil, fmt.Errorf("api.auth.client_certs[%d] (%s): %w", i, c.Subject, err)
		}
		id := c.Identity
		if id == "" {
			id = c.Subject
		}
		out = append(out, certMapping{subject: c.Subject, identity: id, role: r, tenants: slices.Clone(c.Tenants)})
	}
	return out, nil
}

// tokensFile is the shape of AuthConfig.TokensFile.
type tokensFile struct {
	Tokens []TokenConfig `yaml:"tokens" json:"tokens"`
}

func loadTokensFile(path string) ([]TokenConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("api.auth.tokens_file: %w", err)
	}
	var f tokensFile
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("api.auth.tokens_file %s: %w (want YAML or JSON: tokens: [{identity, role, tenants, sha256}])", path, err)
	}
	return f.Tokens, nil
}

// authenticator holds the compiled credentials.
type authenticator struct {
	tokens []credential
	byHash map[[sha256.Size]byte]int // index in tokens
	certs  []certMapping
}

func newAuthenticator(c *AuthConfig) (*authenticator, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	tokens, err := compileTokens(c.Tokens, "api.auth.tokens")
	if err != nil {
		return nil, err
	}
	if c.TokensFile != "" {
		more, err := loadTokensFile(c.TokensFile)
		if err != nil {
			return nil, err
		}
		extra, err := compileTokens(more, "api.auth.tokens_file "+c.TokensFile+": tokens")
		if err != nil {
			return nil, err
		}
		seen := map[[sha256.Size]byte]bool{}
		for _, t := range tokens {
			seen[t.hash] = true
		}
		for _, t := range extra {
			if seen[t.hash] {
				return nil, fmt.Errorf("api.auth: token of %s is configured both inline and in tokens_file", t.identity)
			}
			tokens = append(tokens, t)
		}
	}
	certs, err := compileCerts(c.ClientCerts)
	if err != nil {
		return nil, err
	}
	byHash := make(map[[sha256.Size]byte]int, len(tokens))
	for i, t := range tokens {
		byHash[t.hash] = i
	}
	return &authenticator{tokens: tokens, byHash: byHash, certs: certs}, nil
}

// principal is an authenticated caller.
type principal struct {
	identity string
	role     Role
	tenants  []string // tenant names, or ["*"]
	via      string   // "token" or "mtls"
}

// maxTokenLen bounds the bearer tokens considered.
const maxTokenLen = 4096

// byToken finds the credential of a bearer token. The token is hashed
// first and the hash looked up, so the time taken depends on the digest,
// never on how much of a real token was guessed right, and not on how many
// tokens are configured (a vendor's thousand tenants' auditors).
func (a *authenticator) byToken(token string) (principal, bool) {
	sum := sha256.Sum256([]byte(token))
	i, ok := a.byHash[sum]
	if !ok {
		return principal{}, false
	}
	t := &a.tokens[i]
	return principal{identity: t.identity, role: t.role, tenants: t.tenants, via: "token"}, true
}

// byCert maps a verified client certificate.
func (a *authenticator) byCert(cert *x509.Certificate) (principal, bool) {
	names := certNames(cert)
	for _, m := range a.certs {
		for _, n := range names {
			if n == m.subject || strings.EqualFold(n, m.subject) && !strings.Contains(n, ":") {
				return principal{identity: m.identity, role: m.role, tenants: m.tenants, via: "mtls"}, true
			}
		}
	}
	return principal{}, false
}

func certNames(cert *x509.Certificate) []string {
	var names []string
	if cert.Subject.CommonName != "" {
		names = append(names, cert.Subject.CommonName)
	}
	names = append(names, cert.DNSNames...)
	for _, u := range cert.URIs {
		names = append(names, u.String())
	}
	return names
}
