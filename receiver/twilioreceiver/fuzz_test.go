package twilioreceiver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
)

func fuzzNormalizer(t testing.TB) *normalizer {
	cfg := createDefaultConfig().(*Config)
	cfg.SubjectSalt = testSalt
	cfg.InsecureAllowUnauthenticated = true
	cfg.ConsentAttributes = map[string]string{"recording_consent": "recording", "consent.analytics": "analytics"}
	cfg.SubjectAttributes = []string{"crm.phone"}
	n, err := newNormalizer(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var formFixtures = []string{
	"voice_status_inbound_completed.form", "voice_status_outbound_ringing.form", "voice_status_anonymous.form",
	"voice_recording_paused.form", "voice_recording_completed.form", "taskrouter_task_created.form",
	"taskrouter_reservation_accepted.form", "conversations_message_added.form", "conversations_participant_added.form",
	"messaging_inbound_sms.form", "messaging_inbound_stop.form", "messaging_status_delivered.form",
	"voice_conference_customer_hold.form", "voice_transcription_content.form", "voice_record_transcription.form",
	"taskrouter_worker_activity_update.form",
}

// checkResult asserts what every parse must satisfy: a failure is a
// *webhook.Error (so it maps to a status), a success has an event id on
// every record.
func checkResult(t *testing.T, ld plog.Logs, err error) {
	if err != nil {
		if _, ok := err.(*webhook.Error); !ok {
			t.Fatalf("a parse failure must be a *webhook.Error with a status, got %T: %v", err, err)
		}
		return
	}
	if ld.LogRecordCount() == 0 {
		t.Fatal("success without records")
	}
	for _, lr := range records(ld) {
		if id, _ := lr.Attributes().Get(ccaas.AttrEventID); id.Str() == "" {
			t.Fatal("every record needs a ccaas.event.id")
		}
		if lr.EventName() == "" {
			t.Fatal("every record needs an event name")
		}
	}
}

// FuzzForm: the form parser agrees with net/url on what the parameters are,
// and every callback route turns any form into records or a clean error.
func FuzzForm(f *testing.F) {
	for _, name := range formFixtures {
		f.Add(fixture(f, name))
	}
	f.Add([]byte("a=1&a=2&&=x&b&c=%41+%42"))
	f.Add([]byte("TaskAttributes=%7B%22crm%22%3A%7B%22phone%22%3A%22%2B14155550123%22%7D%7D&EventType=task.created"))
	f.Add([]byte("%zz=1"))
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := parseForm(body)
		if err != nil {
			if _, ok := err.(errForm); !ok {
				t.Fatalf("unexpected error type %T", err)
			}
			return
		}
		if !bytes.ContainsRune(body, ';') {
			if want, err := url.ParseQuery(string(body)); err == nil {
				got := url.Values{}
				for _, p := range form.params {
					got[p.key] = append(got[p.key], p.value)
				}
				if len(got) != len(want) {
					t.Fatalf("parsed %d names, net/url %d", len(got), len(want))
				}
				for k, v := range want {
					if !slices.Equal(got[k], v) {
						t.Fatalf("%q: %q, net/url %q", k, got[k], v)
					}
				}
			}
		}
		if c1, c2 := form.canonical(), form.canonical(); !bytes.Equal(c1, c2) {
			t.Fatal("canonical form is not deterministic")
		}
		for _, route := range []string{routeVoiceStatus, routeVoiceRecording, routeTaskRouter, routeConversations,
			routeMessaging, routeMessageStatus, routeConference, routeTranscription} {
			ld, err := n.callback(route, form, nil, time.Now())
			checkResult(t, ld, err)
		}
	})
}

// FuzzIntelligence: any body is records or a clean error.
func FuzzIntelligence(f *testing.F) {
	for _, name := range []string{"intelligence_rule_execution.json", "intelligence_rule_execution_sentiment.json", "intelligence_transcript_available.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"operatorResults":[1]}`))
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.intelligence(body, nil, time.Now())
		checkResult(t, ld, err)
	})
}

func FuzzEventStreams(f *testing.F) {
	f.Add(fixture(f, "eventstreams_batch.json"))
	f.Add([]byte(`{"id":"1","type":"com.twilio.voice.status-callback.call.ringing","data":{"parameters":{"From":"client:alice"}}}`))
	f.Add([]byte(`[{"id":"1","type":"com.twilio.taskrouter.task.updated","data":{"payload":{"task_attributes":"{\"consent\":{\"analytics\":true}}"}}}]`))
	f.Add([]byte(`[{"id":"1","type":"com.twilio.messaging.inbound-message.received","data":{"from":"whatsapp:+447700900123"}}]`))
	f.Add([]byte(`[]`))
	f.Add(fixture(f, "eventstreams_messaging.json"))
	f.Add(fixture(f, "eventstreams_data_string.json"))
	f.Add(fixture(f, "eventstreams_intelligence.json"))
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.eventStreams(body, nil, time.Now())
		checkResult(t, ld, err)
	})
}

// FuzzTaskAttributes: any TaskAttributes string is read without panicking,
// and a subject key never carries the raw identifier.
func FuzzTaskAttributes(f *testing.F) {
	f.Add(`{"from":"+14155550123","caller_state":"CA","caller_country":"US","recording_consent":true}`)
	f.Add(`{"direction":"outbound","outbound_to":"sam@example.com","consent":{"analytics":"no"}}`)
	f.Add(`{"customers":{"external_id":"crm-42"},"channelType":"web","consent.analytics":1}`)
	f.Add(`[1,2]`)
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, ta string) {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		m := decodeAttributes(ta)
		if m == nil {
			return
		}
		n.taskAttributes(lr.Attributes(), n.keyer(""), m)
		if k, ok := lr.Attributes().Get(ccaas.AttrSubjectKey); ok && !strings.HasPrefix(k.Str(), subject.KeyPrefix) {
			t.Fatalf("subject key %q is not a key", k.Str())
		}
	})
}

// FuzzSignature: through the HTTP handler, no request is accepted unless its
// X-Twilio-Signature is the true signature (by the reference computation)
// of the URL and the body, or of the URL with a bodySHA256 that matches the
// body.
func FuzzSignature(f *testing.F) {
	voice := fixture(f, "voice_status_inbound_completed.form")
	f.Add(voice, "", referenceSignature(testToken, testPublic+PathVoiceStatus, mustParse(voice)))
	f.Add(voice, "x=1", referenceSignature(testToken, testPublic+PathVoiceStatus+"?x=1", mustParse(voice)))
	sum := sha256.Sum256(voice)
	q := "bodySHA256=" + hex.EncodeToString(sum[:])
	f.Add(voice, q, referenceSignature(testToken, testPublic+PathVoiceStatus+"?"+q, nil))
	f.Add(voice, "", "")
	f.Add([]byte("AccountSid="+testAccount), "AccountSid="+otherAccount, "AAAA")
	h := newTestHandler(f, consumertest.NewNop())
	f.Fuzz(func(t *testing.T, body []byte, query, sig string) {
		if strings.ContainsAny(query, "# \t\r\n") || strings.ContainsAny(sig, "\r\n\x00") {
			return // not expressible in a request line or header
		}
		target := PathVoiceStatus
		if query != "" {
			target += "?" + query
		}
		req := httptest.NewRequest(http.MethodPost, PathVoiceStatus, bytes.NewReader(body))
		req.URL.RawQuery = query
		req.RequestURI = target
		req.Header.Set("Content-Type", formType)
		req.Header.Set(HeaderSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK || rec.Code == http.StatusForbidden {
			if !trueSignature(target, body, sig) {
				t.Fatalf("accepted (%d) a request whose signature %q is not Twilio's", rec.Code, sig)
			}
		}
	})
}

func mustParse(body []byte) url.Values {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		panic(err)
	}
	return v
}

// trueSignature is the reference decision for FuzzSignature.
func trueSignature(target string, body []byte, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		got, err = base64.RawStdEncoding.DecodeString(strings.TrimSpace(sig))
		if err != nil {
			return false
		}
	}
	var params url.Values
	if _, q, _ := strings.Cut(target, "?"); q != "" {
		if h, ok := queryParam(q, "bodySHA256"); ok {
			sum := sha256.Sum256(body)
			if !strings.EqualFold(h, hex.EncodeToString(sum[:])) {
				return false
			}
			params = url.Values{}
		}
	}
	if params == nil {
		form, err := parseForm(body)
		if err != nil {
			return false
		}
		params = url.Values{}
		for _, p := range form.params {
			params[p.key] = append(params[p.key], p.value)
		}
	}
	for _, base := range []string{testPublic, testPublic + ":443"} {
		for _, tok := range []string{testToken, oldToken, otherToken} {
			want, _ := base64.StdEncoding.DecodeString(referenceSignature(tok, base+target, params))
			if hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

// FuzzAgreesWithTwilioGo: sign a form as Twilio does, alter one byte of the
// body, and check that the receiver's verifier and twilio-go's
// RequestValidator make the same decision on the result (where twilio-go's
// documented simplifications do not apply: repeated names, ';' separators).
func FuzzAgreesWithTwilioGo(f *testing.F) {
	for _, name := range formFixtures {
		f.Add(fixture(f, name), "", uint16(0), byte(0))
		f.Add(fixture(f, name), "tenant=acme", uint16(40), byte('X'))
	}
	f.Add([]byte("a=%2B1&b=+"), "q=%20", uint16(3), byte('2'))
	a := &account{sid: testAccount, tokens: [][]byte{[]byte(testToken)}, members: map[string]bool{testAccount: true}}
	v := newVerifier(testPublic, []*account{a})
	validator := client.NewRequestValidator(testToken)
	f.Fuzz(func(t *testing.T, body []byte, query string, pos uint16, b byte) {
		pq := PathVoiceStatus
		if query != "" {
			pq += "?" + query
		}
		u, err := url.Parse(testPublic + pq)
		if err != nil || u.RawQuery != query || u.Query().Has(paramBodySHA256) {
			return
		}
		orig, err := url.ParseQuery(string(body))
		if err != nil || bytes.ContainsRune(body, ';') || hasRepeatedKeys(orig) {
			return
		}
		sig := referenceSignature(testToken, testPublic+pq, orig)
		mutated := bytes.Clone(body)
		if len(mutated) > 0 {
			mutated[int(pos)%len(mutated)] = b
		}
		form, err := parseForm(mutated)
		if err != nil || bytes.ContainsRune(mutated, ';') {
			return
		}
		if mv, err := url.ParseQuery(string(mutated)); err != nil || hasRepeatedKeys(mv) {
			return
		}
		ours := v.verify(sig, "", pq, form.canonical()) != nil
		theirs := validator.ValidateBody(testPublic+pq, mutated, sig)
		if ours != theirs {
			t.Fatalf("receiver says %v, twilio-go says %v for %q", ours, theirs, mutated)
		}
	})
}
