package talkdeskreceiver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha512"
	"encoding/hex"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/talkdeskreceiver/internal/metadata"
)

func fuzzNormalizer(t testing.TB) *normalizer {
	k, err := subject.NewKeyers([]byte(testSalt))
	if err != nil {
		t.Fatal(err)
	}
	return &normalizer{keyers: k, consent: map[string]string{"RecordingConsent": "recording"},
		aliases: map[string]string{triggerKey("call-done"): "inboundCallEnds"}, fields: defaultFields()}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(fixture(f, n))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"call_id":1,"recording_url":"x"},{"account_id":true}]`))
	f.Add([]byte(`{"data":{"account_id":{"x":1},"client_secret":[1]},"type":"app.installed"}`))
	f.Add([]byte(`{"timestamp":"99999999999999999999","start_time":"1e400","proactive_outbound":"yes"}`))
}

// checkRecords asserts the invariants every accepted event must satisfy.
func checkRecords(t *testing.T, ld plog.Logs, err error) {
	t.Helper()
	if err != nil {
		if _, ok := err.(*webhook.Error); !ok {
			t.Fatalf("a parse failure must be a *webhook.Error with a status, got %T: %v", err, err)
		}
		return
	}
	forEachRecord(ld, func(tenant string, lr plog.LogRecord) {
		if tenant == "" {
			t.Fatal("every record needs a tenant")
		}
		if attr(lr, ccaas.AttrEventID) == "" {
			t.Fatal("every record needs a ccaas.event.id")
		}
		if lr.EventName() == "" {
			t.Fatal("every record needs an event name")
		}
		if lr.ObservedTimestamp() == 0 {
			t.Fatal("every record needs an observed timestamp")
		}
		if attr(lr, ccaas.AttrEventRoute) != routeEvents {
			return
		}
		if d, ok := lr.Body().Map().Get("data"); ok && d.Type() == pcommon.ValueTypeMap {
			for _, k := range credentialFields {
				if v, ok := d.Map().Get(k); ok && v.AsString() != redacted {
					t.Fatalf("credential %s was not redacted", k)
				}
			}
		}
	})
}

func FuzzWebhook(f *testing.F) {
	addSeeds(f, "webhook_inbound_call_reaches.json", "webhook_inbound_call_starts.json", "webhook_inbound_call_ends.json",
		"webhook_outbound_call_ends.json", "webhook_contact_updated.json", "webhook_agent_log_in.json", "webhook_custom_trigger.json",
		"webhook_legacy_call_finished.json", "webhook_agent_status_changes.json")
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, trigger := range []string{"inboundCallEnds", "call-done", "contactUpdated", "something"} {
			ld, err := n.webhook(trigger, body, account{}, time.Now())
			checkRecords(t, ld, err)
			ld, err = n.webhook(trigger, body, account{id: testAccount, name: "starship"}, time.Now())
			checkRecords(t, ld, err)
		}
	})
}

func FuzzEvents(f *testing.F) {
	addSeeds(f, "events_app_installed.json", "events_user_logout.json")
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.events(body, time.Now())
		checkRecords(t, ld, err)
	})
}

func FuzzDigitalConnect(f *testing.F) {
	addSeeds(f, "digital_connect_message_created.json", "digital_connect_conversation_ended.json")
	f.Add([]byte(`{"event_type":"MESSAGE_CREATED","payload":{"author":{"type":["x"]},"record":"https://x"}}`))
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.digitalConnect(body, account{id: testAccount}, time.Now())
		checkRecords(t, ld, err)
	})
}

// FuzzLenient: the lenient parsers never panic, and what they accept is
// sane.
func FuzzLenient(f *testing.F) {
	for _, s := range []string{"2025-11-03 14:25:13 UTC", "1762179913000", "1762179913.5", "yes", "{{x}}", "Mon Nov 3 14:25:13 UTC 2025", "9.9.9", "1" + strings.Repeat("0", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ts := parseTime(s); !ts.IsZero() && ts.Before(minTime) {
			t.Fatalf("parseTime(%q) = %v, before the minimum", s, ts)
		}
		_, _ = parseBool(s)
		if v, ok := text(s); ok && (v == "" || v != strings.TrimSpace(v)) {
			t.Fatalf("text(%q) = %q", s, v)
		}
		_ = triggerKey(s)
	})
}

// FuzzWebhookToken: no header or query token other than a configured one
// authenticates a webhook request, and a refused request yields no record.
func FuzzWebhookToken(f *testing.F) {
	f.Add(testToken, "")
	f.Add("", testURLToken)
	f.Add(testToken, testURLToken)
	f.Add(testToken+" ", "")
	f.Add("Bearer "+testToken, "")
	f.Add("", testToken)
	f.Add(otherToken, "")
	sink := new(consumertest.LogsSink)
	rcv, err := newReceiver(testConfig(f), receivertest.NewNopSettings(metadata.Type), sink)
	if err != nil {
		f.Fatal(err)
	}
	h := rcv.server.Handler()
	body := fixture(f, "webhook_agent_log_in.json") // names no account: any valid token is accepted
	f.Fuzz(func(t *testing.T, header, query string) {
		target := webhookPath("agentLogIn")
		if query != "" {
			target += "?" + url.Values{QueryToken: {query}}.Encode()
		}
		req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header[testHeaderName] = []string{header}
		}
		before := sink.LogRecordCount()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		hdrOK := header == "" || header == testToken || header == oldToken || header == otherToken
		qOK := query == "" || query == testURLToken
		bothSame := !(header == otherToken && query == testURLToken)
		valid := (header != "" || query != "") && hdrOK && qOK && bothSame
		switch {
		case rec.Code == http.StatusOK && !valid:
			t.Fatalf("header %q / query %q was accepted", header, query)
		case rec.Code != http.StatusOK && valid:
			t.Fatalf("valid header %q / query %q refused with %d", header, query, rec.Code)
		case rec.Code != http.StatusOK && sink.LogRecordCount() != before:
			t.Fatal("a refused request produced a record")
		}
		if strings.Contains(rec.Body.String(), header) && header != "" && len(header) > 3 {
			t.Fatal("the answer echoes the presented token")
		}
	})
}

// FuzzEventsSignature: no signature header other than the key's true
// signature of the body authenticates an Events API delivery.
func FuzzEventsSignature(f *testing.F) {
	k, other := signingKeys(f)
	body := fixture(f, "events_user_logout.json")
	good := sign(f, k, testKeyID, body)
	f.Add(body, good[HeaderSignature], testKeyID)
	f.Add(body, sign(f, other, testKeyID, body)[HeaderSignature], testKeyID)
	f.Add(body, good[HeaderSignature], "other")
	f.Add([]byte(`{"type":"x"}`), good[HeaderSignature], testKeyID)
	f.Add(body, "", testKeyID)
	f.Add(body, "3006020101020101", testKeyID)
	sink := new(consumertest.LogsSink)
	rcv, err := newReceiver(testConfig(f), receivertest.NewNopSettings(metadata.Type), sink)
	if err != nil {
		f.Fatal(err)
	}
	h := rcv.server.Handler()
	f.Fuzz(func(t *testing.T, msg []byte, sig, keyID string) {
		req := httptest.NewRequest(http.MethodPost, PathEvents, bytes.NewReader(msg))
		req.Header.Set("Content-Type", "application/json")
		req.Header[HeaderSignature] = []string{sig}
		req.Header[HeaderSignatureID] = []string{keyID}
		before := sink.LogRecordCount()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusUnauthorized {
			if sink.LogRecordCount() != before {
				t.Fatal("a refused request produced a record")
			}
			return
		}
		if !trueSignature(&k.PublicKey, strings.TrimSpace(keyID), sig, msg) {
			t.Fatalf("signature %q (key %q) was not refused: status %d", sig, keyID, rec.Code)
		}
	})
}

// trueSignature reports whether sig is the configured key's signature of
// msg, in either encoding the verifier accepts.
func trueSignature(pub *ecdsa.PublicKey, keyID, sig string, msg []byte) bool {
	if keyID != testKeyID {
		return false
	}
	raw, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return false
	}
	d := sha512.Sum512(msg)
	if ecdsa.VerifyASN1(pub, d[:], raw) {
		return true
	}
	return len(raw) == 64 && ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:]))
}
