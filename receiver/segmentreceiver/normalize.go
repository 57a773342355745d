package segmentreceiver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/subject"
	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

const (
	// unknownTenant is the tenant of events that arrive unauthenticated
	// (only with insecure_allow_unauthenticated).
	unknownTenant = "unknown"

	// EventConsentPreferenceUpdated is the reserved track event Segment's
	// consent wrappers send whenever a person's category preferences change.
	EventConsentPreferenceUpdated = "Segment Consent Preference Updated"

	// maxMessageIDLen is Segment's documented limit on messageId; longer ids
	// are hashed, so that a client cannot make every record (and the
	// ledger's index) carry a huge ccaas.event.id.
	maxMessageIDLen = 100
	// maxCategories bounds the consent categories copied to attributes per
	// event (Segment categories are a handful; the body keeps them all).
	maxCategories = 64
	// maxConsentStringLen bounds a TCF or GPP string copied to an attribute.
	maxConsentStringLen = 16 << 10
)

// normalizer turns Segment events into records.
type normalizer struct {
	keyers    *subject.Keyers
	insecure  bool
	version   string
	tcfFields [][]string
	gppFields [][]string
	uspFields [][]string
}

// requestInfo is what the records of one request share.
type requestInfo struct {
	tenant   string // "" = unauthenticated (insecure mode)
	route    string
	gpc      bool      // the request carried Sec-GPC: 1
	received time.Time // ObservedTimestamp, and receivedAt as Segment stamps it
	stamped  string    // received as Segment writes it, made once per request
}

// tracking reports whether the request came to the Tracking API, where this
// receiver stands in for api.segment.io and stamps what Segment's servers
// stamp; webhook deliveries come from Segment and carry its stamps.
func (ri *requestInfo) tracking() bool { return ri.route != routeWebhook }

func (n *normalizer) keyer(tenant string) *subject.Keyer {
	return n.keyers.Resolve(tenant, n.insecure)
}

// records builds one record per event. typ is the type the route implies
// ("" = read it from each event).
func (n *normalizer) records(events []map[string]any, typ string, ri *requestInfo) (plog.Logs, error) {
	tenant := ri.tenant
	if tenant == "" {
		tenant = unknownTenant
	}
	b := ccaas.NewBatch(ccaas.VendorSegment, metadata.ScopeName, n.version)
	keyer := n.keyer(tenant)
	for _, ev := range events {
		t := typ
		if t == "" {
			t = ccaas.Str(ev, "type")
		}
		id := eventID(ev) // of the event as the client sent it: a retry has the same
		stamp(ev, ri)
		lr := b.Record(tenant)
		ccaas.PutMap(lr.Body().SetEmptyMap(), ev)
		n.normalise(lr, keyer, ev, id, t, ri)
	}
	return b.Logs(), nil
}

// normalise sets the event name, timestamps and ccaas.* attributes of one
// record.
func (n *normalizer) normalise(lr plog.LogRecord, keyer *subject.Keyer, ev map[string]any, id, typ string, ri *requestInfo) {
	attrs := lr.Attributes()
	attrs.PutStr(ccaas.AttrEventID, id)
	ccaas.PutStr(attrs, ccaas.AttrEventType, typ)
	attrs.PutStr(ccaas.AttrEventRoute, ri.route)

	switch typ {
	case typeDelete:
		lr.SetEventName(ccaas.EventErasureRequested)
		attrs.PutBool(ccaas.AttrErasureRequested, true)
	case typeTrack:
		if ccaas.Str(ev, "event") == EventConsentPreferenceUpdated {
			lr.SetEventName(ccaas.EventConsentUpdated)
		} else {
			lr.SetEventName(ccaas.EventAnalyticsTrack)
		}
	case typeIdentify, typePage, typeScreen, typeGroup, typeAlias:
		lr.SetEventName(ccaas.EventAnalyticsTrack)
	default:
		lr.SetEventName(ccaas.EventVendor)
	}

	ccaas.PutStr(attrs, ccaas.AttrChannel, channel(ev, typ))
	setSubject(attrs, keyer, ev)
	n.consent(attrs, ev, ri.gpc)
	setJurisdiction(attrs, ev, typ)
	ccaas.SetTimestamps(lr, occurred(ev), ri.received)
}

// eventID is the de-duplication key: messageId (Segment's own dedupe key),
// hashed when longer than Segment allows, or a key derived from the event's
// content when it has none.
func eventID(ev map[string]any) string {
	id := ccaas.Str(ev, "messageId")
	switch {
	case id == "":
		return ccaas.DerivedID("", ev, retryVarying...)
	case len(id) > maxMessageIDLen:
		sum := sha256.Sum256([]byte(id))
		return "sha256:" + hex.EncodeToString(sum[:16])
	default:
		return id
	}
}

// retryVarying lists the fields a client changes when it retries an event;
// they are left out of derived ids.
var retryVarying = []string{"sentAt", "receivedAt", "writeKey", "_metadata"}

// mobileLibraries are Segment's mobile SDKs, by context.library.name.
var mobileLibraries = map[string]bool{
	"analytics-ios": true, "analytics-android": true, "analytics-swift": true, "analytics-kotlin": true,
	"analytics-react-native": true, "analytics-flutter": true, "analytics-xamarin": true,
}

// channel maps Segment's channel (context.channel or the top-level field:
// server, browser, mobile, client) to ccaas.channel. Without a decisive
// value, page events are web and screen events app, and otherwise the
// context tells: an app or device object means an app, a page object the
// web.
func channel(ev map[string]any, typ string) string {
	ch := ccaas.Str(ev, "context", "channel")
	if ch == "" {
		ch = ccaas.Str(ev, "channel")
	}
	switch ccaas.Lower(ch) {
	case "browser":
		return "web"
	case "mobile":
		return "app"
	case "server":
		// Segment's classic mobile libraries' events arrive as "server"
		// (a captured analytics-ios delivery, testdata/fixtures/SOURCES.md):
		// their library says they come from an app.
		if mobileLibraries[ccaas.Str(ev, "context", "library", "name")] {
			return "app"
		}
		return "server"
	}
	switch {
	case typ == typePage:
		return "web"
	case typ == typeScreen:
		return "app"
	case ccaas.Obj(ev, "context", "app") != nil || ccaas.Obj(ev, "context", "device") != nil:
		return "app"
	case ccaas.Obj(ev, "context", "page") != nil:
		return "web"
	}
	return ""
}

// setSubject keys the person the event is about. userId is the stable
// identifier Segment sources attach to every event of a known user, so it
// is the key whenever present: an address-shaped userId as an e-mail, any
// other as an opaque id. traits.email and traits.phone are not used, because
// they travel on identify calls but not on the track and page events that
// follow, and one person must keep one key. Without a userId, anonymousId
// (the device or browser) is the opaque fallback.
func setSubject(attrs pcommon.Map, keyer *subject.Keyer, ev map[string]any) {
	if uid := ccaas.Str(ev, "userId"); strings.TrimSpace(uid) != "" {
		if looksLikeEmail(uid) && ccaas.SetSubject(attrs, keyer, subject.IDTypeEmail, uid) {
			return
		}
		if ccaas.SetSubject(attrs, keyer, subject.IDTypeOpaque, uid) {
			return
		}
	}
	ccaas.SetSubject(attrs, keyer, subject.IDTypeOpaque, ccaas.Str(ev, "anonymousId"))
}

func looksLikeEmail(s string) bool {
	i := strings.LastIndexByte(s, '@')
	return i > 0 && strings.Contains(s[i+1:], ".")
}

// consent copies the in-event consent signals.
func (n *normalizer) consent(attrs pcommon.Map, ev map[string]any, gpc bool) {
	prefsV := ccaas.Get(ev, "context", "consent", "categoryPreferences")
	if prefsV != nil {
		if _, ok := prefsV.(map[string]any); !ok {
			ccaas.MarkUnreadable(attrs, "categories")
		}
	}
	if prefs, ok := prefsV.(map[string]any); ok {
		// Present, even empty: Segment treats every category missing from a
		// present object (all of them, when it is empty) as not consented.
		attrs.PutBool(ccaas.AttrConsentCategoriesPresent, true)
		if len(prefs) <= maxCategories {
			for id, v := range prefs {
				putCategory(attrs, id, v)
			}
		} else {
			ids := slices.Sorted(maps.Keys(prefs))
			for _, id := range ids[:maxCategories] {
				putCategory(attrs, id, prefs[id])
			}
		}
	}
	for _, c := range [...]struct {
		name, attr string
		paths      [][]string
	}{{"tcf", ccaas.AttrConsentTCF, n.tcfFields}, {"gpp", ccaas.AttrConsentGPP, n.gppFields}, {"usp", ccaas.AttrConsentUSP, n.uspFields}} {
		s, unreadable := firstString(ev, c.paths)
		switch {
		case unreadable:
			// A value that is not a string, or too long to copy: a signal
			// Consentry cannot read is never read as absent.
			ccaas.MarkUnreadable(attrs, c.name)
		case s != "":
			attrs.PutStr(c.attr, s)
		}
	}
	if gpc {
		attrs.PutBool(ccaas.AttrConsentGPC, true)
	}
}

// putCategory writes one category preference: a boolean, or the strings
// "true" and "false", as a boolean; any other scalar as a string, which the
// consent processor reads as malformed (a consent it cannot read is not a
// refusal); an object, a list or null as unreadable.
func putCategory(attrs pcommon.Map, id string, v any) {
	if id == "" {
		return
	}
	switch t := v.(type) {
	case bool:
		attrs.PutBool(ccaas.AttrConsentCategoryPrefix+id, t)
	case string:
		if b, err := strconv.ParseBool(t); err == nil && (strings.EqualFold(t, "true") || strings.EqualFold(t, "false")) {
			attrs.PutBool(ccaas.AttrConsentCategoryPrefix+id, b)
		} else {
			attrs.PutStr(ccaas.AttrConsentCategoryPrefix+id, t)
		}
	case json.Number:
		attrs.PutStr(ccaas.AttrConsentCategoryPrefix+id, string(t))
	default:
		ccaas.MarkUnreadable(attrs, "category:"+id)
	}
}

// firstString returns the first non-empty string found at one of paths,
// or reports that the first value found there cannot be read: not a string,
// or longer than maxConsentStringLen.
func firstString(ev map[string]any, paths [][]string) (string, bool) {
	for _, p := range paths {
		v := ccaas.Get(ev, p...)
		switch t := v.(type) {
		case nil:
			continue
		case string:
			s := strings.TrimSpace(t)
			if s == "" {
				continue
			}
			if len(s) > maxConsentStringLen {
				return "", true
			}
			return s, false
		default:
			return "", true
		}
	}
	return "", false
}

// segmentTime is how Segment writes its timestamps: UTC, milliseconds.
const segmentTime = "2006-01-02T15:04:05.000Z"

// stamp adds the timestamps Segment's API adds to every event it receives,
// so that a record's body is the event as Segment would deliver it:
//
//   - receivedAt, the receive time on the server's clock. The Tracking API
//     always sets it (a client's own value is replaced, as Segment does); a
//     webhook delivery keeps Segment's and gets ours only when it has none
//     (an Actions mapping that left it out).
//   - on the Tracking API, when the client said when it sent the event
//     (sentAt), the client's timestamp becomes originalTimestamp and
//     timestamp is corrected for the client clock's skew:
//     receivedAt - (sentAt - originalTimestamp). Without sentAt the client's
//     timestamp stands as given (a historical import).
//
// writeKey is removed: it is a credential and records leave the receiver.
func stamp(ev map[string]any, ri *requestInfo) {
	delete(ev, "writeKey")
	if ri.received.IsZero() {
		return
	}
	received := ri.received.UTC()
	if ri.stamped == "" {
		ri.stamped = received.Format(segmentTime)
	}
	if !ri.tracking() {
		if _, ok := ev["receivedAt"]; !ok {
			ev["receivedAt"] = ri.stamped
		}
		return
	}
	ev["receivedAt"] = ri.stamped
	sent := parseTime(ev["sentAt"])
	if sent.IsZero() {
		return
	}
	orig := parseTime(ev["originalTimestamp"])
	if orig.IsZero() {
		orig = parseTime(ev["timestamp"])
		if orig.IsZero() {
			return
		}
		ev["originalTimestamp"] = ev["timestamp"]
	}
	ev["timestamp"] = received.Add(-sent.Sub(orig)).Format(segmentTime)
}

// occurred is when the event happened, by Segment's chain of timestamps:
// timestamp (Segment's skew-corrected time, or the client's own for a
// historical import); else originalTimestamp, corrected for the client
// clock's skew when sentAt and receivedAt tell it; else sentAt; else
// receivedAt (Segment's receive time, or ours).
func occurred(ev map[string]any) time.Time {
	if t := parseTime(ev["timestamp"]); !t.IsZero() {
		return t
	}
	sent, received := parseTime(ev["sentAt"]), parseTime(ev["receivedAt"])
	if orig := parseTime(ev["originalTimestamp"]); !orig.IsZero() {
		if !sent.IsZero() && !received.IsZero() {
			return received.Add(-sent.Sub(orig)).UTC()
		}
		return orig
	}
	if !sent.IsZero() {
		return sent
	}
	return received
}

// parseTime reads an ISO 8601 timestamp as Segment's libraries write them.
func parseTime(v any) time.Time {
	s, ok := v.(string)
	if !ok || s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
