package loadgen

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// slot is a per-event value a template refers to as {{name}}.
type slot uint8

const (
	slotEventID      slot = iota // random UUID: the vendor's event / message id
	slotConvID                   // random UUID: conversation / interaction id
	slotSID                      // 32 random hex digits (Twilio Call/Recording SIDs, Talkdesk call ids)
	slotPhone                    // the subject's E.164 phone number
	slotEmail                    // the subject's e-mail address
	slotTimeISOms                // 2025-12-12T15:02:30.395Z
	slotTimeISO                  // 2025-12-12T15:02:30Z
	slotTimeMs                   // Unix milliseconds
	slotTimeRFC1123              // Tue, 04 Mar 2025 17:02:11 +0000 (Twilio)
	slotTimeTalkdesk             // 2025-11-03 14:25:13 UTC
	slotTimeNanos                // Unix nanoseconds (OTLP only)
	slotSubjectKey               // the receiver's keyed subject hash (OTLP only)
	numSlots
)

var slotNames = map[string]slot{
	"event_id": slotEventID, "conv_id": slotConvID, "sid": slotSID, "phone": slotPhone,
	"email": slotEmail, "time_iso_ms": slotTimeISOms, "time_iso": slotTimeISO, "time_ms": slotTimeMs,
	"time_rfc1123": slotTimeRFC1123, "time_talkdesk": slotTimeTalkdesk,
}

// values holds one event's slot values.
type values [numSlots]string

// setTime fills the time slots from t.
func (v *values) setTime(t time.Time) {
	t = t.UTC()
	v[slotTimeISOms] = t.Format("2006-01-02T15:04:05.000Z")
	v[slotTimeISO] = t.Format("2006-01-02T15:04:05Z")
	v[slotTimeMs] = strconv.FormatInt(t.UnixMilli(), 10)
	v[slotTimeRFC1123] = t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	v[slotTimeTalkdesk] = t.Format("2006-01-02 15:04:05 UTC")
	v[slotTimeNanos] = strconv.FormatInt(t.UnixNano(), 10)
}

// template is a body with slots: literal parts and, between them, the slot
// whose value goes there.
type template struct {
	lits  []string // len(slots)+1
	slots []slot
	size  int // bytes of literals, for pre-sizing
}

// parseTemplate compiles text with {{name}} slots; fixed holds values that
// are the same for every event of a run (tenant ids), substituted now.
func parseTemplate(text string, fixed map[string]string) (*template, error) {
	t := &template{}
	var lit strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			lit.WriteString(text)
			break
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unterminated {{ in template at %q", text[i:min(len(text), i+20)])
		}
		name := text[i+2 : i+j]
		lit.WriteString(text[:i])
		text = text[i+j+2:]
		if v, ok := fixed[name]; ok {
			lit.WriteString(v)
			continue
		}
		s, ok := slotNames[name]
		if !ok {
			return nil, fmt.Errorf("unknown template slot {{%s}}", name)
		}
		t.lits = append(t.lits, lit.String())
		t.slots = append(t.slots, s)
		lit.Reset()
	}
	t.lits = append(t.lits, lit.String())
	for _, l := range t.lits {
		t.size += len(l)
	}
	return t, nil
}

// render appends the template with v's values to dst.
func (t *template) render(dst []byte, v *values) []byte {
	dst = append(dst, t.lits[0]...)
	for i, s := range t.slots {
		dst = append(dst, v[s]...)
		dst = append(dst, t.lits[i+1]...)
	}
	return dst
}

// templateFromSentinels turns a rendered document back into a template:
// every occurrence of a sentinel value becomes its slot. At each position
// the longest sentinel wins, so values that are prefixes of others (Unix
// milliseconds of Unix nanoseconds) are told apart.
func templateFromSentinels(doc string, sentinels map[slot]string) *template {
	type pair struct {
		val string
		s   slot
	}
	var ps []pair
	for s, v := range sentinels {
		if v != "" {
			ps = append(ps, pair{v, s})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return len(ps[i].val) > len(ps[j].val) })
	t := &template{}
	var lit strings.Builder
	for i := 0; i < len(doc); {
		matched := false
		for _, p := range ps {
			if strings.HasPrefix(doc[i:], p.val) {
				t.lits = append(t.lits, lit.String())
				t.slots = append(t.slots, p.s)
				lit.Reset()
				i += len(p.val)
				matched = true
				break
			}
		}
		if !matched {
			lit.WriteByte(doc[i])
			i++
		}
	}
	t.lits = append(t.lits, lit.String())
	for _, l := range t.lits {
		t.size += len(l)
	}
	return t
}

// uses reports whether the template refers to slot s.
func (t *template) uses(s slot) bool {
	for _, x := range t.slots {
		if x == s {
			return true
		}
	}
	return false
}
