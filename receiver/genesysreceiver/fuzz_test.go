package genesysreceiver

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/signature"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/genesysreceiver/internal/metadata"
)

func fuzzNormalizer(t testing.TB) *normalizer {
	k, err := subject.NewKeyers([]byte(testSalt))
	if err != nil {
		t.Fatal(err)
	}
	return &normalizer{keyers: k, insecure: true, consentAttrs: map[string]string{"RecordingConsent": "recording"},
		dataActions: testConfig().DataActions}
}

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(fixture(f, n))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"detail":{"topicName":"v2.detail.events.conversation.{id}.customer.start","eventBody":{"ani":"tel:+1"}}}`))
	f.Add([]byte(`{"topicName":"v2.users.x.conversations","eventBody":{"participants":[{"purpose":"customer","calls":[1,{}]}]}}`))
}

// checkRecords asserts the invariants every accepted event must satisfy.
func checkRecords(t *testing.T, err error, eventIDs func() []string) {
	if err != nil {
		if _, ok := err.(*webhook.Error); !ok {
			t.Fatalf("a parse failure must be a *webhook.Error with a status, got %T: %v", err, err)
		}
		return
	}
	for _, id := range eventIDs() {
		if id == "" {
			t.Fatal("every record needs a ccaas.event.id")
		}
	}
}

func FuzzEventBridge(f *testing.F) {
	addSeeds(f, "eventbridge_customer_start.json", "eventbridge_batch.json", "eventbridge_transcription_two_channels.json",
		"eventbridge_audit_user_presence.json", "eventbridge_concrete_detail_type.json")
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.eventBridge(body, "", time.Now())
		checkRecords(t, err, func() []string { return ids(ld) })
	})
}

func FuzzNotifications(f *testing.F) {
	addSeeds(f, "notification_snapshot.json", "notification_recording.json", "notification_user_activity.json",
		"dataaction_acw_toplevel.json")
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.notifications(body, testOrg, time.Now())
		checkRecords(t, err, func() []string { return ids(ld) })
	})
}

func FuzzDataAction(f *testing.F) {
	addSeeds(f, "dataaction_acw_toplevel.json")
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.dataAction("acw", body, testOrg, time.Now())
		checkRecords(t, err, func() []string { return ids(ld) })
	})
}

func FuzzOpenMessaging(f *testing.F) {
	addSeeds(f, "openmessaging_inbound_text.json", "openmessaging_outbound_text.json", "openmessaging_receipt.json",
		"openmessaging_outbound_conversation.json")
	n := fuzzNormalizer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ld, err := n.openMessaging(body, testOrg, time.Now())
		checkRecords(t, err, func() []string { return ids(ld) })
	})
}

// FuzzOpenMessagingSignature: no header value other than the true MAC of the
// body authenticates a request.
func FuzzOpenMessagingSignature(f *testing.F) {
	body := fixture(f, "openmessaging_inbound_text.json")
	f.Add(body, omSign(testOMSecret, body)[HeaderHubSignature])
	f.Add(body, "sha256=")
	f.Add([]byte("{}"), "sha256=AAAA")
	sink := new(consumertest.LogsSink)
	rcv, err := newReceiver(testConfig(), receivertest.NewNopSettings(metadata.Type), sink)
	if err != nil {
		f.Fatal(err)
	}
	h := rcv.server.Handler()
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		req := httptest.NewRequest(http.MethodPost, PathOpenMessaging, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(HeaderHubSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized && !trueMAC(sig, body) {
			t.Fatalf("signature %q was not refused (status %d)", sig, rec.Code)
		}
		if rec.Code == http.StatusOK && sink.LogRecordCount() == 0 {
			t.Fatal("a 200 without a record")
		}
	})
}

func ids(ld plog.Logs) []string {
	var out []string
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				v, _ := lr.Attributes().Get(ccaas.AttrEventID)
				out = append(out, v.Str())
			}
		}
	}
	return out
}

// trueMAC reports whether sig carries the correct MAC of body in any
// encoding the verifier accepts.
func trueMAC(sig string, body []byte) bool {
	rest, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return false
	}
	rest = strings.TrimSpace(rest)
	want := signature.MAC(signature.SHA256, []byte(testOMSecret), body)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if got, err := enc.DecodeString(rest); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}
