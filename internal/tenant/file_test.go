package tenant

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const (
	tokenA = "twilio-token-of-tenant-a-0123456789"
	tokenB = "twilio-token-of-tenant-b-0123456789"
	saltA  = "salt-of-tenant-a-0123456789"
)

// write replaces the file atomically, as operators are told to.
func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path+".tmp", []byte(content), 0o600))
	require.NoError(t, os.Rename(path+".tmp", path))
}

func noEnv(string) (string, bool) { return "", false }

func envOf(vars map[string]string) Env {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// tenantsYAML is a tenants file with tenant A, its secrets referenced.
func tenantsYAML(secretFile string) string {
	return `tenants:
  - vendor: twilio
    id: ACa
    name: Acme
    subject_salt: ${file:` + secretFile + `}
    credentials:
      auth_tokens: ["${env:TOKEN_A}"]
      subaccount_sids: [ACa-sub]
    consent_scope: acme
    notice: {id: acme-privacy, version: "3", processors: [twilio]}
`
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	salt := filepath.Join(dir, "salt")
	write(t, salt, saltA+"\n")
	path := filepath.Join(dir, "tenants.yaml")
	write(t, path, tenantsYAML(salt)+`  - vendor: genesys
    id: org-1
    credentials: {api_keys: [genesys-key-0123456789abcdef]}
`)
	f, err := LoadFile(path, envOf(map[string]string{"TOKEN_A": tokenA}))
	require.NoError(t, err)
	require.Len(t, f.Tenants, 2)
	a := f.OfVendor("twilio")
	require.Len(t, a, 1)
	assert.Equal(t, "ACa", a[0].ID)
	assert.Equal(t, configopaque.String(saltA), a[0].SubjectSalt, "one trailing newline of a secret file is not the secret's")
	assert.Equal(t, []any{tokenA}, a[0].Credentials["auth_tokens"])
	assert.Equal(t, map[string]any{"vendor": "twilio", "id": "ACa", "name": "Acme", "consent_scope": "acme",
		"notice": map[string]any{"id": "acme-privacy", "version": "3", "processors": []any{"twilio"}}}, a[0].Policy)
	assert.Equal(t, "org-1", f.OfVendor("genesys")[0].ID)
	assert.Empty(t, f.OfVendor("segment"))

	type twilioTenant struct {
		AccountSID     string                `mapstructure:"account_sid"`
		AuthTokens     []configopaque.String `mapstructure:"auth_tokens"`
		SubaccountSIDs []string              `mapstructure:"subaccount_sids"`
		Tenant         `mapstructure:",squash"`
	}
	got, err := Decode[twilioTenant](a[0], "account_sid")
	require.NoError(t, err)
	assert.Equal(t, twilioTenant{AccountSID: "ACa", AuthTokens: []configopaque.String{tokenA}, SubaccountSIDs: []string{"ACa-sub"},
		Tenant: Tenant{SubjectSalt: saltA}}, got)

	// An unknown key is an error; the error quotes no secret.
	bad := a[0]
	bad.Credentials = map[string]any{"auth_tokens": []any{tokenA}, "auth_tokn": tokenA}
	_, err = Decode[twilioTenant](bad, "account_sid")
	require.ErrorContains(t, err, "auth_tokn")
	assert.NotContains(t, err.Error(), tokenA)
	bad.Credentials = map[string]any{"account_sid": "ACother"}
	_, err = Decode[twilioTenant](bad, "account_sid")
	require.ErrorContains(t, err, "set it as the tenant's id")
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b.yaml"), "tenants:\n  - {vendor: segment, id: src-b, credentials: {write_keys: [k]}}\n")
	write(t, filepath.Join(dir, "a.yml"), "tenants:\n  - {vendor: segment, id: src-a, credentials: {write_keys: [k]}}\n")
	write(t, filepath.Join(dir, "README.txt"), "not read")
	f, err := LoadFile(dir, noEnv)
	require.NoError(t, err)
	require.Len(t, f.Tenants, 2)
	assert.Equal(t, "src-a", f.Tenants[0].ID, "files in name order")

	write(t, filepath.Join(dir, "c.yaml"), "tenants:\n  - {vendor: segment, id: src-a, credentials: {write_keys: [k]}}\n")
	_, err = LoadFile(dir, noEnv)
	require.ErrorContains(t, err, "tenant segment/src-a is declared twice")

	_, err = LoadFile(t.TempDir(), noEnv)
	require.ErrorContains(t, err, "holds no .yaml or .yml file")
}

// TestInvalidFiles: every rule, and no error quotes a secret.
func TestInvalidFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	write(t, secret, tokenB)
	empty := filepath.Join(dir, "empty")
	write(t, empty, "\n")
	env := envOf(map[string]string{"TOKEN_A": tokenA, "EMPTY": ""})
	for name, tc := range map[string]struct{ yaml, want string }{
		"not yaml":          {"tenants: [\n  - vendor: `" + tokenA + "`", "tenants.yaml: yaml:"},
		"unknown top key":   {"tenant: []\n", `unknown key "tenant"`},
		"tenants not list":  {"tenants: {a: 1}\n", "tenants must be a list"},
		"entry not mapping": {"tenants: [x]\n", "a tenant is a mapping"},
		"unknown vendor":    {"tenants: [{vendor: five9, id: x, credentials: {}}]\n", "vendor must be one of genesys, segment, talkdesk, twilio"},
		"no id":             {"tenants: [{vendor: twilio, credentials: {}}]\n", "id must be set"},
		"numeric id":        {"tenants: [{vendor: twilio, id: 12, credentials: {}}]\n", "id must be set (a string"},
		"no credentials":    {"tenants: [{vendor: twilio, id: AC1}]\n", "credentials must be set"},
		"duplicate": {"tenants: [{vendor: twilio, id: AC1, credentials: {}}, {vendor: twilio, id: AC1, credentials: {}}]\n",
			"tenant twilio/AC1 is declared twice (also "},
		"short salt":         {"tenants: [{vendor: twilio, id: AC1, subject_salt: short, credentials: {}}]\n", "subject_salt must be at least 16 bytes"},
		"unset env":          {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${env:NOPE}']}}]\n", "${env:NOPE}: the environment variable is not set or empty"},
		"empty env":          {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${env:EMPTY}']}}]\n", "${env:EMPTY}: the environment variable is not set or empty"},
		"env default syntax": {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${env:NOPE:-x}']}}]\n", "not a variable name (no defaults"},
		"partial reference":  {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['pre-${env:TOKEN_A}']}}]\n", "a reference must be the whole value"},
		"two references":     {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${env:TOKEN_A}${env:TOKEN_A}']}}]\n", "a reference must be the whole value"},
		"other scheme":       {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${vault:x}']}}]\n", "${vault:..}: unsupported reference"},
		"relative file":      {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${file:secret}']}}]\n", "the path must be absolute"},
		"missing file":       {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${file:" + dir + "/nope}']}}]\n", "no such file or directory"},
		"empty file":         {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${file:" + empty + "}']}}]\n", "the file is empty"},
		"directory as file":  {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${file:" + dir + "}']}}]\n", "not a regular file"},
		"where is named": {"tenants: [{vendor: twilio, id: AC1, credentials: {auth_tokens: ['${env:TOKEN_A}', '${file:" + secret + "}', '${env:NOPE}']}}]\n",
			"tenants[0] (twilio/AC1).credentials.auth_tokens[2]: ${env:NOPE}"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tenants.yaml")
			write(t, path, tc.yaml)
			f, err := LoadFile(path, env)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), tokenA)
			assert.NotContains(t, err.Error(), tokenB)
		})
	}
}

func TestRedact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tenants.yaml")
	write(t, path, "tenants: [{vendor: twilio, id: AC1, subject_salt: '"+saltA+"', credentials: {auth_tokens: ['${env:TOKEN_A}']}}]\n")
	f, err := LoadFile(path, envOf(map[string]string{"TOKEN_A": tokenA}))
	require.NoError(t, err)
	msg := f.Tenants[0].Redact("token " + tokenA + " salt " + saltA + " id AC1")
	assert.Equal(t, "token [redacted] salt [redacted] id AC1", msg)
}

// TestWatcher: Poll applies a changed file, not an unchanged one; a broken
// version keeps the one in force and is neither re-parsed nor re-applied
// until it changes; a rotated secret file is a change.
func TestWatcher(t *testing.T) {
	dir := t.TempDir()
	salt := filepath.Join(dir, "salt")
	write(t, salt, saltA)
	path := filepath.Join(dir, "tenants.yaml")
	write(t, path, tenantsYAML(salt))
	env := envOf(map[string]string{"TOKEN_A": tokenA, "TOKEN_B": tokenB})
	w := NewWatcher(path, env)
	var inForce *File
	applied := 0
	refuse := false
	apply := func(f *File) error {
		applied++
		if refuse {
			return errors.New("refused by its user")
		}
		inForce = f
		return nil
	}
	changed, err := w.Poll(apply)
	require.NoError(t, err)
	assert.True(t, changed, "the first version is taken at once")
	assert.Len(t, inForce.Tenants, 1)
	// Later changes are taken when two polls in a row see them.
	settle := func() (bool, error) {
		t.Helper()
		changed, _ := w.Poll(apply)
		require.False(t, changed, "a change seen once is not taken")
		return w.Poll(apply)
	}

	changed, err = settle()
	require.NoError(t, err)
	assert.False(t, changed, "unchanged")
	assert.Equal(t, 1, applied)

	// Tenant B is added.
	withB := tenantsYAML(salt) + "  - {vendor: twilio, id: ACb, credentials: {auth_tokens: ['${env:TOKEN_B}']}}\n"
	write(t, path, withB)
	changed, err = settle()
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Len(t, inForce.Tenants, 2)
	good := inForce

	// A broken version: the one in force stays; its error is returned at
	// every poll, without parsing or applying it again.
	write(t, path, withB+"  - {vendor: twilio, id: ACc, credentials: {auth_tokens: ['${env:TOKEN_C}']}}\n")
	_, err = settle()
	require.ErrorContains(t, err, "${env:TOKEN_C}")
	_, err = w.Poll(apply)
	require.ErrorContains(t, err, "${env:TOKEN_C}")
	assert.Same(t, good, inForce)
	assert.Equal(t, 2, applied)

	// Refused by its user: the same.
	write(t, path, withB+"  - {vendor: twilio, id: ACd, credentials: {}}\n")
	refuse = true
	_, err = settle()
	require.ErrorContains(t, err, "refused by its user")
	_, err = w.Poll(apply)
	require.ErrorContains(t, err, "refused by its user")
	assert.Equal(t, 3, applied)
	refuse = false
	w.Retry()
	changed, err = w.Poll(apply)
	require.ErrorContains(t, err, "refused by its user", "still broken until the retry settles")
	assert.False(t, changed)
	changed, err = w.Poll(apply)
	require.NoError(t, err)
	assert.True(t, changed, "Retry applies the refused version again")
	assert.Len(t, inForce.Tenants, 3)

	// A rotated secret file changes the tenants without the file changing.
	write(t, salt, "another-salt-of-tenant-a-0123")
	changed, err = settle()
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, configopaque.String("another-salt-of-tenant-a-0123"), inForce.OfVendor("twilio")[0].SubjectSalt)

	// A missing secret file is an error until it appears.
	missing := filepath.Join(dir, "salt-b")
	write(t, path, withB+"  - {vendor: twilio, id: ACe, subject_salt: '${file:"+missing+"}', credentials: {}}\n")
	_, err = settle()
	require.ErrorContains(t, err, "no such file")
	write(t, missing, "salt-of-tenant-e-0123456789")
	// Still broken while the change settles.
	changed, err = w.Poll(apply)
	require.ErrorContains(t, err, "no such file")
	assert.False(t, changed)
	changed, err = w.Poll(apply)
	require.NoError(t, err)
	assert.True(t, changed, "the secret file's appearance is a change")

	// The file itself gone: an error; the tenants in force stay.
	require.NoError(t, os.Remove(path))
	_, err = w.Poll(apply)
	require.NoError(t, err, "a file missing once may be being replaced")
	_, err = w.Poll(apply)
	require.ErrorContains(t, err, "tenants file")

	// A file truncated in place (an empty version) is an error, never "no
	// tenants".
	write(t, path, "")
	_, err = settle()
	require.ErrorContains(t, err, "the file is empty")
	assert.Len(t, inForce.Tenants, 3, "the tenants in force stay")
}

// statusHost records the status its components report.
type statusHost struct {
	component.Host
	events chan *componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) { h.events <- ev }

// state stands for a receiver's tenant-derived state.
type state struct{ ids []string }

func buildState(file []FileTenant) (*state, error) {
	s := &state{ids: []string{"listed"}}
	for _, t := range file {
		if t.ID == "refused" {
			return nil, fmt.Errorf("tenant %s: the secret %s is too weak", t.ID, t.Credentials["token"])
		}
		s.ids = append(s.ids, t.ID)
	}
	return s, nil
}

// TestLive: a receiver's state follows its tenants file; a broken version
// keeps the state in force, is logged once without its secrets and
// reported as a recoverable error; the next good version reports OK.
func TestLive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	write(t, path, "tenants: [{vendor: twilio, id: a, credentials: {token: x}}, {vendor: genesys, id: g, credentials: {}}]\n")
	core, logs := observer.New(zap.InfoLevel)
	l, err := NewLive(Receiver{TenantsFile: path, TenantsReloadInterval: 10 * time.Millisecond}, "twilio", zap.New(core), buildState)
	require.NoError(t, err)
	assert.Equal(t, []string{"listed", "a"}, l.Load().ids, "its vendor's tenants only")

	host := &statusHost{events: make(chan *componentstatus.Event, 10)}
	l.Start(host)
	defer l.Shutdown()

	write(t, path, "tenants: [{vendor: twilio, id: a, credentials: {token: x}}, {vendor: twilio, id: b, credentials: {token: y}}]\n")
	require.Eventually(t, func() bool { return len(l.Load().ids) == 3 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, logs.FilterMessage("Tenants file reloaded").Len())

	const secret = "very-secret-token-0123456789"
	write(t, path, "tenants: [{vendor: twilio, id: refused, credentials: {token: "+secret+"}}]\n")
	ev := <-host.events
	assert.Equal(t, componentstatus.StatusRecoverableError, ev.Status())
	require.ErrorContains(t, ev.Err(), "the secret [redacted] is too weak")
	assert.NotContains(t, ev.Err().Error(), secret)
	assert.Equal(t, []string{"listed", "a", "b"}, l.Load().ids, "the tenants in force stay")
	time.Sleep(50 * time.Millisecond)
	broken := logs.FilterMessage("Tenants file is invalid; the tenants in force stay in force")
	require.Equal(t, 1, broken.Len(), "logged once")
	assert.NotContains(t, fmt.Sprint(broken.All()[0].Context), secret)

	write(t, path, "tenants: [{vendor: twilio, id: c, credentials: {token: z}}]\n")
	ev = <-host.events
	assert.Equal(t, componentstatus.StatusOK, ev.Status())
	assert.Equal(t, []string{"listed", "c"}, l.Load().ids)
}

func TestLiveStartErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	write(t, path, "tenants: [{vendor: twilio, id: refused, credentials: {token: secret-value-0123}}]\n")
	_, err := NewLive(Receiver{TenantsFile: path}, "twilio", zap.NewNop(), buildState)
	require.ErrorContains(t, err, "the secret [redacted] is too weak", "a broken file at start stops the collector")
	_, err = NewLive(Receiver{TenantsFile: path + ".missing"}, "twilio", zap.NewNop(), buildState)
	require.ErrorContains(t, err, "no such file")

	l, err := NewLive(Receiver{}, "twilio", zap.NewNop(), buildState)
	require.NoError(t, err)
	assert.Equal(t, []string{"listed"}, l.Load().ids, "without a file: the listed tenants")
	l.Start(nil)
	l.Shutdown()
}

func TestMerge(t *testing.T) {
	type tcfg struct {
		ID    string `mapstructure:"id"`
		Token string `mapstructure:"token"`
	}
	type cfg struct{ Tenants []tcfg }
	list := func(c *cfg) *[]tcfg { return &c.Tenants }
	var validated atomic.Int32
	validate := func(c *cfg) error {
		validated.Add(1)
		for _, t := range c.Tenants {
			if len(t.Token) < 4 {
				return fmt.Errorf("tenant %s: token %q too short", t.ID, t.Token)
			}
		}
		return nil
	}
	own := &cfg{Tenants: []tcfg{{ID: "listed", Token: "tok-listed"}}}
	got, err := Merge(own, nil, "id", list, validate)
	require.NoError(t, err)
	assert.Same(t, own, got, "no file tenants: the configuration as it is")
	file := []FileTenant{{Vendor: "twilio", ID: "f", Credentials: map[string]any{"token": "tok-f"}}}
	got, err = Merge(own, file, "id", list, validate)
	require.NoError(t, err)
	assert.Equal(t, []tcfg{{"listed", "tok-listed"}, {"f", "tok-f"}}, got.Tenants)
	assert.Len(t, own.Tenants, 1, "the configuration itself is not modified")
	file = []FileTenant{{Vendor: "twilio", ID: "f", Credentials: map[string]any{"token": "abc"}, secrets: []string{"abc"}}}
	_, err = Merge(own, file, "id", list, validate)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "too short"))
}
