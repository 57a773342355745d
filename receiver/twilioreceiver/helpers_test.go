package twilioreceiver

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature is HMAC-SHA1.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/goldenlogs"
	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

const (
	testAccount  = "AC0123456789abcdef0123456789abcdef"
	testSub      = "ACfedcba9876543210fedcba9876543210"
	otherAccount = "AC11111111222222223333333344444444"
	testToken    = "0123456789abcdef0123456789abcdef"
	oldToken     = "fedcba9876543210fedcba9876543210"
	otherToken   = "99999999999999999999999999999999"
	testSalt     = "unit-test-subject-salt-0123456789"
	testPublic   = "https://hooks.example.com"
)

// fixtureAccounts are the accounts of the real deliveries under
// testdata/fixtures (see SOURCES.md there), each a tenant of testConfig
// with its own token.
var fixtureAccounts = map[string]string{
	"ACf54dd7a47a8011d65b54d472a7190549": "fixture-token-nuntius-0123456789",
	"AC6c052941e00067bdecd68b80874c5529": "fixture-token-whatsapp-012345678",
	"AC193fd584652e4c3bb7c3e918f06b065e": "fixture-token-status-0123456789a",
	"AC1a03647d811fab342c0ad608e382fab2": "fixture-token-botbuilder-0123456",
	"AC3f1496421dea2c8446672cdf90ff4c7a": "fixture-token-voicemail-01234567",
	"ACcc830b11ab88f5dd8ccc1430511c2357": "fixture-token-recording-01234567",
	"AC00000000000000000000000000000000": "fixture-token-intelligence-01234",
}

// tokenFor returns the auth token of the account a fixture names
// (AccountSid, accountId or account_sid), or testToken.
func tokenFor(t testing.TB, body []byte) string {
	t.Helper()
	var sid string
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("AccountSid") != "" {
		sid = form.Get("AccountSid")
	} else {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for _, k := range []string{"accountId", "account_sid", "accountSid"} {
				if s, ok := m[k].(string); ok {
					sid = s
				}
			}
		}
	}
	if tok, ok := fixtureAccounts[sid]; ok {
		return tok
	}
	return testToken
}

func testConfig() *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.PublicURL = testPublic
	cfg.SubjectSalt = testSalt
	cfg.ConsentAttributes = map[string]string{"recording_consent": "recording", "consent.analytics": "analytics"}
	cfg.Tenants = []TenantConfig{
		{AccountSID: testAccount, AuthTokens: []configopaque.String{testToken, oldToken}, SubaccountSIDs: []string{testSub}},
		{AccountSID: otherAccount, AuthTokens: []configopaque.String{otherToken}},
	}
	for sid, tok := range fixtureAccounts {
		cfg.Tenants = append(cfg.Tenants, TenantConfig{AccountSID: sid, AuthTokens: []configopaque.String{configopaque.String(tok)}})
	}
	return cfg
}

type harness struct {
	t    *testing.T
	url  string
	sink *consumertest.LogsSink
}

func startReceiver(t *testing.T, cfg *Config, next consumer.Logs) *harness {
	t.Helper()
	sink, _ := next.(*consumertest.LogsSink)
	rcv, err := NewFactory().CreateLogs(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, next)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	return &harness{t: t, url: "http://" + rcv.(*twilioReceiver).server.Addr().String(), sink: sink}
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	require.NoError(t, err)
	return b
}

// post sends body to pathQuery with the content type and headers ("" values
// delete a header) and returns the response and its body.
func (h *harness) post(pathQuery, contentType string, body []byte, headers map[string]string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+pathQuery, bytes.NewReader(body))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

// postForm sends a form callback signed for testPublic+pathQuery.
func (h *harness) postForm(pathQuery string, body []byte, token string) (*http.Response, string) {
	h.t.Helper()
	return h.post(pathQuery, formType, body, map[string]string{HeaderSignature: signForm(h.t, token, testPublic+pathQuery, body)})
}

// postEvents sends an Event Streams delivery signed with the bodySHA256
// scheme for testPublic+path.
func (h *harness) postEvents(path string, body []byte, token string) (*http.Response, string) {
	h.t.Helper()
	pq, sig := signJSON(h.t, token, testPublic, path, body)
	return h.post(pq, "application/json", body, map[string]string{HeaderSignature: sig})
}

const formType = "application/x-www-form-urlencoded"

// referenceSignature computes X-Twilio-Signature from the description in
// Twilio's documentation (URL, then each parameter name and value sorted by
// name; repeated names contribute each distinct value in sorted order, as
// twilio-node does). It shares no code with the receiver.
func referenceSignature(token, fullURL string, form url.Values) string {
	s := fullURL
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vals := slices.Compact(slices.Sorted(slices.Values(form[k])))
		for _, v := range vals {
			s += k + v
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signForm signs a form body for fullURL and checks that Twilio's own Go
// library, twilio-go's RequestValidator, accepts the signature: the
// signatures the tests send are Twilio signatures, not the receiver's idea
// of one.
func signForm(t testing.TB, token, fullURL string, body []byte) string {
	t.Helper()
	form, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	sig := referenceSignature(token, fullURL, form)
	if !hasRepeatedKeys(form) { // twilio-go signs only the first value of a key
		v := client.NewRequestValidator(token)
		require.True(t, v.ValidateBody(fullURL, body, sig), "twilio-go must accept the test's signature")
	}
	return sig
}

// signJSON returns the path with its bodySHA256 query and the signature of
// base + that path, checked with twilio-go like signForm.
func signJSON(t testing.TB, token, base, path string, body []byte) (pathQuery, sig string) {
	t.Helper()
	sum := sha256.Sum256(body)
	sep := "?"
	if bytes.ContainsRune([]byte(path), '?') {
		sep = "&"
	}
	pathQuery = path + sep + "bodySHA256=" + hex.EncodeToString(sum[:])
	sig = referenceSignature(token, base+pathQuery, nil)
	v := client.NewRequestValidator(token)
	require.True(t, v.ValidateBody(base+pathQuery, body, sig), "twilio-go must accept the test's signature")
	return pathQuery, sig
}

func hasRepeatedKeys(form url.Values) bool {
	for _, v := range form {
		if len(v) > 1 {
			return true
		}
	}
	return false
}

var (
	records = goldenlogs.Records
	attr    = goldenlogs.Attr
)

func tenantOf(ld plog.Logs, i int) string {
	v, _ := ld.ResourceLogs().At(i).Resource().Attributes().Get(ccaas.AttrTenantID)
	return v.Str()
}
