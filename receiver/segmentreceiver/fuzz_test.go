package segmentreceiver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/region"
	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

func fuzzSeeds(f *testing.F) {
	for _, name := range []string{
		"webhook_track.json", "webhook_identify.json", "webhook_consent_updated.json", "webhook_delete.json",
		"webhook_actions_batch.json", "tracking_batch.json", "tracking_browser_batch.json", "tracking_track.json",
	} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"a":"]}"},1]`))
	f.Add([]byte(`{"batch":[{"type":"track","writeKey":7}]}`))
	f.Add([]byte(`{"type":"identify","traits":{"address":{"country":"us","state":"wa"}},"context":{"locale":"en_US.UTF-8"}}`))
}

// FuzzWebhookEvents: any body either fails with an error or yields one
// record per event, and never panics.
func FuzzWebhookEvents(f *testing.F) {
	fuzzSeeds(f)
	n, err := newNormalizer(testConfig(), "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := webhookEvents(body)
		if err != nil {
			return
		}
		ld, err := n.records(events, "", &requestInfo{tenant: testSource, route: routeWebhook, received: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if ld.LogRecordCount() != len(events) {
			t.Fatalf("%d events, %d records", len(events), ld.LogRecordCount())
		}
	})
}

// FuzzTrackingBody: the Tracking API parser never panics, never lets a
// write key through into an event, and yields one record per event.
func FuzzTrackingBody(f *testing.F) {
	fuzzSeeds(f)
	n, err := newNormalizer(testConfig(), "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, typ := range []string{"", typeTrack} {
			tb, err := parseTracking(bytes.Clone(body), typ)
			if err != nil || tb.invalid != nil {
				continue
			}
			for i, ev := range tb.events {
				if _, ok := ev["writeKey"]; ok {
					t.Fatalf("event %d kept its writeKey", i)
				}
				if typ != "" && ccaas.Str(ev, "type") != typ {
					t.Fatalf("single event of type %q on the %s endpoint", ccaas.Str(ev, "type"), typ)
				}
			}
			ld, err := n.records(tb.events, typ, &requestInfo{tenant: testSource, route: routeBatch, received: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if ld.LogRecordCount() != len(tb.events) {
				t.Fatalf("%d events, %d records", len(tb.events), ld.LogRecordCount())
			}
		}
	})
}

// FuzzFirstElement: the delimiter finds exactly the first element of any
// valid array whose first element is an object, and otherwise returns a
// piece of the body that starts with '{' and ends with '}'.
func FuzzFirstElement(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := firstElement(body)
		if ok {
			if len(got) < 2 || got[0] != '{' || got[len(got)-1] != '}' || !bytes.Contains(body, got) {
				t.Fatalf("bad element %q", got)
			}
		}
		var arr []json.RawMessage
		if json.Unmarshal(body, &arr) != nil || len(arr) == 0 || len(arr[0]) == 0 || arr[0][0] != '{' {
			return
		}
		if !ok {
			t.Fatalf("no first element in a valid array: %q", body)
		}
		if !bytes.Equal(got, arr[0]) {
			t.Fatalf("first element %q, encoding/json says %q", got, arr[0])
		}
	})
}

// FuzzWebhookSignature: a request is authenticated only by the exact
// signature of its body (any hex case) with a configured secret, and a
// signature made for one body never authenticates another.
func FuzzWebhookSignature(f *testing.F) {
	f.Add([]byte(`{"type":"track"}`), sign(testShared, []byte(`{"type":"track"}`)), []byte(`{"type":"track"}`))
	f.Add([]byte(`{"type":"track"}`), "", []byte(`{"type":"track"} `))
	f.Add([]byte(`[{"type":"track"}]`), sign(testShared, []byte(`{"type":"track"}`)), []byte(`[{"type":"track"}]`))
	f.Add([]byte(`{}`), "zz", []byte(`{}`))
	cfg := testConfig()
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	secrets := []string{testShared, oldShared, otherShared}
	f.Fuzz(func(t *testing.T, signedBody []byte, provided string, sent []byte) {
		req := httptest.NewRequest(http.MethodPost, PathWebhook, nil)
		if provided != "" {
			req.Header.Set(HeaderSignature, provided)
		}
		tenant, err := r.live.Load().webhookTenant(req, sent, isArray(sent))
		valid := false
		for _, s := range secrets {
			if strings.EqualFold(strings.TrimSpace(provided), sign(s, sent)) {
				valid = true
			}
		}
		switch {
		case err == nil && (!valid || isArray(sent)):
			t.Fatalf("authenticated %q with signature %q as %q", sent, provided, tenant)
		case err != nil && valid && !isArray(sent):
			t.Fatalf("refused a correctly signed body: %v", err)
		}
		// A real signature of signedBody authenticates sent only if the
		// bodies are equal.
		req.Header.Set(HeaderSignature, sign(testShared, signedBody))
		_, err = r.live.Load().webhookTenant(req, sent, isArray(sent))
		if err == nil && !bytes.Equal(signedBody, sent) {
			t.Fatalf("signature of %q accepted for %q", signedBody, sent)
		}
	})
}

// FuzzBatchAuth: a batched delivery is authenticated only by a configured
// batch token, whatever signature comes with it.
func FuzzBatchAuth(f *testing.F) {
	f.Add([]byte(`[{"a":1},{"b":2}]`), testBatchToken, sign(testShared, []byte(`{"a":1}`)))
	f.Add([]byte(`[{"a":1}]`), "", sign(testShared, []byte(`{"a":1}`)))
	f.Add([]byte(`[{"a":1}]`), "Bearer x", "")
	r, err := newReceiver(testConfig(), receivertest.NewNopSettings(metadata.Type), consumertest.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, token, sig string) {
		if !isArray(body) {
			return
		}
		req := httptest.NewRequest(http.MethodPost, PathWebhook, nil)
		req.Header.Set(batchHeader, token)
		req.Header.Set(HeaderSignature, sig)
		if _, err := r.live.Load().webhookTenant(req, body, true); err == nil && req.Header.Get(batchHeader) != testBatchToken {
			t.Fatalf("batch authenticated with token %q", token)
		}
	})
}

// FuzzJurisdictionHints: locale and address parsing never panic and give
// either nothing or an assigned country code.
func FuzzJurisdictionHints(f *testing.F) {
	for _, s := range []string{"en-US", "zh-Hant-TW", "en_US.UTF-8", "es-419", "UK", "United States", "", "x-private", "de-DE-1996"} {
		f.Add(s, "California")
	}
	f.Fuzz(func(t *testing.T, locale, state string) {
		for _, c := range []string{localeCountry(locale), region.Country(locale)} {
			if c != "" && !region.IsCountry(c) {
				t.Fatalf("%q gave country %q", locale, c)
			}
		}
		for _, country := range []string{"US", "CA", "PR", region.Country(locale)} {
			c, sub := region.Subdivision(country, state)
			if sub != "" && (!strings.HasPrefix(sub, "US-") && !strings.HasPrefix(sub, c+"-")) {
				t.Fatalf("Subdivision(%q, %q) = %q, %q", country, state, c, sub)
			}
		}
		ev := map[string]any{"type": "identify", "traits": map[string]any{"address": map[string]any{"state": state, "country": locale}}, "context": map[string]any{"locale": locale}}
		lr := decodeRecord(t, ev)
		if v, ok := lr.Attributes().Get(ccaas.AttrJurisdictionCountry); ok && !region.IsCountry(v.Str()) {
			t.Fatalf("country %q", v.Str())
		}
	})
}

func decodeRecord(t *testing.T, ev map[string]any) plog.LogRecord {
	n, err := newNormalizer(testConfig(), "fuzz")
	if err != nil {
		t.Fatal(err)
	}
	ld, err := n.records([]map[string]any{ev}, "", &requestInfo{tenant: testSource, route: routeWebhook, received: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}
