package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/consentry/consentry/internal/ccaas"
)

// Policy is a compiled, validated consent policy. It is immutable and safe
// for concurrent use; Evaluate is its decision function.
type Policy struct {
	cfg      Config // normalised: defaults applied, sets sorted
	hash     string
	warnings []string

	processors []*processor
	procByID   map[string]*processor
	tenants    map[tenantKey]*tenant
	uses       map[string]bool // every valid data use
	useList    []string        // the same, sorted (for suggestions)

	purposes purposeTable

	recording     []string
	allParty      map[string]bool
	allPartyCalls map[string]bool
	// regionCountries are the countries with all-party regions: a customer
	// known only by such a country counts as unknown.
	regionCountries map[string]bool
	callChannels    map[string]bool
	unknownAllParty bool

	sources       map[string]*source
	tcfEnabled    bool
	tcfPurposes   [25][]string
	gpc, gpp      bool
	optOutUses    []string
	consentEvents map[string]bool

	plansMu sync.RWMutex
	plans   map[planKey]*plan
}

type tenantKey struct{ vendor, id string }

type prefixPurposes struct {
	prefix   string // including the trailing '.'
	purposes []string
}

// purposeTable maps event names to data uses: exact names, prefixes
// ("ccaas.analytics.*") and "*"; the most specific key wins.
type purposeTable struct {
	exact  map[string][]string
	prefix []prefixPurposes // longest prefix first
	any    []string
}

type processor struct {
	id, name, role    string
	secondary         []string
	secondaryPurposes []string
	thirdParty        bool
	tcfVendor         int
	vendors           []string
	tenants           []string
	events            []string
}

type tenant struct {
	vendor, id, name string
	sensitive        bool
	scope            string
	jurisdictions    []string
	contract         []string
	noticeID         string
	disclosed        map[string]bool
	played           map[string]*playedNotice
	purposes         *purposeTable // the tenant's own purposes, before the policy's; nil if none
}

type playedNotice struct {
	id         string
	purposes   []string
	processors []string
	cite       string
}

type source struct {
	signals      []*signal
	custom       []*signal // signals whose attribute is not ccaas.consent.signal.*
	byAttr       map[string]*signal
	categories   map[string][]string
	categoryList []*category
}

type signal struct {
	name, attr      string
	purposes        []string
	processors      []string
	subjectScope    bool
	granted, denied map[string]bool
	// Evidence strings, precomputed.
	citeGranted, citeDenied, citeMalformed string
}

type category struct {
	id, attr                                       string
	uses                                           []string
	citeTrue, citeFalse, citeAbsent, citeMalformed string
}

// Hash is the policy hash written to consent.policy.hash: "sha256:" and the
// first 16 bytes, in hex, of the SHA-256 of the normalised policy (defaults
// applied, lists sorted), so it changes when and only when the decisions
// can change.
func (p *Policy) Hash() string { return p.hash }

// Warnings are findings that do not make the policy invalid (an event name
// no receiver produces, a notice naming a processor that never touches the
// tenant's events). `consentry policy check --strict` fails on them.
func (p *Policy) Warnings() []string { return p.warnings }

// Config returns the normalised configuration the policy was compiled from.
func (p *Policy) Config() Config { return p.cfg }

// Stats summarise the policy for people.
type Stats struct{ Processors, Tenants, EventPurposes, ConsentSources int }

// Stats returns counts of what the policy defines.
func (p *Policy) Stats() Stats {
	return Stats{len(p.processors), len(p.tenants), len(p.cfg.Purposes), len(p.cfg.ConsentSources)}
}

var (
	idPattern           = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	jurisdictionPattern = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	usePattern          = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)
	signalNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// KnownVendors are the ccaas.vendor values Consentry's receivers write.
var KnownVendors = []string{ccaas.VendorGenesys, ccaas.VendorSegment, ccaas.VendorTalkdesk, ccaas.VendorTwilio}

// KnownEvents are the normalised event names the receivers write.
var KnownEvents = []string{
	ccaas.EventInteractionStarted, ccaas.EventInteractionEnded, ccaas.EventInteractionSnapshot,
	ccaas.EventInteractionAttributes, ccaas.EventInteractionWrapup, ccaas.EventAgentSegmentStarted,
	ccaas.EventAgentSegmentEnded, ccaas.EventQueueEntered, ccaas.EventQueueExited, ccaas.EventFlowStarted,
	ccaas.EventFlowEnded, ccaas.EventFlowOutcome, ccaas.EventVoicemailStarted, ccaas.EventVoicemailEnded,
	ccaas.EventOutboundInitiated, ccaas.EventContactUpdated, ccaas.EventRecordingAvailable,
	ccaas.EventRecordingUpdated, ccaas.EventTranscriptSegment, ccaas.EventAnalyticsSentiment,
	ccaas.EventAnalyticsInsight, ccaas.EventMessageReceived, ccaas.EventMessageSent, ccaas.EventMessageReceipt,
	ccaas.EventTaskCreated, ccaas.EventAnalyticsTrack, ccaas.EventConsentUpdated, ccaas.EventErasureRequested,
	ccaas.EventVendor, ccaas.EventAgentLoggedIn, ccaas.EventAgentLoggedOut, ccaas.EventAgentStatusChanged,
	ccaas.EventParticipantJoined, ccaas.EventParticipantLeft, ccaas.EventParticipantUpdated,
}

// validator collects errors and warnings with their paths, up to
// maxProblems of each.
type validator struct {
	errs, warns         []string
	moreErrs, moreWarns int
}

const maxProblems = 100

func (v *validator) full() bool { return len(v.errs) >= maxProblems }

func (v *validator) errf(path, format string, args ...any) {
	if v.full() {
		v.moreErrs++
		return
	}
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

func (v *validator) warnf(path, format string, args ...any) {
	if len(v.warns) >= maxProblems {
		v.moreWarns++
		return
	}
	v.warns = append(v.warns, path+": "+fmt.Sprintf(format, args...))
}

// ValidationError lists every problem found in a policy.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid consent policy: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid consent policy (%d problems):\n  - %s", len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// Compile validates cfg and compiles it. cfg itself is not modified. The
// error, if any, is a *ValidationError listing every problem with its path.
func Compile(cfg *Config) (*Policy, error) {
	if cfg == nil {
		return nil, &ValidationError{Problems: []string{"no policy"}}
	}
	c, err := clone(cfg)
	if err != nil {
		return nil, err
	}
	c.ApplyDefaults()
	normalise(&c)
	p := &Policy{
		cfg:      c,
		procByID: map[string]*processor{},
		tenants:  map[tenantKey]*tenant{},
		uses:     map[string]bool{},
		plans:    map[planKey]*plan{},
	}
	v := &validator{}
	p.compileUses(v)
	p.compileProcessors(v)
	p.compileTenants(v)
	p.compilePurposes(v)
	p.compileJurisdiction(v)
	p.compileSources(v)
	p.crossChecks(v)
	if len(v.errs) > 0 {
		if v.moreErrs > 0 {
			v.errs = append(v.errs, fmt.Sprintf("... and %d more problems", v.moreErrs))
		}
		return nil, &ValidationError{Problems: v.errs}
	}
	if v.moreWarns > 0 {
		v.warns = append(v.warns, fmt.Sprintf("... and %d more warnings", v.moreWarns))
	}
	p.warnings = v.warns
	canon, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	p.hash = "sha256:" + hex.EncodeToString(sum[:16])
	return p, nil
}

func clone(cfg *Config) (Config, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return Config{}, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// normalise sorts every list whose order does not matter and trims values,
// so that equivalent policies hash alike.
func normalise(c *Config) {
	set := func(s []string) []string {
		for i := range s {
			s[i] = strings.TrimSpace(s[i])
		}
		sort.Strings(s)
		if s = slices.Compact(s); len(s) == 0 {
			return nil
		}
		return s
	}
	lowerSet := func(s []string) []string {
		for i := range s {
			s[i] = strings.ToLower(s[i])
		}
		return set(s)
	}
	for i := range c.Processors {
		pr := &c.Processors[i]
		pr.ID = strings.TrimSpace(pr.ID)
		pr.SecondaryUses = set(pr.SecondaryUses)
		pr.Touches.Vendors = set(pr.Touches.Vendors)
		pr.Touches.Tenants = set(pr.Touches.Tenants)
		pr.Touches.Events = set(pr.Touches.Events)
	}
	sort.SliceStable(c.Processors, func(i, j int) bool { return c.Processors[i].ID < c.Processors[j].ID })
	for i := range c.Tenants {
		t := &c.Tenants[i]
		t.Vendor, t.ID = strings.TrimSpace(t.Vendor), strings.TrimSpace(t.ID)
		t.Jurisdictions = set(t.Jurisdictions)
		t.ContractPurposes = set(t.ContractPurposes)
		for k, v := range t.Purposes {
			t.Purposes[k] = set(v)
		}
		t.Notice.Processors = set(t.Notice.Processors)
		for j := range t.PlayedNotices {
			t.PlayedNotices[j].Purposes = set(t.PlayedNotices[j].Purposes)
			t.PlayedNotices[j].Processors = set(t.PlayedNotices[j].Processors)
		}
		sort.SliceStable(t.PlayedNotices, func(a, b int) bool { return t.PlayedNotices[a].ID < t.PlayedNotices[b].ID })
	}
	sort.SliceStable(c.Tenants, func(i, j int) bool {
		a, b := c.Tenants[i], c.Tenants[j]
		return a.Vendor < b.Vendor || a.Vendor == b.Vendor && a.ID < b.ID
	})
	for k, v := range c.Purposes {
		c.Purposes[k] = set(v)
	}
	c.CustomPurposes = set(c.CustomPurposes)
	j := &c.Jurisdiction
	j.AllParty, j.AllPartyCalls = set(j.AllParty), set(j.AllPartyCalls)
	j.CallChannels, j.RecordingPurposes = lowerSet(j.CallChannels), set(j.RecordingPurposes)
	for vendor, src := range c.ConsentSources {
		for name, s := range src.Signals {
			s.Purposes, s.Processors = set(s.Purposes), set(s.Processors)
			s.Granted, s.Denied = lowerSet(s.Granted), lowerSet(s.Denied)
			src.Signals[name] = s
		}
		for id, uses := range src.Categories {
			src.Categories[id] = set(uses)
		}
		c.ConsentSources[vendor] = src
	}
	for k, v := range c.TCF.Purposes {
		c.TCF.Purposes[k] = set(v)
	}
	c.OptOut.Purposes = set(c.OptOut.Purposes)
	c.ConsentEvents = set(c.ConsentEvents)
}

func (p *Policy) compileUses(v *validator) {
	for u := range builtinUses {
		p.uses[u] = true
	}
	defer func() { p.useList = sortedKeys(p.uses) }()
	for i, u := range p.cfg.CustomPurposes {
		path := fmt.Sprintf("custom_purposes[%d]", i)
		switch {
		case !usePattern.MatchString(u):
			v.errf(path, "%q is not a data use (lower-case words joined by dots)", u)
		case builtinUses[u]:
			v.warnf(path, "%q is already a known data use", u)
		case parentUse(u) == "" || !builtinUses[parentUse(u)] && !slices.Contains(p.cfg.CustomPurposes, parentUse(u)):
			v.errf(path, "%q must extend a known data use (its parent %q is unknown)", u, parentUse(u))
		default:
			p.uses[u] = true
		}
	}
}

// checkUses validates a list of data uses.
func (p *Policy) checkUses(v *validator, path string, uses []string) {
	for i, u := range uses {
		if p.uses[u] {
			continue
		}
		if v.full() {
			v.moreErrs++
			continue
		}
		msg := fmt.Sprintf("unknown data use %q", u)
		if s := suggest(u, p.useList); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; use the fideslang vocabulary or declare it in custom_purposes"
		v.errf(fmt.Sprintf("%s[%d]", path, i), "%s", msg)
	}
}

func checkEventPattern(v *validator, path, pat string) {
	switch {
	case pat == "":
		v.errf(path, "empty event name")
	case pat == "*":
	case strings.Count(pat, "*") > 1 || strings.Contains(pat, "*") && !strings.HasSuffix(pat, ".*"):
		v.errf(path, "%q: a pattern is an event name, a prefix ending in \".*\", or \"*\"", pat)
	case strings.HasSuffix(pat, ".*"):
		prefix := strings.TrimSuffix(pat, "*")
		for _, e := range KnownEvents {
			if strings.HasPrefix(e, prefix) {
				return
			}
		}
		v.warnf(path, "%q matches no event name the receivers write", pat)
	case !slices.Contains(KnownEvents, pat):
		if len(v.warns) >= maxProblems {
			v.moreWarns++
			return
		}
		msg := fmt.Sprintf("%q is not an event name the receivers write", pat)
		if s := suggest(pat, KnownEvents); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.warnf(path, "%s", msg)
	}
}

func checkVendor(v *validator, path, vendor string) {
	switch {
	case vendor == "":
		v.errf(path, "vendor must be set")
	case !slices.Contains(KnownVendors, vendor):
		if v.full() {
			v.moreErrs++
			return
		}
		msg := fmt.Sprintf("%q is not a vendor Consentry receives from (%s)", vendor, strings.Join(KnownVendors, ", "))
		if s := suggest(vendor, KnownVendors); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
			v.errf(path, "%s", msg)
			return
		}
		v.warnf(path, "%s", msg)
	}
}

func (p *Policy) compileProcessors(v *validator) {
	if len(p.cfg.Processors) == 0 {
		v.errf("processors", "no processors: list every party that touches events (at least the vendors themselves)")
	}
	for i, pc := range p.cfg.Processors {
		path := fmt.Sprintf("processors[%d]", i)
		if pc.ID != "" {
			path += " (" + pc.ID + ")"
		}
		switch {
		case pc.ID == "":
			v.errf(path, "id must be set")
		case !idPattern.MatchString(pc.ID):
			v.errf(path, "id %q must be lower-case letters, digits, '-', '_' or '.'", pc.ID)
		case p.procByID[pc.ID] != nil:
			v.errf(path, "id %q is defined twice", pc.ID)
		}
		pr := &processor{id: pc.ID, name: pc.Name, role: pc.Role, secondary: pc.SecondaryUses, tcfVendor: pc.TCFVendorID,
			vendors: pc.Touches.Vendors, tenants: pc.Touches.Tenants, events: pc.Touches.Events}
		switch pc.Role {
		case RoleProcessor, RoleServiceProvider:
		case RoleThirdParty:
			pr.thirdParty = true
		case "":
			v.errf(path, "role must be set: processor, service_provider or third_party")
		default:
			v.errf(path, "role %q is not processor, service_provider or third_party", pc.Role)
		}
		for j, su := range pc.SecondaryUses {
			use, ok := SecondaryUsePurposes[su]
			if !ok {
				v.errf(fmt.Sprintf("%s.secondary_uses[%d]", path, j), "unknown secondary use %q (want train_ai_system, product_improvement, cross_customer_profiling or advertising)", su)
				continue
			}
			pr.secondaryPurposes = append(pr.secondaryPurposes, use)
			pr.thirdParty = true // the capability test
		}
		if pc.TCFVendorID < 0 || pc.TCFVendorID > 65535 {
			v.errf(path+".tcf_vendor_id", "%d is not a Global Vendor List id (1..65535)", pc.TCFVendorID)
		}
		for j, vendor := range pc.Touches.Vendors {
			checkVendor(v, fmt.Sprintf("%s.touches.vendors[%d]", path, j), vendor)
		}
		for j, e := range pc.Touches.Events {
			checkEventPattern(v, fmt.Sprintf("%s.touches.events[%d]", path, j), e)
		}
		if pc.ID != "" && p.procByID[pc.ID] == nil {
			p.procByID[pc.ID] = pr
			p.processors = append(p.processors, pr)
		}
	}
}

func (p *Policy) checkProcessorRefs(v *validator, path string, ids []string) {
	for i, id := range ids {
		if p.procByID[id] == nil {
			if v.full() {
				v.moreErrs++
				continue
			}
			msg := fmt.Sprintf("unknown processor %q", id)
			if s := suggest(id, sortedKeys(p.procByID)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.errf(fmt.Sprintf("%s[%d]", path, i), "%s", msg)
		}
	}
}

func (p *Policy) compileTenants(v *validator) {
	if len(p.cfg.Tenants) == 0 {
		v.errf("tenants", "no tenants: every record would be quarantined as tenant_unknown")
	}
	for i, tc := range p.cfg.Tenants {
		path := fmt.Sprintf("tenants[%d]", i)
		if tc.Vendor != "" || tc.ID != "" {
			path += " (" + tc.Vendor + "/" + tc.ID + ")"
		}
		checkVendor(v, path+".vendor", tc.Vendor)
		if tc.ID == "" {
			v.errf(path, "id must be set (the ccaas.tenant.id: Genesys org id, Twilio account SID, Segment source, Talkdesk account; is its environment variable set?)")
		}
		key := tenantKey{tc.Vendor, tc.ID}
		if p.tenants[key] != nil {
			v.errf(path, "tenant %s/%s is defined twice", tc.Vendor, tc.ID)
		}
		t := &tenant{vendor: tc.Vendor, id: tc.ID, name: tc.Name, sensitive: tc.Sensitive, scope: tc.ConsentScope,
			jurisdictions: tc.Jurisdictions, contract: tc.ContractPurposes, disclosed: map[string]bool{}, played: map[string]*playedNotice{}}
		for j, jur := range tc.Jurisdictions {
			if !jurisdictionPattern.MatchString(jur) {
				v.errf(fmt.Sprintf("%s.jurisdictions[%d]", path, j), "%q is not an ISO 3166-1 country (US) or 3166-2 subdivision (US-CA)", jur)
			}
		}
		p.checkUses(v, path+".contract_purposes", tc.ContractPurposes)
		n := tc.Notice
		if n.ID == "" {
			v.errf(path+".notice.id", "must be set: the privacy notice the tenant's customers see (consent.notice.id)")
		}
		t.noticeID = n.ID
		if n.Version != "" {
			t.noticeID += "@" + n.Version
		}
		if n.Date != "" {
			if _, err := time.Parse(time.DateOnly, n.Date); err != nil {
				v.errf(path+".notice.date", "%q is not a date (YYYY-MM-DD)", n.Date)
			}
		}
		p.checkProcessorRefs(v, path+".notice.processors", n.Processors)
		for _, id := range n.Processors {
			t.disclosed[id] = true
		}
		for j, pn := range tc.PlayedNotices {
			pp := fmt.Sprintf("%s.played_notices[%d]", path, j)
			switch {
			case pn.ID == "":
				v.errf(pp, "id must be set (the marker in ccaas.consent.notice.id)")
			case t.played[pn.ID] != nil:
				v.errf(pp, "id %q is listed twice", pn.ID)
			}
			if len(pn.Purposes) == 0 {
				v.errf(pp+".purposes", "must list the purposes the notice announces")
			}
			p.checkUses(v, pp+".purposes", pn.Purposes)
			p.checkProcessorRefs(v, pp+".processors", pn.Processors)
			t.played[pn.ID] = &playedNotice{id: pn.ID, purposes: pn.Purposes, processors: pn.Processors, cite: "notice:" + pn.ID}
		}
		if len(tc.Purposes) > 0 {
			t.purposes = p.compilePurposeTable(v, path+".purposes", tc.Purposes)
		}
		if tc.ID != "" && p.tenants[key] == nil {
			p.tenants[key] = t
		}
	}
}

func (p *Policy) compilePurposes(v *validator) {
	if len(p.cfg.Purposes) == 0 {
		v.errf("purposes", "no purposes: map event names to data uses (every record would be quarantined as purpose_unknown)")
	}
	p.purposes = *p.compilePurposeTable(v, "purposes", p.cfg.Purposes)
	for i, e := range p.cfg.ConsentEvents {
		checkEventPattern(v, fmt.Sprintf("consent_events[%d]", i), e)
	}
	p.consentEvents = map[string]bool{}
	for _, e := range p.cfg.ConsentEvents {
		p.consentEvents[e] = true
	}
}

func (p *Policy) compileJurisdiction(v *validator) {
	j := p.cfg.Jurisdiction
	p.allParty, p.allPartyCalls, p.callChannels, p.regionCountries = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for name, list := range map[string][]string{"all_party": j.AllParty, "all_party_calls": j.AllPartyCalls} {
		for i, code := range list {
			if !jurisdictionPattern.MatchString(code) {
				v.errf(fmt.Sprintf("jurisdiction.%s[%d]", name, i), "%q is not an ISO 3166-1 country (DE) or 3166-2 subdivision (US-CA)", code)
				continue
			}
			if country, _, ok := strings.Cut(code, "-"); ok {
				p.regionCountries[country] = true
			}
			if name == "all_party" {
				p.allParty[code] = true
			} else {
				p.allPartyCalls[code] = true
			}
		}
	}
	for _, ch := range j.CallChannels {
		p.callChannels[ch] = true
	}
	p.checkUses(v, "jurisdiction.recording_purposes", j.RecordingPurposes)
	p.recording = j.RecordingPurposes
	switch j.UnknownLocation {
	case UnknownAllParty:
		p.unknownAllParty = true
	case UnknownOneParty:
	default:
		v.errf("jurisdiction.unknown_location", "%q is not all_party or one_party", j.UnknownLocation)
	}
}

func (p *Policy) compileSources(v *validator) {
	p.sources = map[string]*source{}
	for _, vendor := range sortedKeys(p.cfg.ConsentSources) {
		sc := p.cfg.ConsentSources[vendor]
		path := "consent_sources." + vendor
		checkVendor(v, path, vendor)
		src := &source{byAttr: map[string]*signal{}, categories: sc.Categories}
		for _, name := range sortedKeys(sc.Signals) {
			s := sc.Signals[name]
			sp := path + ".signals." + name
			if !signalNamePattern.MatchString(name) {
				v.errf(sp, "signal name %q must be letters, digits, '_' or '-' (the receiver writes ccaas.consent.signal.<name>)", name)
			}
			if len(s.Purposes) == 0 {
				v.errf(sp+".purposes", "must list the purposes the signal grants or denies")
			}
			p.checkUses(v, sp+".purposes", s.Purposes)
			p.checkProcessorRefs(v, sp+".processors", s.Processors)
			if s.Scope != ScopeInteraction && s.Scope != ScopeSubject {
				v.errf(sp+".scope", "%q is not interaction or subject", s.Scope)
			}
			sig := &signal{name: name, attr: s.Attribute, purposes: s.Purposes, processors: s.Processors,
				subjectScope: s.Scope == ScopeSubject, granted: map[string]bool{}, denied: map[string]bool{},
				citeGranted: "signal:" + name + "=granted", citeDenied: "signal:" + name + "=denied", citeMalformed: "signal:" + name + "=malformed"}
			for _, g := range s.Granted {
				sig.granted[g] = true
			}
			for _, d := range s.Denied {
				if sig.granted[d] {
					v.errf(sp, "value %q is both granted and denied", d)
				}
				sig.denied[d] = true
			}
			if other := src.byAttr[s.Attribute]; other != nil {
				v.errf(sp+".attribute", "attribute %q is also read by signal %q", s.Attribute, other.name)
			}
			src.byAttr[s.Attribute] = sig
			src.signals = append(src.signals, sig)
			if !strings.HasPrefix(s.Attribute, signalAttrPrefix) {
				src.custom = append(src.custom, sig)
			}
		}
		for _, id := range sortedKeys(sc.Categories) {
			cp := path + ".categories[" + strconv.Quote(id) + "]"
			if len(sc.Categories[id]) == 0 {
				v.errf(cp, "maps to no data uses")
			}
			p.checkUses(v, cp, sc.Categories[id])
			c := "category:" + id + "="
			src.categoryList = append(src.categoryList, &category{id: id, attr: ccaas.AttrConsentCategoryPrefix + id, uses: sc.Categories[id],
				citeTrue: c + "true", citeFalse: c + "false", citeAbsent: c + "absent", citeMalformed: c + "malformed"})
		}
		p.sources[vendor] = src
	}
	p.tcfEnabled = *p.cfg.TCF.Enabled
	for _, k := range sortedKeys(p.cfg.TCF.Purposes) {
		path := "tcf.purposes[" + strconv.Quote(k) + "]"
		id, err := strconv.Atoi(k)
		if err != nil || id < 1 || id > 24 {
			v.errf(path, "%q is not a TCF purpose id (1..24)", k)
			continue
		}
		p.checkUses(v, path, p.cfg.TCF.Purposes[k])
		p.tcfPurposes[id] = p.cfg.TCF.Purposes[k]
	}
	p.gpc, p.gpp = *p.cfg.OptOut.GPC, *p.cfg.OptOut.GPP
	p.checkUses(v, "opt_out.purposes", p.cfg.OptOut.Purposes)
	p.optOutUses = p.cfg.OptOut.Purposes
}

// crossChecks finds configurations that are valid piece by piece but
// cannot work together.
func (p *Policy) crossChecks(v *validator) {
	for i, tc := range p.cfg.Tenants {
		t := p.tenants[tenantKey{tc.Vendor, tc.ID}]
		if t == nil {
			continue
		}
		path := fmt.Sprintf("tenants[%d] (%s/%s)", i, tc.Vendor, tc.ID)
		touching := 0
		for _, pr := range p.processors {
			if pr.touchesTenant(tc.Vendor, tc.ID) {
				touching++
			}
		}
		if touching == 0 && len(p.processors) > 0 {
			v.errf(path, "no processor touches %s events: add one with touches.vendors: [%s] (every %s record would be quarantined as processor_unknown)", tc.Vendor, tc.Vendor, tc.Vendor)
		}
		for _, id := range tc.Notice.Processors {
			if pr := p.procByID[id]; pr != nil && !pr.touchesTenant(tc.Vendor, tc.ID) {
				v.warnf(path+".notice.processors", "processor %q never touches this tenant's events", id)
			}
		}
	}
	for i, pr := range p.processors {
		for j, id := range pr.tenants {
			found := false
			for _, t := range p.tenants {
				found = found || t.id == id && pr.touchesVendor(t.vendor)
			}
			if !found {
				v.errf(fmt.Sprintf("processors[%d] (%s).touches.tenants[%d]", i, pr.id, j), "no tenant %q of the processor's vendors", id)
			}
		}
	}
	for _, vendor := range sortedKeys(p.cfg.ConsentSources) {
		found := false
		for _, t := range p.tenants {
			found = found || t.vendor == vendor
		}
		if !found {
			v.warnf("consent_sources."+vendor, "no tenant of vendor %q", vendor)
		}
	}
}

func (pr *processor) touchesVendor(vendor string) bool {
	return len(pr.vendors) == 0 || slices.Contains(pr.vendors, vendor)
}

func (pr *processor) touchesTenant(vendor, tenant string) bool {
	return pr.touchesVendor(vendor) && (len(pr.tenants) == 0 || slices.Contains(pr.tenants, tenant))
}

func (pr *processor) touches(vendor, tenant, event string) bool {
	if !pr.touchesVendor(vendor) || len(pr.tenants) > 0 && !slices.Contains(pr.tenants, tenant) {
		return false
	}
	if len(pr.events) == 0 {
		return true
	}
	for _, pat := range pr.events {
		if matchEvent(pat, event) {
			return true
		}
	}
	return false
}

func matchEvent(pat, event string) bool {
	switch {
	case pat == "*":
		return true
	case strings.HasSuffix(pat, ".*"):
		return strings.HasPrefix(event, pat[:len(pat)-1])
	default:
		return pat == event
	}
}

// compilePurposeTable checks and compiles a map of event names to data
// uses (the policy's purposes, or a tenant's).
func (p *Policy) compilePurposeTable(v *validator, path string, m map[string][]string) *purposeTable {
	pt := &purposeTable{exact: map[string][]string{}}
	for _, name := range sortedKeys(m) {
		uses := m[name]
		kp := path + "[" + strconv.Quote(name) + "]"
		checkEventPattern(v, kp, name)
		if len(uses) == 0 {
			v.errf(kp, "lists no data uses")
		}
		p.checkUses(v, kp, uses)
		switch {
		case name == "*":
			pt.any = uses
		case strings.HasSuffix(name, ".*"):
			pt.prefix = append(pt.prefix, prefixPurposes{prefix: strings.TrimSuffix(name, "*"), purposes: uses})
		default:
			pt.exact[name] = uses
		}
	}
	sort.SliceStable(pt.prefix, func(i, j int) bool { return len(pt.prefix[i].prefix) > len(pt.prefix[j].prefix) })
	return pt
}

// lookup returns the data uses of an event name, and whether a key matched.
func (pt *purposeTable) lookup(event string) ([]string, bool) {
	if u, ok := pt.exact[event]; ok {
		return u, true
	}
	for _, pp := range pt.prefix {
		if strings.HasPrefix(event, pp.prefix) {
			return pp.purposes, true
		}
	}
	return pt.any, pt.any != nil
}

// purposesOf returns the data uses of an event name for a tenant (nil if
// none): the tenant's own purposes when one of its keys matches the event,
// else the policy's.
func (p *Policy) purposesOf(t *tenant, event string) []string {
	if event == "" {
		return nil
	}
	if t != nil && t.purposes != nil {
		if u, ok := t.purposes.lookup(event); ok {
			return u
		}
	}
	u, _ := p.purposes.lookup(event)
	return u
}

// HasTenant reports whether the policy lists the tenant.
func (p *Policy) HasTenant(vendor, id string) bool {
	return p.tenants[tenantKey{vendor, id}] != nil
}
