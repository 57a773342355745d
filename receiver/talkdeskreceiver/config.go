package talkdeskreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
)

const (
	defaultEndpoint    = "localhost:7404"
	defaultTokenHeader = "X-Consentry-Token"

	minTokenLen = 16
)

// Config is the talkdesk receiver's configuration.
type Config struct {
	// HTTP server settings (endpoint, tls, auth, max_request_body_size,
	// timeouts), dedup and retry_after.
	webhook.Config `mapstructure:",squash"`

	// Tenants are the Talkdesk accounts this receiver accepts HTTP Notifier
	// and Webhook Trigger callbacks from, each with its own tokens. The token
	// a request presents identifies its tenant.
	Tenants []TenantConfig `mapstructure:"tenants"`

	// TokenHeader is the request header that carries a header token.
	// "Authorization" accepts "Bearer <token>".
	TokenHeader string `mapstructure:"token_header"`

	// ConsentFields maps payload field names (keys of the JSON template a
	// notifier sends, or of an Events API event's data) to consent signal
	// names; each present field becomes ccaas.consent.signal.<name> with the
	// field's raw value.
	ConsentFields map[string]string `mapstructure:"consent_fields"`

	// NoticeFields names the payload fields (a notifier template's keys, or
	// an Events API event's data) that carry a played notice: id, version,
	// and offset (when it was played, after the interaction's start;
	// offset_unit s or ms). They become ccaas.consent.notice.id, .version
	// and .offset.
	NoticeFields ccaas.NoticeMapping `mapstructure:"notice_fields"`

	// LocationFields names payload fields holding location hints per party
	// (customer, business, agent). Values such as "US-CA", "CA" or
	// "California" become ccaas.jurisdiction.hints entries.
	LocationFields ccaas.LocationMapping `mapstructure:"location_fields"`

	// TriggerAliases maps the trigger names used in webhook URLs to the
	// Talkdesk trigger they stand for, for HTTP Notifier automations whose
	// URL uses a name of your own (e.g. call-done: inboundCallEnds).
	TriggerAliases map[string]string `mapstructure:"trigger_aliases"`

	// Fields names the payload fields that hold the customer's identifiers,
	// the direction, the recording link, the agent's status and so on.
	Fields FieldsConfig `mapstructure:"fields"`

	// EventsAPI configures POST /talkdesk/events.
	EventsAPI EventsAPIConfig `mapstructure:"events_api"`

	// subject_salt (also used for Events API deliveries of accounts that
	// are not configured as tenants) and insecure_allow_unauthenticated
	// (also accepts Events API deliveries that carry no signature).
	tenant.Receiver `mapstructure:",squash"`
}

// TenantConfig is one Talkdesk account.
type TenantConfig struct {
	// AccountID is the Talkdesk account id; it becomes ccaas.tenant.id and
	// must match the account_id of the events the tenant's tokens deliver.
	AccountID string `mapstructure:"account_id"`
	// AccountName is the account's name (its subdomain). When set, events
	// that carry an account_name must carry this one.
	AccountName string `mapstructure:"account_name"`
	// HeaderTokens authenticate webhook callbacks through token_header.
	// Several tokens allow rotation.
	HeaderTokens []configopaque.String `mapstructure:"header_tokens"`
	// URLTokens authenticate webhook callbacks through the "token" query
	// parameter, for automations that cannot set a header. Keep them apart
	// from the header tokens: URLs end up in more places than headers.
	URLTokens []configopaque.String `mapstructure:"url_tokens"`
	// subject_salt: this account's own.
	tenant.Tenant `mapstructure:",squash"`
}

// EventsAPIConfig holds Talkdesk's Events API signing keys.
type EventsAPIConfig struct {
	// SignatureKeys are the ECDSA public keys Talkdesk signs Events API
	// deliveries with, by the id it sends in X-Hub-Ecdsa-Signature-Id.
	SignatureKeys []SignatureKeyConfig `mapstructure:"signature_keys"`
}

// SignatureKeyConfig is one Events API signing key.
type SignatureKeyConfig struct {
	// ID is the key id (X-Hub-Ecdsa-Signature-Id).
	ID string `mapstructure:"id"`
	// PublicKey is the PEM public key (or its base64 DER body, as Talkdesk's
	// /events/signature-keys/{id} endpoint serves it).
	PublicKey string `mapstructure:"public_key"`
}

// Validate checks the configuration; the collector calls it on load.
func (c *Config) Validate() error {
	var errs []error
	if c.TokenHeader == "" || strings.ContainsAny(c.TokenHeader, " :\t\r\n()<>@,;\\\"/[]?={}") {
		errs = append(errs, fmt.Errorf("token_header %q is not a valid header name", c.TokenHeader))
	}
	if !c.HasTenants(len(c.Tenants)) && len(c.EventsAPI.SignatureKeys) == 0 && !c.InsecureAllowUnauthenticated {
		errs = append(errs, errors.New("nothing can be authenticated: add tenants with tokens, events_api.signature_keys, or set insecure_allow_unauthenticated: true for local testing"))
	}
	unlisted := ""
	if len(c.EventsAPI.SignatureKeys) > 0 {
		unlisted = "Events API deliveries of accounts not listed"
	}
	errs = append(errs, c.Receiver.Check("account_id", c.tenants(), unlisted)...)
	seenToken := map[string]string{}
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if len(t.HeaderTokens) == 0 && len(t.URLTokens) == 0 {
			errs = append(errs, fmt.Errorf("%s (%s): no credentials: set header_tokens or url_tokens (an unset secret is an error, not an open door)", where, t.AccountID))
		}
		for _, set := range [...]struct {
			kind   string
			tokens []configopaque.String
		}{{"header_tokens", t.HeaderTokens}, {"url_tokens", t.URLTokens}} {
			kind := set.kind
			for j, tok := range set.tokens {
				switch owner, dup := seenToken[string(tok)]; {
				case tok == "":
					errs = append(errs, fmt.Errorf("%s.%s[%d] is empty (is its environment variable set?)", where, kind, j))
				case len(tok) < minTokenLen:
					errs = append(errs, fmt.Errorf("%s.%s[%d] is shorter than %d characters; use a random token (e.g. openssl rand -hex 32)", where, kind, j, minTokenLen))
				case dup:
					errs = append(errs, fmt.Errorf("%s.%s[%d] is also a token of %s; a token must identify one tenant and one place (header or URL)", where, kind, j, owner))
				default:
					seenToken[string(tok)] = fmt.Sprintf("account %q (%s)", t.AccountID, kind)
				}
			}
		}
	}
	var keys signature.ECDSAKeys
	for i, k := range c.EventsAPI.SignatureKeys {
		if err := keys.AddText(k.ID, k.PublicKey); err != nil {
			errs = append(errs, fmt.Errorf("events_api.signature_keys[%d]: %w", i, err))
		}
	}
	if err := c.NoticeFields.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("notice_fields: %w", err))
	}
	for field, sig := range c.ConsentFields {
		if field == "" || sig == "" || strings.ContainsAny(sig, " .") {
			errs = append(errs, fmt.Errorf("consent_fields: %q -> %q: both names must be set and the signal name must not contain spaces or dots", field, sig))
		}
	}
	errs = append(errs, c.Fields.validate()...)
	for alias, target := range c.TriggerAliases {
		if alias == "" || strings.ContainsAny(alias, "/?#") {
			errs = append(errs, fmt.Errorf("trigger_aliases: %q is not a valid URL path segment", alias))
		}
		if _, ok := lookupTrigger(target); !ok {
			errs = append(errs, fmt.Errorf("trigger_aliases: %q -> %q: not a known Talkdesk trigger (see the README for the list)", alias, target))
		}
	}
	return errors.Join(errs...)
}

// tenants are the configured accounts, for the tenant model.
func (c *Config) tenants() []tenant.Entry {
	out := make([]tenant.Entry, len(c.Tenants))
	for i, t := range c.Tenants {
		out[i] = tenant.Entry{ID: t.AccountID, Tenant: t.Tenant}
	}
	return out
}

// accounts are the configured accounts by id.
func (c *Config) accounts() map[string]account {
	out := make(map[string]account, len(c.Tenants))
	for _, t := range c.Tenants {
		out[t.AccountID] = account{id: t.AccountID, name: t.AccountName}
	}
	return out
}

func (c *Config) tokenHeader() string { return http.CanonicalHeaderKey(c.TokenHeader) }
