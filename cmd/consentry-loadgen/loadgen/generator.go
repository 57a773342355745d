package loadgen

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/consentry/consentry/internal/subject"
)

// Targets are the base URLs (scheme://host:port) the events go to.
type Targets struct {
	Genesys, Twilio, Segment, Talkdesk string
	// OTLP is a stock OTLP/HTTP receiver; events go to OTLP + "/v1/logs".
	OTLP string
}

// DefaultTargets are config/local.yaml's listeners and the OTLP/HTTP
// default port.
var DefaultTargets = Targets{
	Genesys:  "http://127.0.0.1:7401",
	Twilio:   "http://127.0.0.1:7402",
	Segment:  "http://127.0.0.1:7403",
	Talkdesk: "http://127.0.0.1:7404",
	OTLP:     "http://127.0.0.1:4318",
}

// GenOptions configures what is sent.
type GenOptions struct {
	Secrets Secrets
	Targets Targets
	// TwilioPublicURL is the public_url the twilio receiver verifies
	// signatures against; empty: Targets.Twilio.
	TwilioPublicURL string
	// Vendors weighs the vendors (empty: all four, equally).
	Vendors map[string]float64
	// ForwardFraction is the share of events whose consent evidence makes
	// the example policy forward them; the others are quarantined.
	ForwardFraction float64
	// Subjects is the number of distinct people (phone numbers and e-mail
	// addresses) the events are about.
	Subjects int
	// DuplicateFraction is the share of sends that repeat an earlier event
	// of the same connection byte for byte (a vendor's retry).
	DuplicateFraction float64
	// SegmentRoute is SegmentWebhook (default) or SegmentTracking.
	SegmentRoute string
	// GenesysHeader and TalkdeskHeader name the API key / token headers
	// (config/local.yaml: X-API-Key, X-Consentry-Token).
	GenesysHeader, TalkdeskHeader string
	// OTLP sends every event as an OTLP/JSON logs request (one record, as
	// the receiver would have produced it) to Targets.OTLP instead.
	OTLP bool
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool
	// Seed makes runs repeatable (0: random).
	Seed uint64
}

// Generator renders events; NewSource gives each sending goroutine its own.
type Generator struct {
	opts     GenOptions
	vendors  []string  // with weight > 0
	cum      []float64 // cumulative weights
	kinds    map[string][2]*kind
	otlp     map[*kind]*otlpTemplate
	keyer    *subject.Keyer
	urls     map[string]string // vendor -> base URL
	twPublic string
	otlpURL  string
}

// caAreaCodes are Californian area codes: every subject is a caller in an
// all-party-consent state, so no event's decision depends on which subject
// it is about.
var caAreaCodes = []string{"415", "510", "650", "408", "213", "310", "619", "916"}

// MaxSubjects is the number of distinct phone numbers the generator can make.
const MaxSubjects = 8 * 8 * 1_000_000

// NewGenerator checks opts and compiles the templates.
func NewGenerator(opts GenOptions) (*Generator, error) {
	if opts.ForwardFraction < 0 || opts.ForwardFraction > 1 {
		return nil, fmt.Errorf("forward fraction %v: want 0..1", opts.ForwardFraction)
	}
	if opts.DuplicateFraction < 0 || opts.DuplicateFraction >= 1 {
		return nil, fmt.Errorf("duplicate fraction %v: want 0 or more and less than 1", opts.DuplicateFraction)
	}
	if opts.Subjects < 1 || opts.Subjects > MaxSubjects {
		return nil, fmt.Errorf("subjects %d: want 1..%d", opts.Subjects, MaxSubjects)
	}
	if opts.GenesysHeader == "" {
		opts.GenesysHeader = "X-API-Key"
	}
	if opts.TalkdeskHeader == "" {
		opts.TalkdeskHeader = "X-Consentry-Token"
	}
	g := &Generator{opts: opts, otlp: map[*kind]*otlpTemplate{}}
	weights := opts.Vendors
	if len(weights) == 0 {
		weights = map[string]float64{Genesys: 1, Twilio: 1, Segment: 1, Talkdesk: 1}
	}
	total := 0.0
	for _, v := range AllVendors {
		w, ok := weights[v]
		if !ok || w == 0 {
			continue
		}
		if w < 0 {
			return nil, fmt.Errorf("vendor %s: negative weight %v", v, w)
		}
		total += w
		g.vendors = append(g.vendors, v)
		g.cum = append(g.cum, total)
	}
	for v := range weights {
		if !contains(AllVendors, v) {
			return nil, fmt.Errorf("unknown vendor %q (want %s)", v, strings.Join(AllVendors, ", "))
		}
	}
	if len(g.vendors) == 0 {
		return nil, errors.New("no vendor to send events of")
	}
	for i := range g.cum {
		g.cum[i] /= total
	}
	if err := checkSecrets(opts.Secrets, g.vendors, opts.SegmentRoute, opts.OTLP); err != nil {
		return nil, err
	}
	var err error
	if g.kinds, err = buildKinds(opts.Secrets, opts.SegmentRoute, opts.GenesysHeader, opts.TalkdeskHeader); err != nil {
		return nil, err
	}
	t := opts.Targets
	g.urls = map[string]string{Genesys: t.Genesys, Twilio: t.Twilio, Segment: t.Segment, Talkdesk: t.Talkdesk}
	check := func(name, base string) (string, error) {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("%s target %q: want http(s)://host:port", name, base)
		}
		if !opts.AllowRemote && !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%s target %q is not a loopback address: pass -allow-remote to send signed events to another host", name, base)
		}
		return strings.TrimRight(base, "/"), nil
	}
	if opts.OTLP {
		if g.otlpURL, err = check("otlp", t.OTLP); err != nil {
			return nil, err
		}
		g.otlpURL += "/v1/logs"
		salt := []byte(opts.Secrets.SubjectSalt)
		if len(salt) == 0 {
			salt = []byte("consentry-loadgen-subject-salt")
		}
		if g.keyer, err = subject.NewKeyer(salt); err != nil {
			return nil, fmt.Errorf("subject salt: %w", err)
		}
		for _, v := range g.vendors {
			for _, k := range g.kinds[v] {
				ot, err := buildOTLP(k, opts.Secrets, salt)
				if err != nil {
					return nil, err
				}
				g.otlp[k] = ot
			}
		}
	} else {
		for _, v := range g.vendors {
			if g.urls[v], err = check(v, g.urls[v]); err != nil {
				return nil, err
			}
		}
		g.twPublic = strings.TrimRight(opts.TwilioPublicURL, "/")
		if g.twPublic == "" {
			g.twPublic = g.urls[Twilio]
		}
	}
	return g, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isLoopback accepts localhost and loopback IP addresses.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSecrets names every credential the chosen vendors need and lacks
// (never their values).
func checkSecrets(s Secrets, vendors []string, segmentRoute string, otlp bool) error {
	var missing []string
	need := func(name, val string) {
		if val == "" {
			missing = append(missing, name)
		}
	}
	for _, v := range vendors {
		switch v {
		case Genesys:
			need("CONSENTRY_GENESYS_ORG_ID", s.GenesysOrgID)
			if !otlp {
				need("CONSENTRY_GENESYS_SECRET", s.GenesysAPIKey)
			}
		case Twilio:
			need("CONSENTRY_TWILIO_ACCOUNT_SID", s.TwilioAccountSID)
			if !otlp {
				need("CONSENTRY_TWILIO_AUTH_TOKEN", s.TwilioAuthToken)
			}
		case Segment:
			if !otlp {
				if segmentRoute == SegmentTracking {
					need("CONSENTRY_SEGMENT_WRITE_KEY", s.SegmentWriteKey)
				} else {
					need("CONSENTRY_SEGMENT_SHARED_SECRET", s.SegmentSharedSecret)
				}
			}
		case Talkdesk:
			need("CONSENTRY_TALKDESK_ACCOUNT_ID", s.TalkdeskAccountID)
			if !otlp {
				need("CONSENTRY_TALKDESK_TOKEN", s.TalkdeskToken)
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("missing secrets for the chosen vendors: %s (set them in the environment or in the env file)", strings.Join(missing, ", "))
	}
	return nil
}

// Kinds describes the events the generator sends.
func (g *Generator) Kinds() []KindInfo {
	var out []KindInfo
	for _, v := range g.vendors {
		for _, k := range g.kinds[v] {
			out = append(out, KindInfo{Vendor: k.vendor, Forward: k.forward, Name: k.name, Path: k.path, Route: k.route})
		}
	}
	return out
}

// Request is one HTTP request to send. It is immutable once made (a
// duplicate re-sends the same Request).
type Request struct {
	URL       string
	Header    [][2]string
	Body      []byte
	Vendor    string
	Forward   bool // the example policy forwards the event
	Duplicate bool // a re-send of an earlier request
}

// Source makes the requests of one sending goroutine.
type Source struct {
	g      *Generator
	rng    *rand.Rand
	recent []*Request // ring of recent requests, for duplicates
	next   int
	v      values
	kvs    []formKV
	hdr    map[string]string
}

const recentRing = 256

// NewSource returns the event source of goroutine id.
func (g *Generator) NewSource(id int) *Source {
	seed := g.opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Source{g: g, rng: rand.New(rand.NewPCG(seed, uint64(id)+1)), hdr: map[string]string{}}
}

// Next returns the next request, about an event that happens at now.
func (s *Source) Next(now time.Time) *Request {
	g := s.g
	if g.opts.DuplicateFraction > 0 && len(s.recent) > 0 && s.rng.Float64() < g.opts.DuplicateFraction {
		orig := s.recent[s.rng.IntN(len(s.recent))]
		dup := *orig
		dup.Duplicate = true
		return &dup
	}
	vendor := g.vendors[0]
	if len(g.vendors) > 1 {
		x := s.rng.Float64()
		for i, c := range g.cum {
			if x < c || i == len(g.cum)-1 {
				vendor = g.vendors[i]
				break
			}
		}
	}
	fwd := s.rng.Float64() < g.opts.ForwardFraction
	k := g.kinds[vendor][1]
	if fwd {
		k = g.kinds[vendor][0]
	}
	s.fill(now)
	var r *Request
	if g.opts.OTLP {
		r = s.otlpRequest(k)
	} else {
		r = s.vendorRequest(k)
	}
	r.Vendor, r.Forward = vendor, fwd
	if g.opts.DuplicateFraction > 0 {
		if len(s.recent) < recentRing {
			s.recent = append(s.recent, r)
		} else {
			s.recent[s.next] = r
			s.next = (s.next + 1) % recentRing
		}
	}
	return r
}

// fill draws the event's ids and subject.
func (s *Source) fill(now time.Time) {
	s.v[slotEventID] = s.uuid()
	s.v[slotConvID] = s.uuid()
	var b [16]byte
	putU64(b[:8], s.rng.Uint64())
	putU64(b[8:], s.rng.Uint64())
	s.v[slotSID] = hex.EncodeToString(b[:])
	idx := s.rng.IntN(s.g.opts.Subjects)
	s.v[slotPhone], s.v[slotEmail] = SubjectPhone(idx), SubjectEmail(idx)
	s.v.setTime(now)
}

// SubjectPhone is subject idx's phone number: a Californian NANP number.
func SubjectPhone(idx int) string {
	area := caAreaCodes[idx%len(caAreaCodes)]
	local := idx / len(caAreaCodes)
	first := 2 + (local/1_000_000)%8
	return "+1" + area + strconv.Itoa(first) + fmt.Sprintf("%06d", local%1_000_000)
}

// SubjectEmail is subject idx's e-mail address.
func SubjectEmail(idx int) string { return "caller" + strconv.Itoa(idx) + "@example.com" }

func putU64(b []byte, x uint64) {
	for i := range 8 {
		b[i] = byte(x >> (8 * i))
	}
}

// uuid returns a random (version 4) UUID.
func (s *Source) uuid() string {
	var b [16]byte
	putU64(b[:8], s.rng.Uint64())
	putU64(b[8:], s.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

func (s *Source) vendorRequest(k *kind) *Request {
	base := s.g.urls[k.vendor]
	r := &Request{URL: base + k.path}
	clear(s.hdr)
	if k.form != nil {
		var body []byte
		s.kvs, body = renderForm(k, &s.v, s.kvs, make([]byte, 0, 1024))
		r.Body = body
		k.sign(s.hdr, s.g.twPublic+k.path, body, s.kvs)
	} else {
		r.Body = k.body.render(make([]byte, 0, k.body.size+512), &s.v)
		k.sign(s.hdr, "", r.Body, nil)
	}
	r.Header = make([][2]string, 0, len(s.hdr)+1)
	r.Header = append(r.Header, [2]string{"Content-Type", k.ctype})
	for h, v := range s.hdr {
		r.Header = append(r.Header, [2]string{h, v})
	}
	return r
}

func (s *Source) otlpRequest(k *kind) *Request {
	ot := s.g.otlp[k]
	if ot.subjectTyp != "" {
		key, _, err := s.g.keyer.KeyRaw(subject.IDType(ot.subjectTyp), s.v[ot.subjectRaw])
		if err != nil {
			key = ""
		}
		s.v[slotSubjectKey] = key
	}
	return &Request{
		URL:    s.g.otlpURL,
		Header: [][2]string{{"Content-Type", "application/json"}},
		Body:   ot.doc.render(make([]byte, 0, ot.doc.size+512), &s.v),
	}
}
