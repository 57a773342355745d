package tenant

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

	"github.com/consentry/consentry/internal/subject"
)

const (
	salt      = "receiver-wide-salt-0123456789"
	otherSalt = "tenant-own-salt-abcdefghijkl"
)

func own(s string) Tenant { return Tenant{SubjectSalt: configopaque.String(s)} }

func joined(errs []error) string {
	var parts []string
	for _, e := range errs {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "\n")
}

func TestCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		r        Receiver
		tenants  []Entry
		unlisted string
		want     []string // substrings; none: valid
	}{
		"receiver salt for all":   {Receiver{SubjectSalt: salt}, []Entry{{ID: "a"}, {ID: "b"}}, "", nil},
		"own salts only":          {Receiver{}, []Entry{{ID: "a", Tenant: own(otherSalt)}}, "", nil},
		"no tenants, no insecure": {Receiver{}, nil, "", nil},
		"missing id":              {Receiver{SubjectSalt: salt}, []Entry{{}}, "", []string{"tenants[0]: org_id must be set"}},
		"duplicate id": {Receiver{SubjectSalt: salt}, []Entry{{ID: "a"}, {ID: "b"}, {ID: "a"}}, "",
			[]string{`tenants[2]: org_id "a" is configured twice (also tenants[0])`}},
		"tenant without salt": {Receiver{}, []Entry{{ID: "a", Tenant: own(otherSalt)}, {ID: "b"}}, "",
			[]string{"subject_salt must be at least 16 bytes (it is used for tenants without their own subject_salt)"}},
		"short own salt": {Receiver{SubjectSalt: salt}, []Entry{{ID: "a", Tenant: own("short")}}, "",
			[]string{"tenants[0].subject_salt must be at least 16 bytes"}},
		"insecure needs the receiver salt": {Receiver{InsecureAllowUnauthenticated: true}, nil, "",
			[]string{"subject_salt must be at least 16 bytes (it is used for insecure mode)"}},
		"unlisted deliveries need it": {Receiver{}, []Entry{{ID: "a", Tenant: own(otherSalt)}}, "the Events API",
			[]string{"(it is used for the Events API)"}},
		"a short receiver salt is wrong even unused": {Receiver{SubjectSalt: "short"}, []Entry{{ID: "a", Tenant: own(otherSalt)}}, "",
			[]string{"subject_salt must be at least 16 bytes"}},
	} {
		t.Run(name, func(t *testing.T) {
			errs := tc.r.Check("org_id", tc.tenants, tc.unlisted)
			if len(tc.want) == 0 {
				assert.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs)
			for _, w := range tc.want {
				assert.Contains(t, joined(errs), w)
			}
		})
	}
}

func TestKeyers(t *testing.T) {
	r := Receiver{SubjectSalt: salt}
	ks, err := r.Keyers([]Entry{{ID: "a"}, {ID: "b", Tenant: own(otherSalt), Aliases: []string{"b-sub"}}})
	require.NoError(t, err)
	def, err := subject.NewKeyer([]byte(salt))
	require.NoError(t, err)
	mine, err := subject.NewKeyer([]byte(otherSalt))
	require.NoError(t, err)
	const phone = "+14155550100"
	assert.Equal(t, def.Key("phone", phone), ks.Resolve("a", false).Key("phone", phone), "a tenant without its own salt uses the receiver's")
	assert.Equal(t, mine.Key("phone", phone), ks.Resolve("b", false).Key("phone", phone), "a tenant's own salt")
	assert.Equal(t, mine.Key("phone", phone), ks.Resolve("b-sub", false).Key("phone", phone), "an alias is keyed like its tenant")
	assert.Nil(t, ks.Resolve("unknown", false), "an unlisted tenant gets no key outside insecure mode")
	assert.Equal(t, def.Key("phone", phone), ks.Resolve("unknown", true).Key("phone", phone))

	_, err = Receiver{SubjectSalt: "short"}.Keyers(nil)
	require.ErrorContains(t, err, "subject_salt")
	_, err = Receiver{}.Keyers([]Entry{{ID: "a", Tenant: own("short")}})
	require.ErrorContains(t, err, "tenants[0].subject_salt")
}

// TestSquashed: the model reads from a receiver's configuration under the
// keys every receiver documents.
func TestSquashed(t *testing.T) {
	type tenantCfg struct {
		ID     string `mapstructure:"id"`
		Tenant `mapstructure:",squash"`
	}
	type cfg struct {
		Receiver `mapstructure:",squash"`
		Tenants  []tenantCfg `mapstructure:"tenants"`
	}
	var c cfg
	require.NoError(t, confmap.NewFromStringMap(map[string]any{
		"subject_salt": salt, "insecure_allow_unauthenticated": true,
		"tenants": []any{map[string]any{"id": "a", "subject_salt": otherSalt}},
	}).Unmarshal(&c))
	assert.Equal(t, configopaque.String(salt), c.SubjectSalt)
	assert.True(t, c.InsecureAllowUnauthenticated)
	assert.Equal(t, configopaque.String(otherSalt), c.Tenants[0].SubjectSalt)
}

// TestInsecureModeWithTenantsRefused: insecure_allow_unauthenticated next
// to real tenants would accept unauthenticated events beside (and in the
// name of) the authenticated ones: refused. Alone, for local testing, it
// is allowed.
func TestInsecureModeWithTenantsRefused(t *testing.T) {
	salt := configopaque.String("receiver-wide-salt-0123456789")
	r := Receiver{SubjectSalt: salt, InsecureAllowUnauthenticated: true}
	errs := r.Check("account_sid", []Entry{{ID: "AC1"}}, "")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "insecure_allow_unauthenticated is set while 1 tenant(s) are configured") {
		t.Fatalf("insecure mode with a tenant: %v", errs)
	}
	if errs := r.Check("account_sid", nil, ""); len(errs) != 0 {
		t.Fatalf("insecure mode alone: %v", errs)
	}
}

// TestTenantsFileSettings: a tenants file counts as tenants (insecure mode
// beside it is refused), and its reload interval cannot be negative.
func TestTenantsFileSettings(t *testing.T) {
	r := Receiver{SubjectSalt: salt, InsecureAllowUnauthenticated: true, TenantsFile: "tenants.yaml"}
	assert.Contains(t, joined(r.Check("account_sid", nil, "")), "insecure_allow_unauthenticated is set with a tenants_file")
	assert.True(t, r.HasTenants(0))
	assert.False(t, Receiver{}.HasTenants(0))
	r = Receiver{SubjectSalt: salt, TenantsFile: "tenants.yaml", TenantsReloadInterval: -1}
	assert.Contains(t, joined(r.Check("account_sid", nil, "")), "tenants_reload_interval must not be negative")
	assert.Equal(t, DefaultReloadInterval, Defaults().TenantsReloadInterval)
}
