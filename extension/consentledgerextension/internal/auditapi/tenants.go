package auditapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/ledger"
)

// AllTenants is the tenant entry of an identity that may see every tenant
// (a vendor's own staff).
const AllTenants = "*"

// Coverage is what one tenant name an auditor identity carries covers: the
// tenant ids (ccaas.tenant.id) of quarantined records, and the consent
// scopes of consent records.
type Coverage struct {
	Records []string
	Scopes  []string
}

// Tenants resolves the tenant names of auditor identities. The tenants
// registry implements it: a registry tenant covers its vendor accounts'
// tenant ids and its consent scope.
type Tenants interface {
	// Resolve returns what name covers; ok is false for a name the
	// resolver does not know.
	Resolve(name string) (c Coverage, ok bool)
}

// literalCoverage is what a name no resolver knows covers: records of
// that tenant id, and consent under that name or under the consent scope
// the policy gives a vendor tenant by default ("<vendor>/<id>").
func literalCoverage(name string) Coverage {
	c := Coverage{Records: []string{name}, Scopes: []string{name}}
	for _, v := range ccaas.AllVendors {
		c.Scopes = append(c.Scopes, v+"/"+name)
	}
	return c
}

// checkTenantNames checks the tenants of one identity.
func checkTenantNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf(`tenants is required: the tenants this identity may see, or ["%s"] for every tenant`, AllTenants)
	}
	for _, n := range names {
		switch {
		case n == AllTenants && len(names) > 1:
			return fmt.Errorf(`tenants: "%s" (every tenant) cannot be combined with other tenants`, AllTenants)
		case strings.TrimSpace(n) == "" || n != strings.TrimSpace(n):
			return fmt.Errorf("tenants: %q is not a tenant name", n)
		case n != AllTenants && strings.ContainsAny(n, "\"\\*"):
			return fmt.Errorf("tenants: %q: tenant names contain no quotes, backslashes or wildcards", n)
		}
	}
	return nil
}

// kind says what a named tenant is: the tenant of quarantined records, or
// the consent scope of consent records.
type kind int8

const (
	recordTenant kind = iota
	consentScope
)

// named is a tenant a request names.
type named struct {
	kind  kind
	value string
}

// scope is what an authenticated caller may see, resolved at the call.
type scope struct {
	all     bool
	names   []string // the identity's tenant names, for messages
	records []string // sorted
	scopes  []string // sorted
}

// scopeOf resolves a principal's tenants.
func (s *Service) scopeOf(p principal) *scope {
	if slices.Contains(p.tenants, AllTenants) {
		return &scope{all: true, names: p.tenants}
	}
	sc := &scope{names: p.tenants}
	for _, n := range p.tenants {
		c, ok := Coverage{}, false
		if s.tenants != nil {
			c, ok = s.tenants.Resolve(n)
		}
		if !ok {
			c = literalCoverage(n)
		}
		sc.records = append(sc.records, c.Records...)
		sc.scopes = append(sc.scopes, c.Scopes...)
	}
	slices.Sort(sc.records)
	sc.records = slices.Compact(sc.records)
	slices.Sort(sc.scopes)
	sc.scopes = slices.Compact(sc.scopes)
	return sc
}

func (sc *scope) allows(n named) bool {
	if sc.all {
		return true
	}
	list := sc.records
	if n.kind == consentScope {
		list = sc.scopes
	}
	_, ok := slices.BinarySearch(list, n.value)
	return ok
}

// allowsAny reports whether one of the tenants is the caller's (records or
// consent scopes alike): an access-log entry about them is the caller's
// business.
func (sc *scope) allowsAny(tenants []string) bool {
	for _, t := range tenants {
		if t == AllTenants || sc.allows(named{recordTenant, t}) || sc.allows(named{consentScope, t}) {
			return true
		}
	}
	return false
}

// recordScope is the ledger filter restriction of the caller's records
// (nil: every tenant).
func (sc *scope) recordScope() *ledger.TenantScope {
	if sc == nil || sc.all {
		return nil
	}
	return &ledger.TenantScope{Tenants: sc.records}
}

// consentScope restricts consent records.
func (sc *scope) consentScope() *ledger.TenantScope {
	if sc == nil || sc.all {
		return nil
	}
	return &ledger.TenantScope{Tenants: sc.scopes}
}

// logTenants is what an access-log entry says a call concerned when it
// named no tenant: the caller's tenants, or every tenant.
func (sc *scope) logTenants() []string {
	if sc.all {
		return []string{AllTenants}
	}
	out := append(append([]string(nil), sc.records...), sc.scopes...)
	slices.Sort(out)
	return slices.Compact(out)
}

// namedTenants returns the tenants a request names, without looking
// anything up.
func namedTenants(req proto.Message) []named {
	rec := func(v string) []named {
		if v = strings.TrimSpace(v); v == "" {
			return nil
		}
		return []named{{recordTenant, v}}
	}
	switch r := req.(type) {
	case *consentryv1.ListQuarantinedRecordsRequest:
		return rec(r.GetTenant())
	case *consentryv1.GetStatsRequest:
		return rec(r.GetTenant())
	case *consentryv1.ExportEvidenceRequest:
		return rec(r.GetFilter().GetTenant())
	case *consentryv1.ReleaseRecordsRequest:
		return append(rec(r.GetSubject().GetTenant()), rec(r.GetFilter().GetTenant())...)
	case *consentryv1.EraseSubjectRequest:
		return rec(r.GetSubject().GetTenant())
	case *consentryv1.RecordConsentRequest:
		if t := strings.TrimSpace(r.GetSubject().GetTenant()); t != "" {
			return []named{{consentScope, t}}
		}
	case *consentryv1.ListConsentsRequest:
		if t := strings.TrimSpace(r.GetTenant()); t != "" {
			return []named{{consentScope, t}}
		}
	}
	return nil
}

// authorize is the tenant half of authorisation, run for every call once
// its request is known: every tenant the request names, and the tenant of
// a record it reads by id, must be the caller's, and a call that acts on
// every tenant at once (Purge) needs an identity of every tenant. It
// records what the call concerns for the access log.
func (s *Service) authorize(ctx context.Context, c *call, req proto.Message) error {
	c.scope = s.scopeOf(c.who)
	names := namedTenants(req)
	if r, ok := req.(*consentryv1.GetQuarantinedRecordRequest); ok && r.GetId() != "" {
		p, err := s.ledger.List(ctx, ledger.Filter{IDs: []string{r.GetId()}}, ledger.Page{Size: 1})
		if err != nil {
			return s.ledgerError(err, "record")
		}
		if len(p.Records) == 1 {
			names = append(names, named{recordTenant, p.Records[0].Tenant})
		}
	}
	for _, n := range names {
		c.concerns = append(c.concerns, n.value)
	}
	if len(c.concerns) == 0 {
		c.concerns = c.scope.logTenants()
	}
	if c.spec.allTenants && !c.scope.all {
		return status.Errorf(codes.PermissionDenied, `%s may not call %s: it acts on every tenant's records at once and needs an identity with tenants: ["%s"]`, c.who.identity, c.spec.name, AllTenants)
	}
	for _, n := range names {
		if !c.scope.allows(n) {
			what := "tenant"
			if n.kind == consentScope {
				what = "consent scope"
			}
			return status.Errorf(codes.PermissionDenied, "%s may not access %s %q: its tenants are %s", c.who.identity, what, n.value, strings.Join(c.scope.names, ", "))
		}
	}
	if c.who.role < rawIdentifierRole && rawIdentifierOf(req) != "" {
		return status.Errorf(codes.PermissionDenied, "%s (role %s) may not search by raw_identifier: it needs the %s role or stronger (or pass subject_key)", c.who.identity, c.who.role, rawIdentifierRole)
	}
	return nil
}

// rawIdentifierRole is the weakest role that may look records or consent
// up by a raw phone number or e-mail address: turning personal data into
// a subject's records is an investigation.
const rawIdentifierRole = RoleInvestigator

// rawIdentifierOf is the raw identifier a request's filter names.
func rawIdentifierOf(req proto.Message) string {
	type raw interface{ GetRawIdentifier() string }
	type filtered interface {
		GetFilter() *consentryv1.RecordFilter
	}
	if r, ok := req.(raw); ok {
		return r.GetRawIdentifier()
	}
	if r, ok := req.(filtered); ok {
		return r.GetFilter().GetRawIdentifier()
	}
	return ""
}

// targetTenantsKey is the first key of every access-log target: the
// tenants the call concerned (AllTenants: every tenant).
const targetTenantsKey = `{"tenants":`

// withTenants puts the tenants a call concerned first in its access-log
// target (a JSON object).
func withTenants(tenants []string, target string) string {
	if tenants == nil {
		tenants = []string{}
	}
	b, _ := json.Marshal(tenants)
	rest := strings.TrimPrefix(target, "{")
	if target == "" || rest == "}" {
		return targetTenantsKey + string(b) + "}"
	}
	return targetTenantsKey + string(b) + "," + rest
}

// targetTenants reads the tenants of an access-log target written by
// withTenants (ok false for older entries, which have none).
func targetTenants(target string) ([]string, bool) {
	if !strings.HasPrefix(target, targetTenantsKey+"[") {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(target[len(targetTenantsKey):]))
	var ts []string
	if err := dec.Decode(&ts); err != nil {
		return nil, false
	}
	return ts, true
}

// accessFilter is the access-log filter of a caller limited to some
// tenants: entries that concern one of them, or every tenant.
func (sc *scope) accessFilter(f ledger.AccessFilter) ledger.AccessFilter {
	if sc.all {
		return f
	}
	f.TargetPrefix = targetTenantsKey + "["
	for _, t := range append(sc.logTenants(), AllTenants) {
		b, _ := json.Marshal(t)
		f.TargetContains = append(f.TargetContains, string(b))
	}
	return f
}

// visibleAccess decides whether a caller limited to some tenants sees an
// access-log entry, and what of it: entries about its tenants in full;
// entries that also concern other tenants, or every tenant, with only the
// caller's tenants and without target and reason, which may be about the
// others' data.
func (sc *scope) visibleAccess(e *ledger.AccessEntry) bool {
	if sc.all {
		return true
	}
	ts, ok := targetTenants(e.Target)
	if !ok || !sc.allowsAny(ts) {
		return false
	}
	if slices.Contains(ts, AllTenants) {
		e.Target, e.Reason = withTenants([]string{AllTenants}, ""), ""
		return true
	}
	var mine []string
	for _, t := range ts {
		if sc.allowsAny([]string{t}) {
			mine = append(mine, t)
		}
	}
	if len(mine) != len(ts) {
		// The call also concerned tenants that are not the caller's: its
		// filters and reason may be about them.
		e.Target, e.Reason = withTenants(mine, ""), ""
	}
	return true
}

// scopeVerify trims a verification report for a caller limited to some
// tenants. The whole ledger is verified (the chains are shared: a removed
// or altered entry of any tenant breaks them for every tenant), so ok and
// the writers' heads and checkpoints stay; the counts become those of the
// caller's records, and only problems with the caller's records are listed
// in full, the others as one count.
func (x *server) scopeVerify(ctx context.Context, sc *scope, out *consentryv1.VerifyLedgerResponse) error {
	st, err := x.s.ledger.Stats(ctx, ledger.Filter{Scope: sc.recordScope()})
	if err != nil {
		return x.s.ledgerError(err, "verification")
	}
	out.Records, out.Entries, out.Consents, out.AccessEntries, out.Events, out.Purged, out.Erased = st.Total, 0, 0, 0, 0, 0, 0
	for _, w := range out.Writers {
		w.Entries, w.Unanchored = 0, 0
	}
	var refs []string
	for _, p := range out.Problems {
		if p.Ref != "" {
			refs = append(refs, p.Ref)
		}
	}
	mine := map[string]bool{}
	for len(refs) > 0 {
		n := min(len(refs), 500)
		pg, err := x.s.ledger.List(ctx, ledger.Filter{IDs: refs[:n], Scope: sc.recordScope()}, ledger.Page{Size: 1000})
		if err != nil {
			return x.s.ledgerError(err, "verification")
		}
		for _, r := range pg.Records {
			mine[r.ID] = true
		}
		refs = refs[n:]
	}
	kept, others := out.Problems[:0], 0
	for _, p := range out.Problems {
		if mine[p.Ref] {
			kept = append(kept, p)
		} else {
			others++
		}
	}
	if others > 0 {
		kept = append(kept, &consentryv1.VerifyProblem{Kind: "other_tenants", Detail: fmt.Sprintf("%d problems in chain entries that are not your tenants' records (the chains are shared: ask the ledger's operator)", others)})
	}
	out.Problems = kept
	return nil
}
