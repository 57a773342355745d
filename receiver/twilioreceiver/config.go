package twilioreceiver

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/tenant"
	"github.com/consentry/consentry/internal/webhook"
)

const (
	defaultEndpoint = "localhost:7402"
	defaultDedupTTL = 24 * time.Hour
)

// Config is the twilio receiver's configuration.
type Config struct {
	// HTTP server settings (endpoint, tls, auth, max_request_body_size,
	// timeouts), dedup and retry_after.
	webhook.Config `mapstructure:",squash"`

	// PublicURL is the scheme, host, optional port and optional path prefix
	// under which Twilio reaches this receiver, e.g.
	// "https://hooks.example.com" when a proxy forwards
	// https://hooks.example.com/twilio/... to the collector. Twilio signs the
	// URL it requested, so the signed URL is PublicURL + the request path +
	// its raw query. Required unless the receiver runs without tenants in
	// insecure mode.
	PublicURL string `mapstructure:"public_url"`

	// Tenants are the Twilio accounts this receiver accepts events from.
	Tenants []TenantConfig `mapstructure:"tenants"`

	// ConsentAttributes maps attribute paths inside TaskRouter
	// TaskAttributes (and Conversations Attributes) to consent signal names;
	// each present attribute becomes ccaas.consent.signal.<name> with its raw
	// value. A path is a key, or keys joined by dots for nested objects
	// ("consent.recording").
	ConsentAttributes map[string]string `mapstructure:"consent_attributes"`

	// NoticeAttributes names the TaskAttributes (and Conversations
	// Attributes) paths a Studio flow or Flex plugin writes when it plays a
	// notice ("this call is recorded"): id, version, and offset (when it
	// was played, after the interaction's start; offset_unit s or ms). They
	// become ccaas.consent.notice.id, .version and .offset.
	NoticeAttributes ccaas.NoticeMapping `mapstructure:"notice_attributes"`

	// LocationAttributes names TaskAttributes paths holding location hints
	// per party (customer, business, agent): a state on file, the agent's
	// site. Values such as "US-CA", "CA" or "California" become
	// ccaas.jurisdiction.hints entries ("US-CA@customer.attribute").
	LocationAttributes ccaas.LocationMapping `mapstructure:"location_attributes"`

	// SubjectAttributes are attribute paths inside TaskAttributes that hold
	// the customer's identifier (phone number, e-mail address or CRM id),
	// tried in order before the built-in ones.
	SubjectAttributes []string `mapstructure:"subject_attributes"`

	// Messaging configures Programmable Messaging webhooks: which message
	// bodies are opt-out, opt-in and help keywords, and the consent signal
	// an opt-out or opt-in becomes.
	Messaging MessagingConfig `mapstructure:"messaging"`

	// Conference configures conference status callbacks: which participant
	// labels name agents and which customers.
	Conference ConferenceConfig `mapstructure:"conference"`

	// subject_salt and insecure_allow_unauthenticated (requests without an
	// X-Twilio-Signature are accepted; a signature that is present is still
	// verified).
	tenant.Receiver `mapstructure:",squash"`
}

// MessagingConfig configures Programmable Messaging webhooks.
type MessagingConfig struct {
	// ConsentSignal is the name of the consent signal an opt-out or opt-in
	// keyword becomes: ccaas.consent.signal.<name> = opt_out | opt_in. The
	// policy's consent_sources.twilio.signals.<name> says which purposes it
	// grants and denies. Default "messaging".
	ConsentSignal string `mapstructure:"consent_signal"`
	// OptOutKeywords, OptInKeywords and HelpKeywords are the message bodies
	// (compared whole, trimmed, case-insensitively) that opt out, opt back
	// in, or ask for help. A Twilio OptOutType parameter (sent when Advanced
	// Opt-Out matched a keyword of its own) decides first. Defaults: Twilio's
	// standard keywords.
	OptOutKeywords []string `mapstructure:"opt_out_keywords"`
	OptInKeywords  []string `mapstructure:"opt_in_keywords"`
	HelpKeywords   []string `mapstructure:"help_keywords"`
}

// ConferenceConfig configures conference status callbacks.
type ConferenceConfig struct {
	// AgentLabels are participant labels (compared case-insensitively) of
	// agents' legs: their join and leave are agent segments. Default:
	// worker, agent (Flex labels the worker's leg "worker").
	AgentLabels []string `mapstructure:"agent_labels"`
	// CustomerLabels are participant labels of the customer's leg. Default:
	// customer.
	CustomerLabels []string `mapstructure:"customer_labels"`
}

// Twilio's standard messaging keywords (Twilio support: "opt-out keywords
// (SMS STOP filtering)"; Advanced Opt-Out tutorial).
var (
	defaultOptOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	defaultOptInKeywords  = []string{"START", "YES", "UNSTOP"}
	defaultHelpKeywords   = []string{"HELP", "INFO"}
)

// TenantConfig is one Twilio account.
type TenantConfig struct {
	// AccountSID is the account's SID (AC followed by 32 hex digits); it
	// becomes ccaas.tenant.id.
	AccountSID string `mapstructure:"account_sid"`
	// AuthTokens are the account's auth tokens: the primary one, and the
	// secondary one while a rotation is under way.
	AuthTokens []configopaque.String `mapstructure:"auth_tokens"`
	// SubaccountSIDs are subaccounts whose events arrive signed with this
	// account's auth token (for example on an Event Streams sink of the
	// parent account). Their events keep their own SID as tenant. A
	// subaccount that signs with its own auth token is a tenant of its own.
	SubaccountSIDs []string `mapstructure:"subaccount_sids"`
	// subject_salt: this account's and its subaccounts' own.
	tenant.Tenant `mapstructure:",squash"`
}

// Validate checks the configuration; the collector calls it on load.
func (c *Config) Validate() error {
	var errs []error
	if !c.HasTenants(len(c.Tenants)) && !c.InsecureAllowUnauthenticated {
		errs = append(errs, errors.New("no tenants configured: add at least one Twilio account with its auth token, or set insecure_allow_unauthenticated: true for local testing"))
	}
	errs = append(errs, c.Receiver.Check("account_sid", c.tenants(), "")...)
	if c.HasTenants(len(c.Tenants)) || c.PublicURL != "" {
		if _, err := parsePublicURL(c.PublicURL); err != nil {
			errs = append(errs, err)
		}
	}
	// Account SIDs are checked by the tenant model; a subaccount must not
	// be an account, nor the subaccount of two.
	seenSID := map[string]string{}
	for i, t := range c.Tenants {
		seenSID[t.AccountSID] = fmt.Sprintf("tenants[%d]", i)
	}
	claim := func(where, sid, owner string) {
		if prev, dup := seenSID[sid]; dup {
			errs = append(errs, fmt.Errorf("%s: account SID %q is configured twice (already under %s)", where, sid, prev))
			return
		}
		seenSID[sid] = owner
	}
	seenToken := map[string]string{}
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		if t.AccountSID != "" && !validSID(t.AccountSID) {
			errs = append(errs, fmt.Errorf("%s: account_sid %q is not a Twilio account SID (AC followed by 32 hex digits)", where, t.AccountSID))
		}
		if len(t.AuthTokens) == 0 {
			errs = append(errs, fmt.Errorf("%s (%s): auth_tokens must list the account's auth token (an unset secret is an error, not an open door)", where, t.AccountSID))
		}
		for j, tok := range t.AuthTokens {
			switch owner, dup := seenToken[string(tok)]; {
			case tok == "":
				errs = append(errs, fmt.Errorf("%s.auth_tokens[%d] is empty (is its environment variable set?)", where, j))
			case dup && owner != t.AccountSID:
				errs = append(errs, fmt.Errorf("%s.auth_tokens[%d] is also an auth token of account %q; a token must identify one tenant", where, j, owner))
			default:
				seenToken[string(tok)] = t.AccountSID
			}
			if err := tenant.ShortSecret(fmt.Sprintf("%s.auth_tokens[%d]", where, j), tok); err != nil {
				errs = append(errs, err)
			}
		}
		for j, sub := range t.SubaccountSIDs {
			if !validSID(sub) {
				errs = append(errs, fmt.Errorf("%s.subaccount_sids[%d]: %q is not a Twilio account SID", where, j, sub))
				continue
			}
			claim(fmt.Sprintf("%s.subaccount_sids[%d]", where, j), sub, where)
		}
	}
	if err := c.NoticeAttributes.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("notice_attributes: %w", err))
	}
	for path, sig := range c.ConsentAttributes {
		if path == "" || sig == "" || strings.ContainsAny(sig, " .") {
			errs = append(errs, fmt.Errorf("consent_attributes: %q -> %q: both names must be set and the signal name must not contain spaces or dots", path, sig))
		}
	}
	if sig := c.Messaging.ConsentSignal; sig != "" && strings.ContainsAny(sig, " .") {
		errs = append(errs, fmt.Errorf("messaging.consent_signal %q must not contain spaces or dots", sig))
	}
	seenKeyword := map[string]string{}
	for _, set := range [...]struct {
		name  string
		words []string
	}{
		{"opt_out_keywords", c.Messaging.OptOutKeywords},
		{"opt_in_keywords", c.Messaging.OptInKeywords},
		{"help_keywords", c.Messaging.HelpKeywords},
	} {
		for i, w := range set.words {
			k := normKeyword(w)
			switch prev, dup := seenKeyword[k]; {
			case k == "":
				errs = append(errs, fmt.Errorf("messaging.%s[%d] is empty", set.name, i))
			case dup && prev != set.name:
				errs = append(errs, fmt.Errorf("messaging.%s[%d]: %q is also one of %s", set.name, i, w, prev))
			default:
				seenKeyword[k] = set.name
			}
		}
	}
	for _, set := range [...]struct {
		name   string
		labels []string
	}{{"agent_labels", c.Conference.AgentLabels}, {"customer_labels", c.Conference.CustomerLabels}} {
		for i, l := range set.labels {
			if strings.TrimSpace(l) == "" {
				errs = append(errs, fmt.Errorf("conference.%s[%d] is empty", set.name, i))
			}
		}
	}
	for i, p := range c.SubjectAttributes {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("subject_attributes[%d] is empty", i))
		}
	}
	return errors.Join(errs...)
}

// normKeyword folds a messaging keyword or a message body for comparison:
// trimmed, upper case, inner white space collapsed ("stop  all" = "STOP ALL").
func normKeyword(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), " "))
}

// tenants are the configured accounts, for the tenant model; subaccounts
// are keyed like their account.
func (c *Config) tenants() []tenant.Entry {
	out := make([]tenant.Entry, len(c.Tenants))
	for i, t := range c.Tenants {
		out[i] = tenant.Entry{ID: t.AccountSID, Tenant: t.Tenant, Aliases: t.SubaccountSIDs}
	}
	return out
}

// parsePublicURL checks public_url and returns it without a trailing slash.
func parsePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("public_url must be set to the scheme and host Twilio calls (e.g. https://hooks.example.com): Twilio signs the full URL it requested")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("public_url %q is not a URL: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("public_url %q must start with https:// (or http:// for local testing)", raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("public_url %q has no host", raw)
	case u.User != nil:
		return "", fmt.Errorf("public_url %q must not contain credentials", raw)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
		return "", fmt.Errorf("public_url %q must not have a query or fragment: the request's own query is appended", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// validSID reports whether s is an account SID: "AC" and 32 hex digits.
func validSID(s string) bool {
	if len(s) != 34 || s[:2] != "AC" {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
