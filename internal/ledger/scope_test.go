package ledger_test

import (
	"context"
	"slices"
	"testing"

	"github.com/consentry/consentry/internal/ledger"
)

// TestTenantScope: a scoped filter selects only the scope's tenants in
// listings, statistics and exports, an empty scope selects nothing, and a
// page token is bound to its scope.
func TestTenantScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		l := h.ledger(t)
		ctx := context.Background()
		for _, tn := range []string{"ta", "tb", "tc"} {
			for i := range 3 {
				mustAppend(t, l, rec(tn, "s-"+tn, tn+"-"+string(rune('0'+i))))
			}
		}
		tenantsOf := func(f ledger.Filter) []string {
			t.Helper()
			p, err := l.List(ctx, f, ledger.Page{Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range p.Records {
				if !slices.Contains(out, r.Tenant) {
					out = append(out, r.Tenant)
				}
			}
			slices.Sort(out)
			return out
		}
		ab := &ledger.TenantScope{Tenants: []string{"ta", "tb"}}
		if got := tenantsOf(ledger.Filter{Scope: ab}); !slices.Equal(got, []string{"ta", "tb"}) {
			t.Errorf("scoped list: %v", got)
		}
		if got := tenantsOf(ledger.Filter{Tenant: "tc", Scope: ab}); len(got) != 0 {
			t.Errorf("a tenant outside the scope: %v", got)
		}
		if got := tenantsOf(ledger.Filter{Scope: &ledger.TenantScope{}}); len(got) != 0 {
			t.Errorf("empty scope: %v", got)
		}
		st, err := l.Stats(ctx, ledger.Filter{Scope: ab})
		if err != nil {
			t.Fatal(err)
		}
		if st.Total != 6 || len(st.ByTenant) != 2 {
			t.Errorf("scoped stats: %+v", st)
		}
		n := 0
		if err := l.Export(ctx, ledger.Filter{Scope: &ledger.TenantScope{Tenants: []string{"tc"}}}, ledger.ExportOptions{}, func(e *ledger.ExportedRecord) error {
			if e.Meta.Tenant != "tc" {
				t.Errorf("export outside the scope: %s", e.Meta.Tenant)
			}
			n++
			return nil
		}); err != nil || n != 3 {
			t.Errorf("scoped export: %d records, %v", n, err)
		}
		p, err := l.List(ctx, ledger.Filter{Scope: ab}, ledger.Page{Size: 2})
		if err != nil || p.NextToken == "" {
			t.Fatalf("first page: %v %q", err, p.NextToken)
		}
		if _, err := l.List(ctx, ledger.Filter{}, ledger.Page{Size: 2, Token: p.NextToken}); err == nil {
			t.Error("a scoped page token was accepted for an unscoped query")
		}

		for _, sc := range []string{"sa", "sb"} {
			if _, _, err := l.PutConsent(ctx, ledger.Consent{Tenant: sc, SubjectKey: "k", Status: ledger.ConsentGranted, Purposes: []string{"p"}}); err != nil {
				t.Fatal(err)
			}
		}
		cp, err := l.ListConsents(ctx, ledger.ConsentFilter{Scope: &ledger.TenantScope{Tenants: []string{"sb"}}}, ledger.Page{})
		if err != nil || len(cp.Consents) != 1 || cp.Consents[0].Tenant != "sb" {
			t.Errorf("scoped consents: %+v %v", cp.Consents, err)
		}
		cp, err = l.ListConsents(ctx, ledger.ConsentFilter{Scope: &ledger.TenantScope{}}, ledger.Page{})
		if err != nil || len(cp.Consents) != 0 {
			t.Errorf("empty consent scope: %+v %v", cp.Consents, err)
		}

		for _, target := range []string{`{"tenants":["ta"],"x":1}`, `{"tenants":["tb"]}`, `{"tenants":["*"]}`, `{"x":"ta"}`, `{"tenants":[],"y":"100%_"}`} {
			if _, err := l.AppendAccess(ctx, ledger.AccessEntry{Identity: "i", Method: "m", Target: target, Result: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		ap, err := l.ListAccess(ctx, ledger.AccessFilter{TargetPrefix: `{"tenants":[`, TargetContains: []string{`"ta"`, `"*"`}}, ledger.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range ap.Entries {
			got = append(got, e.Target)
		}
		if want := []string{`{"tenants":["*"]}`, `{"tenants":["ta"],"x":1}`}; !slices.Equal(got, want) {
			t.Errorf("access by target: %q, want %q", got, want)
		}
		ap, err = l.ListAccess(ctx, ledger.AccessFilter{TargetPrefix: `{"tenants":[],"y":"100%_`}, ledger.Page{})
		if err != nil || len(ap.Entries) != 1 {
			t.Errorf("LIKE metacharacters in a prefix: %+v %v", ap.Entries, err)
		}
	})
}
