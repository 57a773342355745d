package segmentreceiver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

// decodeOne normalises one event the way the webhook route does.
func decodeOne(t *testing.T, event string, mutate ...func(*Config)) plog.LogRecord {
	t.Helper()
	cfg := testConfig()
	for _, m := range mutate {
		m(cfg)
	}
	n, err := newNormalizer(cfg, "test")
	require.NoError(t, err)
	events, err := webhookEvents([]byte(event))
	require.NoError(t, err)
	ld, err := n.records(events, "", &requestInfo{tenant: testSource, route: routeWebhook, received: time.Now()})
	require.NoError(t, err)
	require.Equal(t, 1, ld.LogRecordCount())
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func TestEventNames(t *testing.T) {
	for event, want := range map[string]string{
		`{"type":"track","event":"Order Completed"}`:                    ccaas.EventAnalyticsTrack,
		`{"type":"track","event":"Segment Consent Preference Updated"}`: ccaas.EventConsentUpdated,
		`{"type":"track","event":"segment consent preference updated"}`: ccaas.EventAnalyticsTrack,
		`{"type":"identify"}`: ccaas.EventAnalyticsTrack,
		`{"type":"page"}`:     ccaas.EventAnalyticsTrack,
		`{"type":"screen"}`:   ccaas.EventAnalyticsTrack,
		`{"type":"group"}`:    ccaas.EventAnalyticsTrack,
		`{"type":"alias"}`:    ccaas.EventAnalyticsTrack,
		`{"type":"delete"}`:   ccaas.EventErasureRequested,
		`{"type":"future"}`:   ccaas.EventVendor,
		`{"event":"untyped"}`: ccaas.EventVendor,
	} {
		lr := decodeOne(t, event)
		assert.Equal(t, want, lr.EventName(), event)
		if want == ccaas.EventErasureRequested {
			assert.Equal(t, true, attr(lr, ccaas.AttrErasureRequested))
		} else {
			assert.Nil(t, attr(lr, ccaas.AttrErasureRequested))
		}
	}
	assert.Nil(t, attr(decodeOne(t, `{"event":"untyped"}`), ccaas.AttrEventType))
	assert.Equal(t, "future", attr(decodeOne(t, `{"type":"future"}`), ccaas.AttrEventType))
}

func TestSubjectIsStablePerPerson(t *testing.T) {
	key := func(event string) (string, string) {
		lr := decodeOne(t, event)
		k, _ := attr(lr, ccaas.AttrSubjectKey).(string)
		typ, _ := attr(lr, ccaas.AttrSubjectIDType).(string)
		return k, typ
	}
	identify, typ := key(`{"type":"identify","userId":"u-42","traits":{"email":"a@example.com","phone":"+14155550123"}}`)
	assert.Equal(t, "opaque", typ)
	track, _ := key(`{"type":"track","userId":"u-42","event":"x"}`)
	del, _ := key(`{"type":"delete","userId":"u-42"}`)
	withAnon, _ := key(`{"type":"page","userId":"u-42","anonymousId":"anon-1"}`)
	assert.Equal(t, identify, track, "traits must not change the key of a known user")
	assert.Equal(t, identify, del)
	assert.Equal(t, identify, withAnon, "userId wins over anonymousId")

	anon, typ := key(`{"type":"page","anonymousId":"anon-1"}`)
	assert.Equal(t, "opaque", typ)
	assert.NotEqual(t, identify, anon)
	blank, _ := key(`{"type":"page","userId":"  ","anonymousId":"anon-1"}`)
	assert.Equal(t, anon, blank, "a blank userId falls back to anonymousId")

	// An address-shaped userId is keyed as an e-mail (lower-cased), so it
	// meets the same person's key from other vendors.
	email1, typ := key(`{"type":"track","userId":"Jane.Doe@Example.com"}`)
	assert.Equal(t, "email", typ)
	email2, _ := key(`{"type":"identify","userId":"jane.doe@example.com"}`)
	assert.Equal(t, email1, email2)
	// A numeric id that looks like a phone number stays opaque.
	_, typ = key(`{"type":"track","userId":4155550123}`)
	assert.Equal(t, "opaque", typ)
	lr := decodeOne(t, `{"type":"track","userId":"4155550123"}`)
	assert.Nil(t, attr(lr, ccaas.AttrJurisdictionCountry), "an opaque id gives no jurisdiction")

	none := decodeOne(t, `{"type":"track","event":"x"}`)
	assert.Nil(t, attr(none, ccaas.AttrSubjectKey))
}

func TestConsentSignals(t *testing.T) {
	lr := decodeOne(t, `{"type":"track","context":{"consent":{"categoryPreferences":{"Advertising":false,"Analytics":"true","Odd":"maybe","":true,"a.b":true}}}}`)
	assert.Equal(t, true, attr(lr, ccaas.AttrConsentCategoriesPresent))
	assert.Equal(t, false, attr(lr, ccaas.AttrConsentCategoryPrefix+"Advertising"))
	assert.Equal(t, true, attr(lr, ccaas.AttrConsentCategoryPrefix+"Analytics"))
	assert.Equal(t, true, attr(lr, ccaas.AttrConsentCategoryPrefix+"a.b"))
	assert.Equal(t, "maybe", attr(lr, ccaas.AttrConsentCategoryPrefix+"Odd"), "a non-boolean is kept for the processor to call malformed, not dropped")
	assert.Nil(t, attr(lr, ccaas.AttrConsentCategoryPrefix))

	empty := decodeOne(t, `{"type":"track","context":{"consent":{"categoryPreferences":{}}}}`)
	assert.Equal(t, true, attr(empty, ccaas.AttrConsentCategoriesPresent), "an empty object means: nothing consented")
	for _, ev := range []string{`{"type":"track"}`, `{"type":"track","context":{"consent":{}}}`, `{"type":"track","context":{"consent":{"categoryPreferences":"all"}}}`} {
		assert.Nil(t, attr(decodeOne(t, ev), ccaas.AttrConsentCategoriesPresent), ev)
	}
	// A consent object that is not one is unreadable, not absent.
	assert.Equal(t, []any{"categories"}, attr(decodeOne(t, `{"type":"track","context":{"consent":{"categoryPreferences":"all"}}}`), ccaas.AttrConsentUnreadable))
	odd := decodeOne(t, `{"type":"track","context":{"consent":{"categoryPreferences":{"A":1,"B":null,"C":{"x":true}}}}}`)
	assert.Equal(t, "1", attr(odd, ccaas.AttrConsentCategoryPrefix+"A"))
	assert.ElementsMatch(t, []any{"category:B", "category:C"}, attr(odd, ccaas.AttrConsentUnreadable))
	// TCF, GPP and US Privacy strings; values that are not strings are unreadable.
	sig := decodeOne(t, `{"type":"track","context":{"consent":{"gppString":"DBABTA~1YYN","usPrivacy":"1YYN","tcString":42}}}`)
	assert.Equal(t, "DBABTA~1YYN", attr(sig, ccaas.AttrConsentGPP))
	assert.Equal(t, "1YYN", attr(sig, ccaas.AttrConsentUSP))
	assert.Nil(t, attr(sig, ccaas.AttrConsentTCF))
	assert.Equal(t, []any{"tcf"}, attr(sig, ccaas.AttrConsentUnreadable))
	big := decodeOne(t, `{"type":"track","context":{"gpp":"`+strings.Repeat("A", 17<<10)+`"}}`)
	assert.Equal(t, []any{"gpp"}, attr(big, ccaas.AttrConsentUnreadable), "too long to copy")

	// Many categories: a bounded, deterministic subset becomes attributes.
	prefs := map[string]bool{}
	for i := range 200 {
		prefs[fmt.Sprintf("cat%03d", i)] = true
	}
	raw, _ := json.Marshal(map[string]any{"type": "track", "context": map[string]any{"consent": map[string]any{"categoryPreferences": prefs}}})
	many := decodeOne(t, string(raw))
	n := 0
	for k := range many.Attributes().All() {
		if strings.HasPrefix(k, ccaas.AttrConsentCategoryPrefix) {
			n++
		}
	}
	assert.Equal(t, maxCategories, n)
	assert.Equal(t, true, attr(many, ccaas.AttrConsentCategoryPrefix+"cat000"))

	// TCF and GPP strings from the default and from configured places.
	lr = decodeOne(t, `{"type":"track","context":{"consent":{"tcfString":" CPabc ","gppString":"DBABMA~1YNN"}}}`)
	assert.Equal(t, "CPabc", attr(lr, ccaas.AttrConsentTCF))
	assert.Equal(t, "DBABMA~1YNN", attr(lr, ccaas.AttrConsentGPP))
	lr = decodeOne(t, `{"type":"track","context":{"consent":{"tcString":""},"gdpr_consent":"CPfallback"}}`)
	assert.Equal(t, "CPfallback", attr(lr, ccaas.AttrConsentTCF), "empty strings are skipped")
	lr = decodeOne(t, `{"type":"track","integrations":{"Criteo":{"gdpr_consent":"CPcriteo"}}}`, func(c *Config) {
		c.TCFFields = []string{"integrations.Criteo.gdpr_consent"}
	})
	assert.Equal(t, "CPcriteo", attr(lr, ccaas.AttrConsentTCF))
	lr = decodeOne(t, `{"type":"track","context":{"consent":{"tcString":42}}}`)
	assert.Nil(t, attr(lr, ccaas.AttrConsentTCF))
	huge := `{"type":"track","context":{"consent":{"tcString":"` + strings.Repeat("A", maxConsentStringLen+1) + `"}}}`
	assert.Nil(t, attr(decodeOne(t, huge), ccaas.AttrConsentTCF))
	assert.Nil(t, attr(decodeOne(t, `{"type":"track"}`), ccaas.AttrConsentGPC), "no GPC unless the header says so")
}

func TestJurisdiction(t *testing.T) {
	type want struct{ country, region, source string }
	for event, w := range map[string]want{
		// Address first, from identify traits or context.traits.
		`{"type":"identify","traits":{"address":{"country":"us","state":"ca"}}}`:                       {"US", "US-CA", "vendor_field"},
		`{"type":"identify","traits":{"address":{"country":"United States","state":"New York"}}}`:      {"US", "US-NY", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"Canada","state":"Ontario"}}}}`:     {"CA", "CA-ON", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"CA","state":"Québec"}}}}`:          {"CA", "CA-QC", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"DE","state":"DE-BY"}}}}`:           {"DE", "DE-BY", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"DE","state":"Bayern"}}}}`:          {"DE", "", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"UK"}}}}`:                           {"GB", "", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"US","state":"PR"}}}}`:              {"PR", "US-PR", "vendor_field"},
		`{"type":"track","context":{"traits":{"address":{"country":"Puerto Rico"}}}}`:                  {"PR", "", "vendor_field"},
		`{"type":"track","context":{"locale":"en-US","traits":{"address":{"state":"Washington"}}}}`:    {"US", "US-WA", "vendor_field"},
		`{"type":"track","context":{"locale":"en-US","traits":{"address":{"state":"Narnia"}}}}`:        {"US", "", "locale"},
		`{"type":"identify","traits":{"address":{"state":"CA"}}}`:                                      {"", "", ""},
		`{"type":"identify","traits":{"address":{"country":"Atlantis"}},"context":{"locale":"fr-FR"}}`: {"FR", "", "locale"},
		// A group's traits are the company's: not the person's address.
		`{"type":"group","traits":{"address":{"country":"GB"}}}`: {"", "", ""},
		// Phone next.
		`{"type":"identify","traits":{"phone":"+1 (415) 555-0123"},"context":{"locale":"de-DE"}}`: {"US", "US-CA", "e164"},
		`{"type":"track","context":{"traits":{"phone":"+44 20 7946 0958"}}}`:                      {"GB", "", "e164"},
		`{"type":"track","context":{"traits":{"phone":"not a number"},"locale":"it-IT"}}`:         {"IT", "", "locale"},
		// Then locale.
		`{"type":"page","context":{"locale":"en-GB"}}`:          {"GB", "", "locale"},
		`{"type":"page","context":{"locale":"zh-Hant-TW"}}`:     {"TW", "", "locale"},
		`{"type":"page","context":{"locale":"en_US.UTF-8"}}`:    {"US", "", "locale"},
		`{"type":"page","context":{"locale":"es-419"}}`:         {"", "", ""},
		`{"type":"page","context":{"locale":"en"}}`:             {"", "", ""},
		`{"type":"page","context":{"locale":"en-XA"}}`:          {"", "", ""},
		`{"type":"page","context":{"locale":"de-DE-1996"}}`:     {"DE", "", "locale"},
		`{"type":"page","context":{"locale":"sl-rozaj-biske"}}`: {"", "", ""},
		// An IP address alone: the hint is recorded, no country invented.
		`{"type":"page","context":{"ip":"203.0.113.7"}}`:                  {"", "", "ip"},
		`{"type":"page","context":{"ip":"203.0.113.7","locale":"en-IE"}}`: {"IE", "", "locale"},
		`{"type":"page"}`: {"", "", ""},
	} {
		lr := decodeOne(t, event)
		got := want{}
		got.country, _ = attr(lr, ccaas.AttrJurisdictionCountry).(string)
		got.region, _ = attr(lr, ccaas.AttrJurisdictionRegion).(string)
		got.source, _ = attr(lr, ccaas.AttrJurisdictionSource).(string)
		assert.Equal(t, w, got, event)
	}
}

func TestChannel(t *testing.T) {
	for event, want := range map[string]string{
		`{"type":"track","context":{"channel":"browser"}}`:          "web",
		`{"type":"track","channel":"mobile"}`:                       "app",
		`{"type":"track","channel":"server"}`:                       "server",
		`{"type":"track","channel":"client","context":{"page":{}}}`: "web",
		`{"type":"track","context":{"device":{"id":"d"}}}`:          "app",
		`{"type":"page","channel":"client"}`:                        "web",
		`{"type":"screen"}`:                                         "app",
		`{"type":"identify"}`:                                       "",
	} {
		got, _ := attr(decodeOne(t, event), ccaas.AttrChannel).(string)
		assert.Equal(t, want, got, event)
	}
}

func TestOccurred(t *testing.T) {
	ev := func(s string) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m))
		return m
	}
	at := func(s string) time.Time { return parseTime(s) }
	assert.Equal(t, at("2024-05-02T10:00:00Z"),
		occurred(ev(`{"timestamp":"2024-05-02T10:00:00Z","originalTimestamp":"2024-05-02T09:00:00Z"}`)), "timestamp wins")
	// The client's clock is 5 minutes fast: sentAt - originalTimestamp = 2s.
	assert.Equal(t, at("2024-05-02T11:59:58Z"),
		occurred(ev(`{"originalTimestamp":"2024-05-02T12:04:58Z","sentAt":"2024-05-02T12:05:00Z","receivedAt":"2024-05-02T12:00:00Z"}`)))
	assert.Equal(t, at("2024-05-02T09:00:00Z"),
		occurred(ev(`{"originalTimestamp":"2024-05-02T11:00:00+02:00","receivedAt":"2024-05-02T12:00:00Z"}`)), "without sentAt, the client's time as it is")
	assert.Equal(t, at("2024-05-02T12:05:00Z"), occurred(ev(`{"sentAt":"2024-05-02T12:05:00Z","receivedAt":"2024-05-02T12:00:00Z"}`)), "then sentAt")
	assert.Equal(t, at("2024-05-02T11:00:00Z"), occurred(ev(`{"receivedAt":"2024-05-02T11:00:00.000Z"}`)), "then receivedAt")
	assert.True(t, occurred(ev(`{"timestamp":"yesterday"}`)).IsZero())
	assert.True(t, occurred(ev(`{"timestamp":1714644000000}`)).IsZero())
	assert.Equal(t, time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC), parseTime("2024-05-02T10:00:00.000+0000"))
	assert.Equal(t, time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC), parseTime("2024-05-02T10:00:00"))
}

// TestStamp: the Tracking API stamps what Segment's servers stamp, with the
// numbers of a captured analytics-ios event (testdata/fixtures/SOURCES.md):
// Segment received it at 17:05:53.785 and computed timestamp 17:05:23.787.
func TestStamp(t *testing.T) {
	received := at(t, "2020-11-13T17:05:53.785Z")
	tracking := &requestInfo{route: routeBatch, received: received}
	ev := map[string]any{"timestamp": "2020-11-13T17:05:19.512Z", "sentAt": "2020-11-13T17:05:49.510Z", "receivedAt": "forged", "writeKey": "k"}
	stamp(ev, tracking)
	assert.Equal(t, map[string]any{
		"originalTimestamp": "2020-11-13T17:05:19.512Z",
		"timestamp":         "2020-11-13T17:05:23.787Z",
		"sentAt":            "2020-11-13T17:05:49.510Z",
		"receivedAt":        "2020-11-13T17:05:53.785Z",
	}, ev, "the client's timestamp is original, timestamp is corrected, receivedAt is ours")

	imported := map[string]any{"timestamp": "2019-01-01T00:00:00Z"}
	stamp(imported, tracking)
	assert.Equal(t, map[string]any{"timestamp": "2019-01-01T00:00:00Z", "receivedAt": "2020-11-13T17:05:53.785Z"}, imported,
		"without sentAt, a historical import keeps its timestamp")

	webhook := &requestInfo{route: routeWebhook, received: received.Add(time.Hour)}
	delivered := map[string]any{"timestamp": "2020-11-13T17:05:23.787Z", "sentAt": "2020-11-13T17:05:49.510Z", "receivedAt": "2020-11-13T17:05:53.785Z"}
	stamp(delivered, webhook)
	assert.Equal(t, "2020-11-13T17:05:53.785Z", delivered["receivedAt"], "Segment's stamps stay")
	assert.Equal(t, "2020-11-13T17:05:23.787Z", delivered["timestamp"])
	bare := map[string]any{"event": "x"}
	stamp(bare, webhook)
	assert.Equal(t, "2020-11-13T18:05:53.785Z", bare["receivedAt"], "a delivery without receivedAt gets ours")
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v := parseTime(s)
	require.False(t, v.IsZero(), s)
	return v
}

func TestEventID(t *testing.T) {
	assert.Equal(t, "m-1", eventID(map[string]any{"messageId": "m-1"}))
	long := strings.Repeat("x", 101)
	id := eventID(map[string]any{"messageId": long})
	assert.True(t, strings.HasPrefix(id, "sha256:"), id)
	assert.Len(t, id, len("sha256:")+32)
	assert.Equal(t, id, eventID(map[string]any{"messageId": long}))
	a := eventID(map[string]any{"type": "track", "event": "x", "sentAt": "1", "writeKey": "k", "_metadata": map[string]any{"retryCount": 1}})
	b := eventID(map[string]any{"type": "track", "event": "x", "sentAt": "2"})
	c := eventID(map[string]any{"type": "track", "event": "y"})
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}

func TestFirstElement(t *testing.T) {
	for body, want := range map[string]string{
		`[{"a":1},{"b":2}]`:              `{"a":1}`,
		" \n[ {\"a\":\"}]\\\"{\"} , {}]": "{\"a\":\"}]\\\"{\"}",
		`[{"a":[1,{"b":[]}]}]`:           `{"a":[1,{"b":[]}]}`,
		`[{"a":1}`:                       `{"a":1}`,
		`[1,{"a":1}]`:                    "",
		`[]`:                             "",
		`[`:                              "",
		`{"a":1}`:                        "",
		`[{"a":"unterminated}]`:          "",
		``:                               "",
	} {
		got, ok := firstElement([]byte(body))
		assert.Equal(t, want != "", ok, body)
		assert.Equal(t, want, string(got), body)
	}
}

func TestMergeBatchContext(t *testing.T) {
	tb, err := parseTracking([]byte(`{"context":{"locale":"en-GB","ip":"192.0.2.1"},"integrations":{"All":false},"batch":[
		{"type":"track","context":{"locale":"fr-FR"}},
		{"type":"track"},
		{"type":"track","context":"odd"}]}`), "")
	require.NoError(t, err)
	require.NoError(t, tb.invalid)
	assert.Equal(t, map[string]any{"locale": "fr-FR", "ip": "192.0.2.1"}, tb.events[0]["context"])
	assert.Equal(t, map[string]any{"locale": "en-GB", "ip": "192.0.2.1"}, tb.events[1]["context"])
	assert.Equal(t, "odd", tb.events[2]["context"])
	assert.Equal(t, map[string]any{"All": false}, tb.events[1]["integrations"])

	tb, err = parseTracking([]byte(`{"sentAt":"2024-05-02T10:00:01Z","batch":[{"type":"track"},{"type":"track","sentAt":"2024-05-02T10:00:00Z"}]}`), "")
	require.NoError(t, err)
	assert.Equal(t, "2024-05-02T10:00:01Z", tb.events[0]["sentAt"], "the batch's sentAt")
	assert.Equal(t, "2024-05-02T10:00:00Z", tb.events[1]["sentAt"], "the event's own")
}

// TestFirstElementMismatchedBracket: the delimiter refuses brackets that do
// not pair up (`[{]` was a saved fuzz crasher: it returned `{]`), so what
// the signature is checked over is always one well-formed object.
func TestFirstElementMismatchedBracket(t *testing.T) {
	for _, body := range []string{`[{]`, `[{]}`, `[{"a":[}]`, `[{"a":{]}]`, `[{"a":[1}]]`, `[{]]]`} {
		got, ok := firstElement([]byte(body))
		assert.False(t, ok, "%s gave %q", body, got)
	}
	got, ok := firstElement([]byte(`[{"a":[{"b":"]}"}]},{}]`))
	assert.True(t, ok)
	assert.Equal(t, `{"a":[{"b":"]}"}]}`, string(got))
}
