package genesysreceiver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/tenant"
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

	// ConsentAttributes maps Genesys participant attribute names (set by an
	// Architect flow with "Set Participant Data") to consent signal names;
	// each becomes the attribute ccaas.consent.signal.<name> with the
	// attribute's raw value.
	ConsentAttributes map[string]string `mapstructure:"consent_attributes"`

	// DataActions map the bodies that Web Services Data Actions (in Process
	// Automation workflows and Architect flows) post, when they are not a
	// notification envelope: POST /genesys/dataactions/<name> reads its body
	// with the mapping <name>, and a body on /genesys/notifications that is
	// not an envelope uses the mapping "default" when there is one.
	DataActions map[string]DataActionMapping `mapstructure:"data_actions"`

	// NoticeAttributes names the participant attributes an Architect flow
	// sets when it plays a notice ("this call is recorded"): id, version,
	// and offset (when it was played, after the interaction's start;
	// offset_unit s or ms). They become ccaas.consent.notice.id, .version
	// and .offset, which the consent policy's played_notices interpret.
	NoticeAttributes ccaas.NoticeMapping `mapstructure:"notice_attributes"`

	// LocationAttributes names participant attributes holding location
	// hints per party (customer, business, agent): a state from a CRM
	// lookup, the agent's site. Values such as "US-CA", "CA" or
	// "California" become ccaas.jurisdiction.hints entries.
	LocationAttributes ccaas.LocationMapping `mapstructure:"location_attributes"`

	// subject_salt and insecure_allow_unauthenticated.
	tenant.Receiver `mapstructure:",squash"`
}

// DataActionMapping says how to read a data action's own JSON body: where
// its fields are (paths of keys joined by dots, as in "conversation.id") and
// what the event is.
type DataActionMapping struct {
	// EventName is the record's event name (required), e.g.
	// ccaas.interaction.wrapup.
	EventName string `mapstructure:"event_name"`
	// EventType is ccaas.event.type; default "dataaction.<name>".
	EventType string `mapstructure:"event_type"`
	// EventID is the path of the event's own id; without one the id is
	// derived from the mapping's name and the body.
	EventID string `mapstructure:"event_id"`
	// Time is the path of when the event happened (epoch milliseconds or
	// RFC 3339).
	Time string `mapstructure:"time"`
	// OrganizationID is the path of the Genesys organization id the body
	// names; it must be the credential's.
	OrganizationID string `mapstructure:"organization_id"`
	// InteractionID, ParticipantID, AgentID, QueueID and Direction are the
	// paths of those fields (direction inbound or outbound, any case).
	InteractionID string `mapstructure:"interaction_id"`
	ParticipantID string `mapstructure:"participant_id"`
	AgentID       string `mapstructure:"agent_id"`
	QueueID       string `mapstructure:"queue_id"`
	Direction     string `mapstructure:"direction"`
	// Channel is the ccaas.channel of every event of this data action
	// (voice, message, ...), or the path of a Genesys mediaType field when
	// it starts with "$.".
	Channel string `mapstructure:"channel"`
	// Subject lists the paths of the customer's identifier (phone number,
	// e-mail address, or an id), tried in order.
	Subject []string `mapstructure:"subject"`
	// ConsentAttributes maps paths to consent signal names, like the
	// receiver's consent_attributes.
	ConsentAttributes map[string]string `mapstructure:"consent_attributes"`
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
	// subject_salt: this tenant's own.
	tenant.Tenant `mapstructure:",squash"`
}

// BasicAuthConfig is one HTTP Basic credential.
type BasicAuthConfig struct {
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
}

// Validate checks the configuration; the collector calls it on load.
func (c *Config) Validate() error {
	var errs []error
	if c.APIKeyHeader == "" || strings.ContainsAny(c.APIKeyHeader, " :\t\r\n") {
		errs = append(errs, fmt.Errorf("api_key_header %q is not a valid header name", c.APIKeyHeader))
	}
	if !c.HasTenants(len(c.Tenants)) && !c.InsecureAllowUnauthenticated {
		errs = append(errs, errors.New("no tenants configured: add at least one tenant with credentials, or set insecure_allow_unauthenticated: true for local testing"))
	}
	errs = append(errs, c.Receiver.Check("organization_id", c.tenants(), "")...)
	seenKey := map[string]string{}
	seenUser := map[string]string{}
	for i, t := range c.Tenants {
		where := fmt.Sprintf("tenants[%d]", i)
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
			if err := tenant.ShortSecret(fmt.Sprintf("%s.api_keys[%d]", where, j), k); err != nil {
				errs = append(errs, err)
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
			if err := tenant.ShortSecret(fmt.Sprintf("%s.basic_auth[%d].password", where, j), b.Password); err != nil {
				errs = append(errs, err)
			}
		}
		for j, s := range t.OpenMessagingSecrets {
			if s == "" {
				errs = append(errs, fmt.Errorf("%s.open_messaging_secrets[%d] is empty (is its environment variable set?)", where, j))
			}
			if err := tenant.ShortSecret(fmt.Sprintf("%s.open_messaging_secrets[%d]", where, j), s); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for name, m := range c.DataActions {
		where := fmt.Sprintf("data_actions.%s", name)
		if name == "" || strings.ContainsAny(name, "/?#% ") {
			errs = append(errs, fmt.Errorf("%s: the name must be usable as a URL path segment", where))
		}
		if m.EventName == "" {
			errs = append(errs, fmt.Errorf("%s: event_name must be set (e.g. ccaas.interaction.wrapup)", where))
		}
		for i, p := range m.Subject {
			if strings.TrimSpace(p) == "" {
				errs = append(errs, fmt.Errorf("%s.subject[%d] is empty", where, i))
			}
		}
		for path, sig := range m.ConsentAttributes {
			if path == "" || sig == "" || strings.ContainsAny(sig, " .") {
				errs = append(errs, fmt.Errorf("%s.consent_attributes: %q -> %q: both names must be set and the signal name must not contain spaces or dots", where, path, sig))
			}
		}
	}
	if err := c.NoticeAttributes.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("notice_attributes: %w", err))
	}
	for attr, sig := range c.ConsentAttributes {
		if attr == "" || sig == "" || strings.ContainsAny(sig, " .") {
			errs = append(errs, fmt.Errorf("consent_attributes: %q -> %q: both names must be set and the signal name must not contain spaces or dots", attr, sig))
		}
	}
	return errors.Join(errs...)
}

// tenants are the configured organizations, for the tenant model.
func (c *Config) tenants() []tenant.Entry {
	out := make([]tenant.Entry, len(c.Tenants))
	for i, t := range c.Tenants {
		out[i] = tenant.Entry{ID: t.OrganizationID, Tenant: t.Tenant}
	}
	return out
}

func (c *Config) apiKeyHeader() string { return http.CanonicalHeaderKey(c.APIKeyHeader) }
