package talkdeskreceiver

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestText(t *testing.T) {
	for in, want := range map[any]string{
		"  x ":              "x",
		"":                  "",
		"   ":               "",
		"{{contact.email}}": "",
		"{{ call_id }}":     "",
		"null":              "",
		"Undefined":         "",
		"nil":               "",
		"{not a template":   "{not a template",
		"none":              "none",
		json.Number("42"):   "42",
		true:                "true",
		3.5:                 "", // only what JSON decoding with UseNumber yields
	} {
		got, ok := text(in)
		assert.Equal(t, want, got, "%#v", in)
		assert.Equal(t, want != "", ok, "%#v", in)
	}
	_, ok := text(map[string]any{})
	assert.False(t, ok)
}

func TestParseBool(t *testing.T) {
	for in, want := range map[any]bool{
		"true": true, "TRUE": true, " True ": true, "t": true, "yes": true, "Y": true, "on": true, "1": true,
		"false": false, "False": false, "f": false, "no": false, "N": false, "off": false, "0": false,
		true: true, false: false, json.Number("1"): true, json.Number("0"): false,
	} {
		got, ok := parseBool(in)
		assert.True(t, ok, "%#v", in)
		assert.Equal(t, want, got, "%#v", in)
	}
	for _, in := range []any{"", "maybe", "2", "{{is_transfer}}", nil, json.Number("2")} {
		_, ok := parseBool(in)
		assert.False(t, ok, "%#v", in)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2025, 11, 3, 14, 25, 13, 0, time.UTC)
	for _, in := range []any{
		"2025-11-03T14:25:13Z",
		"2025-11-03T14:25:13.000+00:00",
		"2025-11-03T15:25:13+01:00",
		"2025-11-03T14:25:13+0000",
		"2025-11-03T14:25:13",
		"2025-11-03 14:25:13",
		"2025-11-03 14:25:13 UTC",
		"2025-11-03 14:25:13 +0000",
		"2025-11-03 09:25:13 -05:00",
		"2025-11-03 14:25:13+00:00",
		"2025/11/03 14:25:13",
		"Mon, 03 Nov 2025 14:25:13 GMT",
		"Mon, 03 Nov 2025 14:25:13 +0000",
		"Mon Nov 3 14:25:13 UTC 2025",
		"1762179913",
		"1762179913000",
		"1762179913000000",
		"1762179913000000000",
		"1762179913.0",
		json.Number("1762179913"),
		" 1762179913000 ",
	} {
		assert.Equal(t, want, parseTime(in), "%#v", in)
	}
	assert.Equal(t, time.Date(2025, 11, 3, 14, 25, 13, 250_000_000, time.UTC), parseTime("2025-11-03 14:25:13.25 UTC"))
	assert.Equal(t, time.Date(2025, 11, 3, 14, 25, 13, 500_000_000, time.UTC), parseTime("1762179913.5"))
	for _, in := range []any{
		"", "{{timestamp}}", "yesterday", "0", "-1", "12", "1e9", "NaN", "Inf", "2025-13-45 99:99:99",
		"1989-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1762179913.5.1", true, nil,
		"2025-11-03 14:25:13 PST", // a zone abbreviation Go cannot resolve reliably
	} {
		assert.True(t, parseTime(in).IsZero(), "%#v", in)
	}
}

func TestTriggerKey(t *testing.T) {
	for _, name := range []string{"inboundCallEnds", "inbound_call_ends", "inbound-call-ends", "INBOUND CALL ENDS", "Inbound.Call.Ends"} {
		tr, ok := lookupTrigger(name)
		assert.True(t, ok, name)
		assert.Equal(t, "inboundCallEnds", tr.name)
	}
	_, ok := lookupTrigger("---")
	assert.False(t, ok)
	tr, ok := lookupTrigger("app.credentials_rotated")
	assert.True(t, ok)
	assert.Equal(t, "app.credentials_rotated", tr.name)
}
