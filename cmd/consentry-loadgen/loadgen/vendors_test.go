package loadgen

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/processor/consentprocessor"
	"github.com/consentry/consentry/receiver/genesysreceiver"
	"github.com/consentry/consentry/receiver/segmentreceiver"
	"github.com/consentry/consentry/receiver/talkdeskreceiver"
	"github.com/consentry/consentry/receiver/twilioreceiver"
)

// testSecrets are what the test's environment gives config/local.yaml.
var testSecrets = Secrets{
	GenesysAPIKey:       "lg-test-genesys-api-key-0123456789abcdef",
	GenesysOrgID:        DefaultGenesysOrgID,
	TwilioAuthToken:     "lgtest0123456789abcdef0123456789",
	TwilioAccountSID:    DefaultTwilioAccountSID,
	SegmentSharedSecret: "lg-test-segment-shared-secret-0123456789",
	SegmentWriteKey:     "lg-test-segment-write-key",
	TalkdeskToken:       "lg-test-talkdesk-token-0123456789abcdef",
	TalkdeskAccountID:   DefaultTalkdeskAccountID,
	SubjectSalt:         "lg-test-subject-salt-0123456789abcdef",
}

func (s Secrets) env() map[string]string {
	return map[string]string{
		"CONSENTRY_GENESYS_SECRET": s.GenesysAPIKey, "CONSENTRY_GENESYS_ORG_ID": s.GenesysOrgID,
		"CONSENTRY_TWILIO_AUTH_TOKEN": s.TwilioAuthToken, "CONSENTRY_TWILIO_ACCOUNT_SID": s.TwilioAccountSID,
		"CONSENTRY_SEGMENT_SHARED_SECRET": s.SegmentSharedSecret, "CONSENTRY_SEGMENT_WRITE_KEY": s.SegmentWriteKey,
		"CONSENTRY_TALKDESK_TOKEN": s.TalkdeskToken, "CONSENTRY_TALKDESK_ACCOUNT_ID": s.TalkdeskAccountID,
		"CONSENTRY_SUBJECT_SALT": s.SubjectSalt,
	}
}

var envRef = regexp.MustCompile(`\$\{env:([A-Z0-9_]+)(:-([^}]*))?\}`)

// localReceiverConf reads config/local.yaml's section of one receiver, with
// ${env:...} expanded from env, as the collector would.
func localReceiverConf(t *testing.T, name string, env map[string]string) *confmap.Conf {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "config", "local.yaml"))
	require.NoError(t, err)
	text := envRef.ReplaceAllStringFunc(string(raw), func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := env[m[1]]; ok {
			return v
		}
		return m[3]
	})
	ret, err := confmap.NewRetrievedFromYAML([]byte(text))
	require.NoError(t, err)
	conf, err := ret.AsConf()
	require.NoError(t, err)
	sub, err := conf.Sub("receivers::" + name)
	require.NoError(t, err)
	return sub
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startLocalReceiver starts a vendor receiver configured as in
// config/local.yaml (on a free port) with a sink behind it, and returns
// its base URL.
func startLocalReceiver(t *testing.T, f receiver.Factory, env map[string]string, sink *consumertest.LogsSink, extra map[string]any) string {
	t.Helper()
	conf := localReceiverConf(t, f.Type().String(), env)
	addr := freeAddr(t)
	overrides := map[string]any{"endpoint": addr}
	for k, v := range extra {
		overrides[k] = strings.ReplaceAll(fmt.Sprint(v), "{addr}", addr)
	}
	require.NoError(t, conf.Merge(confmap.NewFromStringMap(overrides)))
	cfg := f.CreateDefaultConfig()
	require.NoError(t, conf.Unmarshal(cfg))
	require.NoError(t, cfg.(interface{ Validate() error }).Validate())
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(component.MustNewType(f.Type().String())), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	base := "http://" + addr
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	return base
}

type localReceivers struct {
	targets Targets
	sinks   map[string]*consumertest.LogsSink
}

func startLocalReceivers(t *testing.T, s Secrets) *localReceivers {
	t.Helper()
	env := s.env()
	// config/policy.yaml reads the tenant ids from the same variables.
	for _, name := range []string{"CONSENTRY_GENESYS_ORG_ID", "CONSENTRY_TWILIO_ACCOUNT_SID", "CONSENTRY_TALKDESK_ACCOUNT_ID"} {
		t.Setenv(name, env[name])
	}
	lr := &localReceivers{sinks: map[string]*consumertest.LogsSink{}}
	for _, v := range AllVendors {
		lr.sinks[v] = new(consumertest.LogsSink)
	}
	lr.targets.Genesys = startLocalReceiver(t, genesysreceiver.NewFactory(), env, lr.sinks[Genesys], nil)
	// Twilio signs the URL it calls: the receiver's public_url is where
	// it listens, as config/local.yaml's default is for port 7402.
	lr.targets.Twilio = startLocalReceiver(t, twilioreceiver.NewFactory(), env, lr.sinks[Twilio], map[string]any{"public_url": "http://{addr}"})
	lr.targets.Segment = startLocalReceiver(t, segmentreceiver.NewFactory(), env, lr.sinks[Segment], nil)
	lr.targets.Talkdesk = startLocalReceiver(t, talkdeskreceiver.NewFactory(), env, lr.sinks[Talkdesk], nil)
	return lr
}

func examplePolicy(t *testing.T) *policy.Policy {
	t.Helper()
	pol, err := policy.CompileFile(context.Background(), filepath.Join("..", "..", "..", "config", "policy.yaml"))
	require.NoError(t, err)
	return pol
}

// decideOne runs the consent processor's evaluation over one record, with
// a fresh store, and returns its decision and reasons.
func decideOne(t *testing.T, pol *policy.Policy, ld plog.Logs) (string, string) {
	t.Helper()
	cp := plog.NewLogs()
	ld.CopyTo(cp)
	e := consentprocessor.NewEvaluator(pol, consentprocessor.EvaluatorSettings{})
	defer e.Close()
	e.ProcessLogs(context.Background(), cp)
	require.Equal(t, 1, cp.LogRecordCount())
	lr := cp.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	d, _ := lr.Attributes().Get(ccaas.AttrConsentDecision)
	r, _ := lr.Attributes().Get(ccaas.AttrConsentReasons)
	return d.AsString(), r.AsString()
}

func doRequest(t *testing.T, r *Request) (int, string) {
	t.Helper()
	status, body, err := sendForTest(r)
	require.NoError(t, err)
	return status, body
}

func sendForTest(r *Request) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, r.URL, strings.NewReader(string(r.Body)))
	if err != nil {
		return 0, "", err
	}
	for _, h := range r.Header {
		req.Header.Set(h[0], h[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// The generator's requests pass the receivers' own authentication, as
// configured by config/local.yaml, and each becomes exactly one record
// whose consent decision under config/policy.yaml is the one the generator
// intended.
func TestEventsVerifyAndDecideAsIntended(t *testing.T) {
	pol := examplePolicy(t)
	for _, segRoute := range []string{SegmentWebhook, SegmentTracking} {
		t.Run("segment "+segRoute, func(t *testing.T) {
			lr := startLocalReceivers(t, testSecrets)
			g, err := NewGenerator(GenOptions{Secrets: testSecrets, Targets: lr.targets, ForwardFraction: 0.5,
				Subjects: 1000, SegmentRoute: segRoute, Seed: 7})
			require.NoError(t, err)
			src := g.NewSource(0)
			seen := map[string]map[bool]int{}
			for i := 0; i < 64; i++ {
				r := src.Next(time.Now())
				sink := lr.sinks[r.Vendor]
				before := sink.LogRecordCount()
				status, body := doRequest(t, r)
				require.True(t, status >= 200 && status < 300, "%s (forward=%v): %d %s", r.Vendor, r.Forward, status, body)
				require.Equal(t, before+1, sink.LogRecordCount(), "%s: one record per event, not a duplicate: %s", r.Vendor, body)
				all := sink.AllLogs()
				ld := all[len(all)-1]
				want := "quarantine"
				if r.Forward {
					want = "forward"
				}
				got, reasons := decideOne(t, pol, ld)
				assert.Equal(t, want, got, "%s event decided %s (%s)", r.Vendor, got, reasons)
				if seen[r.Vendor] == nil {
					seen[r.Vendor] = map[bool]int{}
				}
				seen[r.Vendor][r.Forward]++
			}
			for _, v := range AllVendors {
				assert.NotZero(t, seen[v][true], "%s: no forward event drawn", v)
				assert.NotZero(t, seen[v][false], "%s: no quarantine event drawn", v)
			}
		})
	}
}

// A wrong secret is refused by every receiver: the test above passes
// because the signatures are right, not because nothing is checked.
func TestWrongSecretsAreRefused(t *testing.T) {
	lr := startLocalReceivers(t, testSecrets)
	bad := testSecrets
	bad.GenesysAPIKey += "x"
	bad.TwilioAuthToken = "ffffffffffffffffffffffffffffffff"
	bad.SegmentSharedSecret += "x"
	bad.TalkdeskToken += "x"
	g, err := NewGenerator(GenOptions{Secrets: bad, Targets: lr.targets, ForwardFraction: 0.5, Subjects: 10, Seed: 3})
	require.NoError(t, err)
	src := g.NewSource(0)
	refused := map[string]int{}
	for i := 0; i < 40; i++ {
		r := src.Next(time.Now())
		status, _ := doRequest(t, r)
		assert.Equal(t, http.StatusUnauthorized, status, r.Vendor)
		refused[r.Vendor]++
	}
	assert.Len(t, refused, 4)

	// Twilio signs the public URL: signing for another one fails.
	g, err = NewGenerator(GenOptions{Secrets: testSecrets, Targets: lr.targets, Vendors: map[string]float64{Twilio: 1},
		TwilioPublicURL: "https://consentry.example.com", ForwardFraction: 1, Subjects: 10})
	require.NoError(t, err)
	status, _ := doRequest(t, g.NewSource(0).Next(time.Now()))
	assert.Equal(t, http.StatusUnauthorized, status)
}

// The OTLP form of an event is the record the receiver makes of it: same
// resource, event name, attributes (subject key included) and decision.
func TestOTLPEventsAreTheReceiversRecords(t *testing.T) {
	pol := examplePolicy(t)
	lr := startLocalReceivers(t, testSecrets)
	opts := GenOptions{Secrets: testSecrets, Targets: lr.targets, ForwardFraction: 0.5, Subjects: 50, Seed: 11}
	hook, err := NewGenerator(opts)
	require.NoError(t, err)
	opts.OTLP = true
	opts.Targets.OTLP = "http://127.0.0.1:4318"
	otlp, err := NewGenerator(opts)
	require.NoError(t, err)
	// Same seed, same goroutine id: the same events.
	hs, os := hook.NewSource(0), otlp.NewSource(0)
	u := &plog.JSONUnmarshaler{}
	ids := map[string]bool{}
	for i := 0; i < 24; i++ {
		now := time.Now().Truncate(time.Millisecond)
		hr, or := hs.Next(now), os.Next(now)
		require.Equal(t, hr.Vendor, or.Vendor)
		require.Equal(t, hr.Forward, or.Forward)
		assert.Equal(t, "http://127.0.0.1:4318/v1/logs", or.URL)
		ld, err := u.UnmarshalLogs(or.Body)
		require.NoError(t, err, "%s", or.Body)
		require.Equal(t, 1, ld.LogRecordCount())

		status, body := doRequest(t, hr)
		require.True(t, status < 300, body)
		all := lr.sinks[hr.Vendor].AllLogs()
		want := all[len(all)-1]

		wr, gr := want.ResourceLogs().At(0), ld.ResourceLogs().At(0)
		assert.Equal(t, wr.Resource().Attributes().AsRaw(), gr.Resource().Attributes().AsRaw())
		wl := wr.ScopeLogs().At(0).LogRecords().At(0)
		gl := gr.ScopeLogs().At(0).LogRecords().At(0)
		assert.Equal(t, wl.EventName(), gl.EventName())
		wa, ga := wl.Attributes().AsRaw(), gl.Attributes().AsRaw()
		id := fmt.Sprint(ga[ccaas.AttrEventID])
		assert.False(t, ids[id], "two generated events share the id %s: the ledger would keep one", id)
		ids[id] = true
		if hr.Vendor == Talkdesk || hr.Vendor == Twilio {
			// Talkdesk events and Twilio form callbacks have no (whole)
			// id: the receiver derives one from a hash of the content (for
			// Twilio, of what was signed), which the template cannot
			// reproduce.
			assert.NotEmpty(t, ga[ccaas.AttrEventID])
			delete(wa, ccaas.AttrEventID)
			delete(ga, ccaas.AttrEventID)
		}
		assert.Equal(t, wa, ga, "%s attributes", hr.Vendor)
		assert.Equal(t, wl.Body().AsRaw(), gl.Body().AsRaw(), "%s body", hr.Vendor)
		assert.Equal(t, now.UnixNano(), gl.Timestamp().AsTime().UnixNano())
		d, reasons := decideOne(t, pol, ld)
		assert.Equal(t, map[bool]string{true: "forward", false: "quarantine"}[hr.Forward], d, reasons)
	}
}

func TestTargetsMustBeLoopback(t *testing.T) {
	for _, tc := range []struct {
		target string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:7401", false, true},
		{"http://localhost:7401", false, true},
		{"http://[::1]:7401", false, true},
		{"http://10.1.2.3:7401", false, false},
		{"https://collector.example.com", false, false},
		{"https://collector.example.com", true, true},
		{"ftp://127.0.0.1:21", true, false},
		{"127.0.0.1:7401", false, false},
	} {
		tg := DefaultTargets
		tg.Genesys = tc.target
		_, err := NewGenerator(GenOptions{Secrets: testSecrets, Targets: tg, Subjects: 1, AllowRemote: tc.remote})
		if tc.ok {
			assert.NoError(t, err, tc.target)
		} else {
			assert.Error(t, err, tc.target)
		}
	}
}

func TestMissingSecretsAreNamedNotShown(t *testing.T) {
	s := testSecrets
	s.TwilioAuthToken = ""
	s.SegmentSharedSecret = ""
	_, err := NewGenerator(GenOptions{Secrets: s, Targets: DefaultTargets, Subjects: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CONSENTRY_TWILIO_AUTH_TOKEN")
	assert.Contains(t, err.Error(), "CONSENTRY_SEGMENT_SHARED_SECRET")
	assert.NotContains(t, err.Error(), testSecrets.GenesysAPIKey)
	// Only the chosen vendors' secrets are needed.
	_, err = NewGenerator(GenOptions{Secrets: s, Targets: DefaultTargets, Subjects: 1, Vendors: map[string]float64{Genesys: 1, Talkdesk: 2}})
	assert.NoError(t, err)
	_, err = NewGenerator(GenOptions{Secrets: s, Targets: DefaultTargets, Subjects: 1, Vendors: map[string]float64{"avaya": 1}})
	assert.ErrorContains(t, err, "unknown vendor")
}

func TestSecretsFromEnvThenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "local.env")
	require.NoError(t, os.WriteFile(path, []byte("CONSENTRY_GENESYS_SECRET=fromfile\nCONSENTRY_TALKDESK_TOKEN=tdfile\n# comment\nOTHER=x\nCONSENTRY_TWILIO_PUBLIC_URL=https://tunnel.example\n"), 0o600))
	file, err := ReadEnvFile(path)
	require.NoError(t, err)
	env := map[string]string{"CONSENTRY_GENESYS_SECRET": "fromenv"}
	s := SecretsFrom(func(k string) string { return env[k] }, file)
	assert.Equal(t, "fromenv", s.GenesysAPIKey, "the environment wins, as in run-local.sh")
	assert.Equal(t, "tdfile", s.TalkdeskToken)
	assert.Equal(t, DefaultGenesysOrgID, s.GenesysOrgID, "run-local.sh's placeholder tenant")
	assert.Equal(t, "https://tunnel.example", TwilioPublicURLFrom(func(string) string { return "" }, file))
	none, err := ReadEnvFile(filepath.Join(dir, "absent.env"))
	assert.NoError(t, err)
	assert.Nil(t, none)
}

func TestSubjectsAreDistinctValidNumbers(t *testing.T) {
	seen := map[string]bool{}
	for _, idx := range []int{0, 1, 7, 8, 999_999, 8_000_000, 8_000_001, MaxSubjects - 1} {
		p := SubjectPhone(idx)
		assert.Regexp(t, `^\+1(415|510|650|408|213|310|619|916)[2-9]\d{6}$`, p)
		assert.False(t, seen[p], "subject %d repeats %s", idx, p)
		seen[p] = true
	}
	_, err := NewGenerator(GenOptions{Secrets: testSecrets, Targets: DefaultTargets, Subjects: MaxSubjects + 1})
	assert.Error(t, err)
}
