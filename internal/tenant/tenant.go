// Package tenant is the part of every receiver's configuration that is
// about tenants and subject keys, written once: the receiver-wide subject
// salt and the unauthenticated local-testing mode (Receiver), each
// tenant's own subject salt (Tenant), the rules they obey (Check) and
// the subject keyers built from them (Keyers).
//
// A receiver squashes Receiver into its Config and Tenant into each entry
// of its tenants list, and says which tenants it has (Entry); the vendor's
// tenant id keeps its vendor's name (organization_id, account_sid,
// source_id, account_id), and the credentials stay the receiver's own.
package tenant

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/consentry/consentry/internal/subject"
)

// Receiver is squashed into each receiver's Config.
type Receiver struct {
	// SubjectSalt keys the pseudonymous subject hash (ccaas.subject.key)
	// for tenants that do not set their own. At least 16 bytes.
	SubjectSalt configopaque.String `mapstructure:"subject_salt"`

	// InsecureAllowUnauthenticated accepts requests that carry no
	// credentials. For local testing only: anyone who can reach the port
	// can then inject events. Their subjects are keyed with subject_salt.
	InsecureAllowUnauthenticated bool `mapstructure:"insecure_allow_unauthenticated"`

	// TenantsFile is a tenants file or directory (see docs/operations.md):
	// its tenants of this receiver's vendor are served beside the ones
	// listed in tenants. It is read at start (a broken file stops the
	// collector) and then every tenants_reload_interval.
	TenantsFile string `mapstructure:"tenants_file"`
	// TenantsReloadInterval is how often tenants_file is checked for
	// changes; 0 disables reloading.
	TenantsReloadInterval time.Duration `mapstructure:"tenants_reload_interval"`
}

// DefaultReloadInterval is how often a tenants file is checked by default.
const DefaultReloadInterval = 5 * time.Second

// Defaults is the Receiver part of a receiver's default configuration.
func Defaults() Receiver { return Receiver{TenantsReloadInterval: DefaultReloadInterval} }

// HasTenants reports whether the receiver has tenants: listed ones, or a
// tenants file (whose content is checked at start).
func (r Receiver) HasTenants(listed int) bool { return listed > 0 || r.TenantsFile != "" }

// Tenant is squashed into each entry of a receiver's tenants list.
type Tenant struct {
	// SubjectSalt overrides the receiver's subject_salt for this tenant.
	SubjectSalt configopaque.String `mapstructure:"subject_salt"`
}

// Entry is one configured tenant, as Check and Keyers see it.
type Entry struct {
	// ID is the vendor's tenant id (ccaas.tenant.id).
	ID string
	Tenant
	// Aliases are other tenant ids keyed like this one (a Twilio account's
	// subaccounts).
	Aliases []string
}

// Check checks the tenant model. idKey names the tenants' id setting
// (organization_id, ...). Each tenant needs an id, unique among the
// tenants; a tenant's own subject_salt, when set, and the receiver's, when
// set or used, must be at least subject.MinSaltLen bytes. The receiver's
// is used by tenants without their own, by insecure mode, and, when
// unlisted is not empty, by the deliveries it names (tenants the receiver
// does not list, such as Talkdesk's Events API). It returns every problem.
func (r Receiver) Check(idKey string, tenants []Entry, unlisted string) []error {
	var errs []error
	seen := map[string]int{}
	var users []string
	if r.TenantsReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("tenants_reload_interval must not be negative, got %s", r.TenantsReloadInterval))
	}
	if r.InsecureAllowUnauthenticated && r.TenantsFile != "" {
		errs = append(errs, errors.New("insecure_allow_unauthenticated is set with a tenants_file: anyone who can reach the port could inject events next to (and in the name of) authenticated tenants; it is for local testing without tenants only, remove it"))
	}
	if r.InsecureAllowUnauthenticated {
		users = append(users, "insecure mode")
		if len(tenants) > 0 {
			// Unauthenticated requests would be accepted beside the
			// tenants' authenticated ones, and could claim to be theirs.
			errs = append(errs, fmt.Errorf("insecure_allow_unauthenticated is set while %d tenant(s) are configured: anyone who can reach the port could inject events next to (and in the name of) authenticated tenants; it is for local testing without tenants only, remove it", len(tenants)))
		}
	}
	if unlisted != "" {
		users = append(users, unlisted)
	}
	without := false
	for i, t := range tenants {
		where := fmt.Sprintf("tenants[%d]", i)
		switch first, dup := seen[t.ID]; {
		case t.ID == "":
			errs = append(errs, fmt.Errorf("%s: %s must be set", where, idKey))
		case dup:
			errs = append(errs, fmt.Errorf("%s: %s %q is configured twice (also tenants[%d])", where, idKey, t.ID, first))
		default:
			seen[t.ID] = i
		}
		switch {
		case t.SubjectSalt == "":
			without = true
		case len(t.SubjectSalt) < subject.MinSaltLen:
			errs = append(errs, fmt.Errorf("%s.subject_salt must be at least %d bytes", where, subject.MinSaltLen))
		}
	}
	if without {
		users = append([]string{"tenants without their own subject_salt"}, users...)
	}
	switch {
	case len(users) > 0 && len(r.SubjectSalt) < subject.MinSaltLen:
		errs = append(errs, fmt.Errorf("subject_salt must be at least %d bytes (it is used for %s)", subject.MinSaltLen, strings.Join(users, ", ")))
	case r.SubjectSalt != "" && len(r.SubjectSalt) < subject.MinSaltLen:
		errs = append(errs, fmt.Errorf("subject_salt must be at least %d bytes", subject.MinSaltLen))
	}
	return errs
}

// Keyers returns the subject keyers of the tenants: each tenant's own salt,
// else the receiver's; a tenant's aliases are keyed like it. The
// receiver's salt is the default for tenants not listed (an empty one:
// there is no default).
func (r Receiver) Keyers(tenants []Entry) (*subject.Keyers, error) {
	ks, err := subject.NewKeyers([]byte(r.SubjectSalt))
	if err != nil {
		return nil, fmt.Errorf("subject_salt: %w", err)
	}
	for i, t := range tenants {
		k, err := ks.Add(t.ID, []byte(t.SubjectSalt))
		if err != nil {
			return nil, fmt.Errorf("tenants[%d].subject_salt: %w", i, err)
		}
		for _, a := range t.Aliases {
			ks.Alias(a, k)
		}
	}
	return ks, nil
}

// MinSecretLen is the shortest shared secret, token or password a receiver
// accepts: a guessable one would let anyone sign or authenticate events.
const MinSecretLen = 16

// ShortSecret reports a secret shorter than MinSecretLen (an empty one is
// the caller's own error): where names it in the configuration.
func ShortSecret(where string, s configopaque.String) error {
	if s == "" || len(s) >= MinSecretLen {
		return nil
	}
	return fmt.Errorf("%s is shorter than %d bytes: a short secret can be guessed; use a random one (e.g. openssl rand -hex 32)", where, MinSecretLen)
}
