package talkdeskreceiver

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Talkdesk builds notifier and trigger payloads from templates, so every
// value arrives as a string: numbers, booleans and times included, and a
// variable with no value renders as "" (or, in some template engines, as the
// unrendered "{{contact.email}}", "null" or "undefined"). These helpers read
// such values leniently; the record's body keeps them exactly as sent.

// text returns a payload value as trimmed text, and whether it carries a
// value at all. Strings, numbers and booleans count; empty strings,
// unrendered templates and null/undefined placeholders do not.
func text(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		if s == "" || isPlaceholder(s) {
			return "", false
		}
		return s, true
	case json.Number:
		return string(t), true
	case bool:
		return strconv.FormatBool(t), true
	default:
		return "", false
	}
}

func isPlaceholder(s string) bool {
	if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
		return true
	}
	switch strings.ToLower(s) {
	case "null", "undefined", "nil":
		return true
	}
	return false
}

// parseBool reads true/false, yes/no, y/n, on/off, 1/0 in any case.
func parseBool(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	s, ok := text(v)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "on", "1":
		return true, true
	case "false", "f", "no", "n", "off", "0":
		return false, true
	}
	return false, false
}

// timeLayouts are the textual timestamp forms accepted, tried in order.
// Fractional seconds are accepted after the seconds field by every layout.
var timeLayouts = []string{
	time.RFC3339Nano,            // 2016-06-14T16:23:07Z, 2017-08-18T10:29:52.000+00:00
	"2006-01-02T15:04:05Z0700",  // 2016-06-14T16:23:07+0000
	"2006-01-02 15:04:05Z07:00", // 2016-06-14 16:23:07+00:00
	"2006-01-02 15:04:05Z0700",  // 2016-06-14 16:23:07+0000
	"2006-01-02 15:04:05 -0700", // Ruby Time#to_s: 2016-06-14 16:23:07 +0000
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04:05 UTC", // Ruby Time#to_s in UTC
	"2006-01-02T15:04:05 UTC",
	"2006-01-02 15:04:05 GMT",
	time.RFC1123Z, // Mon, 02 Jan 2006 15:04:05 -0700
	"Mon, 02 Jan 2006 15:04:05 GMT",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 15:04:05 UTC 2006",
}

// localLayouts have no zone; Talkdesk's API reports times in UTC, so these
// are read as UTC.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006/01/02 15:04:05",
}

// minTime rejects nonsense such as epoch 0 or year 1.
var minTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// parseTime reads a timestamp: the textual forms above, or epoch seconds,
// milliseconds, microseconds or nanoseconds (told apart by magnitude),
// integer or decimal. Anything else, or a time before 1990, is the zero
// time.
func parseTime(v any) time.Time {
	s, ok := text(v)
	if !ok || len(s) > 64 {
		return time.Time{}
	}
	t := parseTimeText(s)
	if t.Before(minTime) {
		return time.Time{}
	}
	return t.UTC()
}

func parseTimeText(s string) time.Time {
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-/:") {
		return parseEpoch(s)
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}

func parseEpoch(s string) time.Time {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case i < 1e11: // seconds (until the year 5138)
			return time.Unix(i, 0)
		case i < 1e14:
			return time.UnixMilli(i)
		case i < 1e17:
			return time.UnixMicro(i)
		default:
			return time.Unix(0, i)
		}
	}
	// Decimal seconds ("1762179913.25"); no signs, exponents or words.
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || !allDigits(whole) || !allDigits(frac) {
		return time.Time{}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f >= 1e11 {
		return time.Time{}
	}
	sec, fr := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(fr*1e9)))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
