package auditapi

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/ledger"
)

// TestRawIdentifierFilter: an investigator finds a subject's records and
// consent by its phone number. The server derives the subject key for the
// tenant named, or under every configured salt without one (the caller's
// tenants still bound what is found); an auditor is refused (403); the
// number is never in the access log.
func TestRawIdentifierFilter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnvWith(t, b, func(o *Options) {
			o.Auth = testAuth()
			o.Auth.Tokens = append(o.Auth.Tokens, tenantAuth().Tokens...)
		})
		ctx := context.Background()
		const phone = "+15551230001"
		// The subject in t1 and t2 (each keyed under its tenant's salt),
		// in t3 (a salt the API does not know), and another subject.
		t1 := appendRecords(t, e.l, "t1", "key-t1-15551230001", 2)
		t2 := appendRecords(t, e.l, "t2", "key-t2-15551230001", 1)
		appendRecords(t, e.l, "t3", "key-t3-15551230001", 1)
		appendRecords(t, e.l, "t1", "key-t1-15559999999", 1)
		for _, c := range []ledger.Consent{
			{Tenant: "t1", SubjectKey: "key-t1-15551230001", Status: ledger.ConsentGranted, Purposes: []string{"p"}},
			{Tenant: "t2", SubjectKey: "key-t2-15551230001", Status: ledger.ConsentDenied, Purposes: []string{"p"}},
			{Tenant: "t1", SubjectKey: "key-t1-15559999999", Status: ledger.ConsentDenied, Purposes: []string{"p"}},
		} {
			if _, _, err := e.l.PutConsent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(rs []*consentryv1.QuarantinedRecord) []string {
			var out []string
			for _, r := range rs {
				out = append(out, r.Id)
			}
			slices.Sort(out)
			return out
		}
		sorted := func(s ...[]string) []string {
			out := slices.Concat(s...)
			slices.Sort(out)
			return out
		}

		// Named tenant: that tenant's key only.
		lr, err := e.client.ListQuarantinedRecords(as("investigator"), &consentryv1.ListQuarantinedRecordsRequest{Tenant: "t1", RawIdentifier: phone})
		if err != nil || !slices.Equal(ids(lr.Records), sorted(t1)) {
			t.Fatalf("tenant t1: %v %v, want %v", lr, err, t1)
		}
		// No tenant: every configured salt; paging keeps the filter.
		var got []*consentryv1.QuarantinedRecord
		tok := ""
		for {
			lr, err = e.client.ListQuarantinedRecords(as("investigator"), &consentryv1.ListQuarantinedRecordsRequest{RawIdentifier: phone, PageSize: 1, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, lr.Records...)
			if tok = lr.NextPageToken; tok == "" {
				break
			}
		}
		if !slices.Equal(ids(got), sorted(t1, t2)) {
			t.Fatalf("no tenant: %v, want %v", ids(got), sorted(t1, t2))
		}
		st, err := e.client.GetStats(as("investigator"), &consentryv1.GetStatsRequest{RawIdentifier: phone})
		if err != nil || st.Total != 3 {
			t.Fatalf("stats: %v %v, want 3", st, err)
		}
		cl, err := e.client.ListConsents(as("investigator"), &consentryv1.ListConsentsRequest{RawIdentifier: phone})
		if err != nil || len(cl.Consents) != 2 {
			t.Fatalf("consents without a scope: %v %v, want 2", cl, err)
		}
		cl, err = e.client.ListConsents(as("investigator"), &consentryv1.ListConsentsRequest{Tenant: "t2", RawIdentifier: phone})
		if err != nil || len(cl.Consents) != 1 || cl.Consents[0].Status != "denied" {
			t.Fatalf("consents of t2: %v %v", cl, err)
		}
		// A caller limited to some tenants finds only theirs: acme is ta,
		// ta2 (testTenants is not configured here: acme is literal).
		lr, err = e.client.ListQuarantinedRecords(asTenant("investigator", "acme"), &consentryv1.ListQuarantinedRecordsRequest{RawIdentifier: phone})
		if err != nil || len(lr.Records) != 0 {
			t.Fatalf("acme's investigator: %v %v, want nothing", lr, err)
		}

		// Refused: an auditor (403), subject_key with it, a bad number.
		for _, c := range []struct {
			name string
			call func() error
			want codes.Code
		}{
			{"auditor list", func() error {
				_, err := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{RawIdentifier: phone})
				return err
			}, codes.PermissionDenied},
			{"auditor stats", func() error {
				_, err := e.client.GetStats(as("auditor"), &consentryv1.GetStatsRequest{Tenant: "t1", RawIdentifier: phone})
				return err
			}, codes.PermissionDenied},
			{"auditor consents", func() error {
				_, err := e.client.ListConsents(as("auditor"), &consentryv1.ListConsentsRequest{Tenant: "t1", RawIdentifier: phone})
				return err
			}, codes.PermissionDenied},
			{"both keys", func() error {
				_, err := e.client.ListQuarantinedRecords(as("investigator"), &consentryv1.ListQuarantinedRecordsRequest{SubjectKey: "k", RawIdentifier: phone})
				return err
			}, codes.InvalidArgument},
			{"not a number", func() error {
				_, err := e.client.ListQuarantinedRecords(as("investigator"), &consentryv1.ListQuarantinedRecordsRequest{Tenant: "t1", RawIdentifier: "5551230001"})
				return err
			}, codes.InvalidArgument},
		} {
			if err := c.call(); status.Code(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		// An auditor may still use the subject key.
		if lr, err := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{SubjectKey: "key-t2-15551230001"}); err != nil || len(lr.Records) != 1 {
			t.Fatalf("auditor by subject key: %v %v", lr, err)
		}

		var redactedEntries int
		for _, a := range allAccess(t, e.l) {
			all := a.Target + a.Reason + a.Result
			if strings.Contains(all, "15551230001") && !strings.Contains(all, "key-") {
				t.Errorf("raw identifier in the access log: %+v", a)
			}
			if strings.Contains(a.Target, `"raw_identifier":"[redacted]"`) {
				redactedEntries++
			}
		}
		if redactedEntries < 8 {
			t.Errorf("%d access-log entries show a redacted raw_identifier, want every call that named one", redactedEntries)
		}
	})
}

// TestRawIdentifierWithoutKeyer: a server without subject salts refuses
// raw identifiers with FailedPrecondition (400), saying what to pass.
func TestRawIdentifierWithoutKeyer(t *testing.T) {
	e := newEnvWith(t, backends[0], func(o *Options) { o.Keyer = nil })
	_, err := e.client.ListQuarantinedRecords(as("investigator"), &consentryv1.ListQuarantinedRecordsRequest{RawIdentifier: "+15551230001"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "subject_key") {
		t.Fatalf("%v, want FailedPrecondition naming subject_key", err)
	}
}

// TestAuthorisationMatrixRawIdentifier: the methods that filter by
// raw_identifier, as every role, limited to acme or of every tenant,
// naming acme, globex or no tenant: allowed only to investigators and up
// within their tenants, and what they find is never another tenant's.
func TestAuthorisationMatrixRawIdentifier(t *testing.T) {
	e := newEnvWith(t, backends[0], func(o *Options) {
		o.Auth, o.Tenants = tenantAuth(), testTenants
		o.Keyer = fakeKeyer{tenants: []string{"ta", "ta2", "tb", "acme", "globex"}}
	})
	ctx := context.Background()
	const phone = "+15551230001"
	appendRecords(t, e.l, "ta", "key-ta-15551230001", 1)
	appendRecords(t, e.l, "tb", "key-tb-15551230001", 1)
	for _, c := range []ledger.Consent{
		{Tenant: "acme", SubjectKey: "key-acme-15551230001", Status: ledger.ConsentDenied, Purposes: []string{"p"}},
		{Tenant: "globex", SubjectKey: "key-globex-15551230001", Status: ledger.ConsentDenied, Purposes: []string{"p"}},
	} {
		if _, _, err := e.l.PutConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	names := map[target][2]string{own: {"ta", "acme"}, other: {"tb", "globex"}, unfiltered: {"", ""}}
	call := func(ctx context.Context, method string, tgt target) ([]string, error) {
		rec, scope := names[tgt][0], names[tgt][1]
		var found []string
		switch method {
		case "ListQuarantinedRecords":
			r, err := e.client.ListQuarantinedRecords(ctx, &consentryv1.ListQuarantinedRecordsRequest{Tenant: rec, RawIdentifier: phone})
			for _, x := range r.GetRecords() {
				found = append(found, x.Tenant)
			}
			return found, err
		case "GetStats":
			r, err := e.client.GetStats(ctx, &consentryv1.GetStatsRequest{Tenant: rec, RawIdentifier: phone})
			for _, x := range r.GetByTenant() {
				found = append(found, x.Key)
			}
			return found, err
		case "ListConsents":
			r, err := e.client.ListConsents(ctx, &consentryv1.ListConsentsRequest{Tenant: scope, RawIdentifier: phone})
			for _, x := range r.GetConsents() {
				found = append(found, x.Tenant)
			}
			return found, err
		case "ExportEvidence":
			_, err := recvAll(e.client, ctx, &consentryv1.ExportEvidenceRequest{Reason: "matrix", Filter: &consentryv1.RecordFilter{Tenant: rec, RawIdentifier: phone}})
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return nil, err
		}
		panic(method)
	}
	for _, m := range []string{"ListQuarantinedRecords", "GetStats", "ListConsents", "ExportEvidence"} {
		spec := methodSpecs[servicePrefix+m]
		for _, role := range []string{"auditor", "investigator", "custodian", "admin"} {
			for _, tenant := range []string{"acme", "all"} {
				for _, tgt := range []target{own, other, unfiltered} {
					allowed := roleRank[role] >= max(spec.min, rawIdentifierRole) && (tenant == "all" || tgt != other)
					found, err := call(asTenant(role, tenant), m, tgt)
					what := m + " by raw_identifier as " + role + "@" + tenant + " naming " + tgt.String()
					switch {
					case !allowed && status.Code(err) != codes.PermissionDenied:
						t.Errorf("%s: %v, want PermissionDenied", what, err)
					case allowed && err != nil:
						t.Errorf("%s: %v, want OK", what, err)
					case allowed && m != "ExportEvidence" && len(found) == 0:
						t.Errorf("%s: found nothing", what)
					case allowed && tenant == "acme" && (slices.Contains(found, "tb") || slices.Contains(found, "globex")):
						t.Errorf("%s: found another tenant's: %v", what, found)
					}
				}
			}
		}
	}
	for _, a := range allAccess(t, e.l) {
		if strings.Contains(a.Target, "15551230001") && !strings.Contains(a.Target, "key-") {
			t.Fatalf("raw identifier in the access log: %+v", a)
		}
	}
}
