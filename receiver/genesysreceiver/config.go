package genesysreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/consentry/consentry/internal/webhook"
)

const defaultEndpoint = "localhost:7401"

// Config is the genesys receiver's configuration.
type Config struct {
	// HTTP server settings (endpoint, tls, auth, max_request_body_size,
	// timeouts), dedup and retry_after.
	webhook.Config `mapstructure:",squash"`

	// Tenants are the Genesys Cloud organizations this receiver accepts
	// events from, each with its own credentials.
	Tenants []TenantConfig `mapstructure:"tenants"`

	// APIKeyHeader is the request header that carries an API key (the
	// EventBridge API destination's "API key" connection, or the header a
	// data action sets). "Authorization" accepts "Bearer <key>".
	APIKeyHeader string `mapstructure:"api_key_header"`

	// SubjectSalt keys the pseudonymous subject hash for tenants that do not
	// set their own. At least 16 bytes.
	SubjectSalt configopaque.String `mapstructure:"subject_salt"`

	// ConsentAttributes maps Genesys participant attribute names (set by an
	// Architect flow with "Set Participant Data") to consent signal names;
	// each becomes the attribute ccaas.consent.signal.<name> with the
	// attribute's raw value.
	ConsentAttributes map[string]string `mapstructure:"consent_attributes"`

	// InsecureAllowUnauthenticated accepts requests that carry no credentials.
	// For local testing only: anyone who can reach the port can then inject
	// events.
	InsecureAllowUnauthenticated bool `mapstructure:"insecure_allow_unauthenticated"`
}

// TenantConfig is one Genesys Cloud organization.
type TenantConfig struct {
	// OrganizationID is the Genesys Cloud organization id; it becomes
	// ccaas.tenant.id and must match the org id in an EventBridge source.
	OrganizationID string `mapstructure:"organization_id"`
	// APIKeys authenticate /genesys/eventbridge and /genesys/notifications
	// through the api_key_header. Several keys allow rotation.
	APIKeys []configopaque.String `mapstructure:"api_keys"`
	// BasicAuth credentials authenticate the same two routes (EventBridge
	// "Basic" connections, data action basic auth).
	BasicAuth []BasicAuthConfig `mapstructure:"basic_auth"`
	// OpenMessagingSecrets verify X-Hub-Signature-256 on
	// /genesys/openmessaging (the integration's signature secret token).
	OpenMessagingSecrets []configopaque.String `mapstructure:"open_messaging_secrets"`
	// SubjectSalt overrides the receiver's subject_salt for this tenant.
	SubjectSalt configopaque.String `mapstructure:"subject_salt"`
}

// BasicAuthConfig is one HTTP Basic credential.
type BasicAuthConfig struct {
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
}

const minSaltLen = 16

// Validate checks the configuration; the collector calls it on load.
func (c *Config) Validate() error {
	var errs []error
	if c.APIKeyHeader == "" || strings.ContainsAny(c.APIKeyHeader, " :\t\r\n") {
		errs = append(errs, fmt.Errorf("api_key_header %q is not a valid header name", c.APIKeyHeader))
	}
	if len(c.Tenants) == 0 && !c.InsecureAllowUnauthenticated {
		errs = append(errs, errors.New("no tenants configured: add at least one tenant with credentials, or set insecure_allow_unauthenticated: true for local testing"))
	}
	if len(c.Tenants) == 0 && c.InsecureAllowUnauthenticated && len(c.SubjectSalt) < minSaltLen {
		errs = append(errs, fmt.Errorf("subject_salt must be at least %d bytes", minSaltLen))
	}
	seenOrg := map[string]bool{}
	seenKey := map[string]string{}
	seenUser := map[string]string{}
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if t.OrganizationID == "" {
			errs = append(errs, fmt.Errorf("%s: organization_id must be set", where))
		} else if seenOrg[t.OrganizationID] {
			errs = append(errs, fmt.Errorf("%s: organization_id %q is configured twice", where, t.OrganizationID))
		}
		seenOrg[t.OrganizationID] = true
		if len(t.APIKeys) == 0 && len(t.BasicAuth) == 0 && len(t.OpenMessagingSecrets) == 0 {
			errs = append(errs, fmt.Errorf("%s (%s): no credentials: set api_keys, basic_auth or open_messaging_secrets (an unset secret is an error, not an open door)", where, t.OrganizationID))
		}
		for j, k := range t.APIKeys {
			switch owner, dup := seenKey[string(k)]; {
			case k == "":
				errs = append(errs, fmt.Errorf("%s.api_keys[%d] is empty (is its environment variable set?)", where, j))
			case dup:
				errs = append(errs, fmt.Errorf("%s.api_keys[%d] is also an API key of organization %q; keys must identify one tenant", where, j, owner))
			default:
				seenKey[string(k)] = t.OrganizationID
			}
		}
		for j, b := range t.BasicAuth {
			if b.Username == "" || b.Password == "" {
				errs = append(errs, fmt.Errorf("%s.basic_auth[%d]: username and password must both be set", where, j))
			}
			if owner, ok := seenUser[b.Username]; ok && owner != t.OrganizationID {
				errs = append(errs, fmt.Errorf("%s.basic_auth[%d]: username %q is also used by organization %q", where, j, b.Username, owner))
			}
			seenUser[b.Username] = t.OrganizationID
		}
		for j, s := range t.OpenMessagingSecrets {
			if s == "" {
				errs = append(errs, fmt.Errorf("%s.open_messaging_secrets[%d] is empty (is its environment variable set?)", where, j))
			}
		}
		salt := t.SubjectSalt
		if salt == "" {
			salt = c.SubjectSalt
		}
		if len(salt) < minSaltLen {
			errs = append(errs, fmt.Errorf("%s: subject_salt (or the receiver's subject_salt) must be at least %d bytes", where, minSaltLen))
		}
	}
	for attr, sig := range c.ConsentAttributes {
		if attr == "" || sig == "" || strings.ContainsAny(sig, " .") {
			errs = append(errs, fmt.Errorf("consent_attributes: %q -> %q: both names must be set and the signal name must not contain spaces or dots", attr, sig))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) apiKeyHeader() string { return http.CanonicalHeaderKey(c.APIKeyHeader) }
