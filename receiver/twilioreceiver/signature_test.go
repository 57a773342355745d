package twilioreceiver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twilio/twilio-go/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/receiver/twilioreceiver/internal/metadata"
)

// Twilio's published examples: the signatures below appear in twilio-go's
// and Twilio's documentation snippets (auth token "12345"), so they were
// computed by Twilio, not by this package.
func TestPublishedTwilioVectors(t *testing.T) {
	a := &account{sid: testAccount, tokens: [][]byte{[]byte("12345")}, members: map[string]bool{testAccount: true}}
	v := newVerifier("https://mycompany.com", []*account{a})
	const pq = "/myapp.php?foo=1&bar=2"
	for _, tc := range []struct {
		name   string
		pq     string
		params url.Values
		body   []byte
		sig    string
	}{
		{"twilio-go request_validator_test", pq, url.Values{
			"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"}, "Caller": {"+14158675309"},
			"From": {"+14158675309"}, "ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
		}, nil, "vOEb5UThFn24KEfnOFLQY2AE5FY="},
		{"api-snippets signature_validation", pq, url.Values{
			"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"}, "From": {"+14158675310"}, "To": {"+18005551212"},
		}, nil, "GvWf1cFY/Q7PnoempGyD5oXAezc="},
		{"twilio-go bodySHA256", pq + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", nil,
			[]byte(`{"property": "value", "boolean": true}`), "a9nBmqA0ju/hNViExpshrM61xv4="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseForm([]byte(tc.params.Encode()))
			require.NoError(t, err)
			params := f.canonical()
			if tc.body != nil {
				params = nil
				_, match := bodyHashMatches(tc.pq[strings.IndexByte(tc.pq, '?')+1:], tc.body)
				assert.True(t, match)
			}
			assert.Same(t, a, v.verify(tc.sig, "", tc.pq, params))
			assert.Same(t, a, v.verify(tc.sig, testAccount, tc.pq, params))
			assert.Nil(t, v.verify(tc.sig, "", tc.pq+"&x=1", params), "another URL")
			assert.Nil(t, v.verify(tc.sig, otherAccount, tc.pq, params), "an account that is not configured")
			if params != nil {
				assert.Nil(t, v.verify(tc.sig, "", tc.pq, append(params, 'x')), "other parameters")
			}
		})
	}
}

// TestTwilioGoSignatures is the acceptance check of the issue: a signature
// that Twilio's Go library (twilio-go's RequestValidator) accepts verifies,
// for form callbacks and for the bodySHA256 JSON variant; an altered body,
// parameter or URL does not, and twilio-go agrees that it does not.
func TestTwilioGoSignatures(t *testing.T) {
	validator := client.NewRequestValidator(testToken)
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))

	t.Run("form callback", func(t *testing.T) {
		body := fixture(t, "voice_status_inbound_completed.form")
		pq := PathVoiceStatus + "?tenant=acme"
		sig := signForm(t, testToken, testPublic+pq, body) // asserts twilio-go accepts it
		resp, out := h.post(pq, formType, body, map[string]string{HeaderSignature: sig})
		require.Equal(t, http.StatusOK, resp.StatusCode, out)

		for _, alt := range []struct{ name, pq, body string }{
			{"altered value", pq, strings.Replace(string(body), "CallStatus=completed", "CallStatus=canceled", 1)},
			{"added parameter", pq, string(body) + "&Extra=1"},
			{"removed parameter", pq, strings.Replace(string(body), "&SipResponseCode=200", "", 1)},
			{"renamed parameter", pq, strings.Replace(string(body), "FromState=", "FromStatf=", 1)},
			{"altered query", PathVoiceStatus + "?tenant=acmf", string(body)},
			{"dropped query", PathVoiceStatus, string(body)},
			{"altered path", PathVoiceRecording + "?tenant=acme", string(body)},
		} {
			t.Run(alt.name, func(t *testing.T) {
				assert.False(t, validator.ValidateBody(testPublic+alt.pq, []byte(alt.body), sig), "twilio-go refuses it too")
				resp, out := h.post(alt.pq, formType, []byte(alt.body), map[string]string{HeaderSignature: sig})
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
			})
		}
	})

	t.Run("bodySHA256 JSON", func(t *testing.T) {
		body := fixture(t, "eventstreams_batch.json")
		pq, sig := signJSON(t, testToken, testPublic, PathEventStreams, body) // asserts twilio-go accepts it
		resp, out := h.post(pq, "application/json", body, map[string]string{HeaderSignature: sig})
		require.Equal(t, http.StatusOK, resp.StatusCode, out)

		altered := bytes.Replace(body, []byte(`"completed"`), []byte(`"canceled"`), 1)
		for _, alt := range []struct {
			name, pq string
			body     []byte
		}{
			{"altered body", pq, altered},
			{"one more byte", pq, append(bytes.Clone(body), ' ')},
			{"altered hash in the URL", strings.Replace(pq, "bodySHA256=", "bodySHA256=00", 1), body},
			{"extra query parameter", pq + "&x=1", body},
			{"altered path", strings.Replace(pq, PathEventStreams, PathEventStreams+"x", 1), body},
		} {
			t.Run(alt.name, func(t *testing.T) {
				assert.False(t, validator.ValidateBody(testPublic+alt.pq, alt.body, sig), "twilio-go refuses it too")
				resp, out := h.post(alt.pq, "application/json", alt.body, map[string]string{HeaderSignature: sig})
				assert.Contains(t, []int{http.StatusUnauthorized, http.StatusNotFound}, resp.StatusCode, out)
			})
		}
	})
}

// Repeated parameter names (Conversations' MessagingBinding.Address, the
// one name Twilio repeats): Twilio's Node.js library (which Twilio keeps in
// step with its back end) signs each distinct value in sorted order.
// Names Twilio never repeats are refused (TestFormCallbackRepeatedParameterNames).
func TestRepeatedParameters(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	body := []byte("AccountSid=" + testAccount + "&ConversationSid=CH1&EventType=onConversationAdd&RetryCount=0" +
		"&MessagingBinding.Address=%2B18550000002&MessagingBinding.Address=%2B18550000001")
	form := mustQuery(t, body)
	sig := referenceSignature(testToken, testPublic+PathConversations, form)
	resp, out := h.post(PathConversations, formType, body, map[string]string{HeaderSignature: sig})
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	addrs, ok := records(h.sink.AllLogs()[0])[0].Body().Map().Get("MessagingBinding.Address")
	require.True(t, ok)
	assert.Equal(t, []any{"+18550000002", "+18550000001"}, addrs.Slice().AsRaw(), "the body keeps every value in order")

	// Signing only the first value (twilio-go's simplification) leaves the
	// others unauthenticated: refused.
	first := url.Values{}
	for k, v := range form {
		first.Set(k, v[0])
	}
	resp, out = h.post(PathConversations, formType, body, map[string]string{HeaderSignature: referenceSignature(testToken, testPublic+PathConversations, first)})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, out)
}

func TestURLVariants(t *testing.T) {
	for in, want := range map[string][]string{
		"https://h.example.com":              {"https://h.example.com", "https://h.example.com:443"},
		"https://h.example.com:443/p":        {"https://h.example.com:443/p", "https://h.example.com/p"},
		"http://h.example.com/prefix":        {"http://h.example.com/prefix", "http://h.example.com:80/prefix"},
		"http://127.0.0.1:7402":              {"http://127.0.0.1:7402"},
		"https://[2001:db8::1]:443":          {"https://[2001:db8::1]:443", "https://[2001:db8::1]"},
		"https://H.Example.COM:8443/Twilio/": {"https://H.Example.COM:8443/Twilio/"},
	} {
		assert.Equal(t, want, urlVariants(in), in)
	}
}

func TestSignedPathQuery(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/twilio/voice/status?a=1&b=%20", nil)
	assert.Equal(t, "/twilio/voice/status?a=1&b=%20", signedPathQuery(r))
	r.RequestURI = ""
	assert.Equal(t, "/twilio/voice/status?a=1&b=%20", signedPathQuery(r))
	r = httptest.NewRequest(http.MethodPost, "http://proxy.example/twilio/taskrouter", nil)
	assert.Equal(t, "/twilio/taskrouter", signedPathQuery(r))
}

func TestQueryParam(t *testing.T) {
	v, ok := queryParam("a=1&bodySHA256=abc&bodySHA256=def", "bodySHA256")
	assert.True(t, ok)
	assert.Equal(t, "abc", v)
	_, ok = queryParam("a=1&xbodySHA256=abc", "bodySHA256")
	assert.False(t, ok)
	present, match := bodyHashMatches("bodySHA256=zz", []byte("{}"))
	assert.True(t, present)
	assert.False(t, match)
}

// newTestHandler builds the receiver's handler without a listener.
func newTestHandler(tb testing.TB, next consumer.Logs) http.Handler {
	tb.Helper()
	rcv, err := newReceiver(testConfig(), receivertest.NewNopSettings(metadata.Type), next)
	if err != nil {
		tb.Fatal(err)
	}
	return rcv.server.Handler()
}
