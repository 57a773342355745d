package segmentreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
)

const defaultEndpoint = "localhost:7403"

// Where Consentry looks for IAB consent strings when nothing else is
// configured. Segment defines no field for them; these are the names the IAB
// CMP APIs use (__tcfapi's tcString, __gpp's gppString) under
// context.consent, where Segment's own consent object lives, and the
// OpenRTB / URL-macro names some server-side integrations use.
var (
	defaultTCFFields = []string{"context.consent.tcString", "context.consent.tcfString", "context.gdpr_consent"}
	defaultGPPFields = []string{"context.consent.gppString", "context.consent.gpp", "context.gpp"}
	defaultUSPFields = []string{"context.consent.usPrivacy", "context.consent.us_privacy", "context.us_privacy", "context.usPrivacy"}
)

// Config is the segment receiver's configuration.
type Config struct {
	// HTTP server settings (endpoint, tls, auth, cors, max_request_body_size,
	// timeouts), dedup and retry_after.
	webhook.Config `mapstructure:",squash"`

	// Tenants are the Segment sources this receiver accepts events from, each
	// with its own secrets.
	Tenants []TenantConfig `mapstructure:"tenants"`

	// BatchAuthHeader names a request header whose value (one of a tenant's
	// batch_auth_secrets) authenticates a whole webhook request. Segment
	// signs only the first event of a batched delivery, so batched (array)
	// deliveries to /segment/webhook are refused unless this header
	// authenticates them. Empty: batches are refused. "Authorization"
	// accepts "Bearer <secret>".
	BatchAuthHeader string `mapstructure:"batch_auth_header"`

	// TCFFields and GPPFields are dotted paths into a Segment event where an
	// IAB TCF v2 TC string and an IAB GPP string may be found; the first
	// non-empty string becomes ccaas.consent.tcf / ccaas.consent.gpp.
	TCFFields []string `mapstructure:"tcf_fields"`
	GPPFields []string `mapstructure:"gpp_fields"`
	// USPFields are the paths where an IAB US Privacy string (us_privacy,
	// "1YNN") may be found; it becomes ccaas.consent.usp.
	USPFields []string `mapstructure:"usp_fields"`

	// subject_salt and insecure_allow_unauthenticated.
	tenant.Receiver `mapstructure:",squash"`
}

// TenantConfig is one Segment source.
type TenantConfig struct {
	// SourceID identifies the Segment source (its id or slug); it becomes
	// ccaas.tenant.id.
	SourceID string `mapstructure:"source_id"`
	// SharedSecrets verify X-Signature on /segment/webhook (the webhook
	// destination's "Shared Secret"). Several allow rotation.
	SharedSecrets []configopaque.String `mapstructure:"shared_secrets"`
	// BatchAuthSecrets are accepted in the batch_auth_header on
	// /segment/webhook; they authenticate the whole request, batched or not.
	BatchAuthSecrets []configopaque.String `mapstructure:"batch_auth_secrets"`
	// WriteKeys authenticate the Tracking API routes (/v1/*): the SDK's
	// write key, as the HTTP Basic user name or as writeKey in the body.
	WriteKeys []configopaque.String `mapstructure:"write_keys"`
	// subject_salt: this source's own.
	tenant.Tenant `mapstructure:",squash"`
}

// Validate checks the configuration; the collector calls it on load.
func (c *Config) Validate() error {
	var errs []error
	if h := c.BatchAuthHeader; h != "" {
		switch {
		case strings.ContainsAny(h, " :\t\r\n"):
			errs = append(errs, fmt.Errorf("batch_auth_header %q is not a valid header name", h))
		case strings.EqualFold(h, HeaderSignature):
			errs = append(errs, fmt.Errorf("batch_auth_header must not be %s: that header carries Segment's signature", HeaderSignature))
		}
	}
	if !c.HasTenants(len(c.Tenants)) && !c.InsecureAllowUnauthenticated {
		errs = append(errs, errors.New("no tenants configured: add at least one tenant with secrets, or set insecure_allow_unauthenticated: true for local testing"))
	}
	errs = append(errs, c.Receiver.Check("source_id", c.tenants(), "")...)
	// Every secret identifies its tenant, so no secret may belong to two.
	seen := map[string]map[string]string{"shared_secrets": {}, "batch_auth_secrets": {}, "write_keys": {}}
	anyBatchSecret := false
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if len(t.SharedSecrets) == 0 && len(t.BatchAuthSecrets) == 0 && len(t.WriteKeys) == 0 {
			errs = append(errs, fmt.Errorf("%s (%s): no secrets: set shared_secrets, batch_auth_secrets or write_keys (an unset secret is an error, not an open door)", where, t.SourceID))
		}
		for _, list := range []struct {
			key     string
			secrets []configopaque.String
		}{{"shared_secrets", t.SharedSecrets}, {"batch_auth_secrets", t.BatchAuthSecrets}, {"write_keys", t.WriteKeys}} {
			for j, s := range list.secrets {
				owner, dup := seen[list.key][string(s)]
				switch {
				case s == "":
					errs = append(errs, fmt.Errorf("%s.%s[%d] is empty (is its environment variable set?)", where, list.key, j))
				case dup && owner != t.SourceID:
					errs = append(errs, fmt.Errorf("%s.%s[%d] is also configured for source %q; a secret must identify one tenant", where, list.key, j, owner))
				default:
					seen[list.key][string(s)] = t.SourceID
				}
				if list.key != "write_keys" { // a write key is public: it ships in the browser
					if err := tenant.ShortSecret(fmt.Sprintf("%s.%s[%d]", where, list.key, j), s); err != nil {
						errs = append(errs, err)
					}
				}
			}
		}
		if len(t.BatchAuthSecrets) > 0 {
			anyBatchSecret = true
		}
	}
	if anyBatchSecret && c.BatchAuthHeader == "" {
		errs = append(errs, errors.New("batch_auth_secrets are configured but batch_auth_header is not: name the header Segment sends them in"))
	}
	if !anyBatchSecret && c.BatchAuthHeader != "" && len(c.Tenants) > 0 {
		errs = append(errs, errors.New("batch_auth_header is set but no tenant has batch_auth_secrets"))
	}
	for key, paths := range map[string][]string{"tcf_fields": c.TCFFields, "gpp_fields": c.GPPFields, "usp_fields": c.USPFields} {
		for i, p := range paths {
			if !validPath(p) {
				errs = append(errs, fmt.Errorf("%s[%d] %q is not a dotted path such as context.consent.tcString", key, i, p))
			}
		}
	}
	return errors.Join(errs...)
}

// tenants are the configured sources, for the tenant model.
func (c *Config) tenants() []tenant.Entry {
	out := make([]tenant.Entry, len(c.Tenants))
	for i, t := range c.Tenants {
		out[i] = tenant.Entry{ID: t.SourceID, Tenant: t.Tenant}
	}
	return out
}

func validPath(p string) bool {
	if p == "" {
		return false
	}
	for _, part := range strings.Split(p, ".") {
		if part == "" {
			return false
		}
	}
	return true
}

func splitPaths(paths []string) [][]string {
	out := make([][]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, strings.Split(p, "."))
	}
	return out
}

func (c *Config) batchAuthHeader() string {
	if c.BatchAuthHeader == "" {
		return ""
	}
	return http.CanonicalHeaderKey(c.BatchAuthHeader)
}
