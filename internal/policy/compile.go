package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
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
	tcf           tcfRules
	gpc, gpp      bool
	optOutUses    []string
	gppRules      gppRules
	consentEvents map[string]bool
	// optInOverrides: an API opt-in outlasts the opt-out signals already in
	// force when it was recorded.
	optInOverrides bool
	// withdrawalsNow: withdrawals recorded after the event's time but before
	// it is decided block it.
	withdrawalsNow bool

	gdprJurisdictions map[string]bool
	legalBases        map[string]string // gdpr.legal_bases

	plansMu sync.RWMutex
	plans   map[planKey]*plan

	entriesMu sync.RWMutex
	entries   map[entryKey]string
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
	art28             bool
	vendors           []string
	tenants           []string
	// tenantSet holds tenants, for lookups per record (a processor a
	// vendor runs for many tenants lists them all).
	tenantSet map[string]bool
	events    []string
}

type tenant struct {
	vendor, id, name string
	sensitive        bool
	scope            string
	// jurisdictions are the tenant's own, as consent.jurisdictions entries
	// ("US-CA@tenant.config").
	jurisdictions []jurisdiction
	jurEntries    []string // their consent.jurisdictions entries
	contract      []string
	noticeID      string
	disclosed     map[string]bool
	played        map[string]*playedNotice
	numbers       map[string]string // E.164 -> jurisdiction
	sites         []*site
	legalBases    map[string]string // overrides gdpr.legal_bases
	art9          string
	purposes      *purposeTable // the tenant's own purposes, before the policy's; nil if none
}

type site struct {
	id, jurisdiction string
	entry            string // "US-TX@agent.site"
	agents, queues   []string
}

type playedNotice struct {
	id, version string
	purposes    []string
	processors  []string
	maxOffset   float64 // seconds; 0: no requirement
	cite        string
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
		entries:  map[entryKey]string{},
	}
	v := &validator{}
	p.compileUses(v)
	p.compileProcessors(v)
	p.compileTenants(v)
	p.compilePurposes(v)
	p.compileJurisdiction(v)
	p.compileGDPR(v)
	p.compileSources(v)
	p.compileTCF(v)
	p.compileGPP(v)
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
		for j := range t.Sites {
			t.Sites[j].Agents, t.Sites[j].Queues = set(t.Sites[j].Agents), set(t.Sites[j].Queues)
		}
		sort.SliceStable(t.Sites, func(a, b int) bool { return t.Sites[a].ID < t.Sites[b].ID })
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
	g := &c.GPP.OptOuts
	for _, l := range []*[]string{&g.Sale, &g.Sharing, &g.TargetedAdvertising, &g.SensitiveData, &g.KnownChild, &g.Processing} {
		*l = set(*l)
	}
	slices.Sort(c.TCF.LegitimateInterest)
	c.TCF.LegitimateInterest = slices.Compact(c.TCF.LegitimateInterest)
	c.GDPR.Jurisdictions = set(c.GDPR.Jurisdictions)
	c.ConsentEvents = set(c.ConsentEvents)
}

// HasTenant reports whether the policy lists the tenant.
func (p *Policy) HasTenant(vendor, id string) bool {
	return p.tenants[tenantKey{vendor, id}] != nil
}
