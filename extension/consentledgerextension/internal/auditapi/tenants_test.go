package auditapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/evidence"
	"github.com/consentry/consentry/internal/ledger"
)

// fakeTenants is a tenants registry: acme has two vendor accounts and a
// consent scope of its own, globex one account.
type fakeTenants map[string]Coverage

func (f fakeTenants) Resolve(name string) (Coverage, bool) {
	c, ok := f[name]
	return c, ok
}

var testTenants = fakeTenants{
	"acme":   {Records: []string{"ta", "ta2"}, Scopes: []string{"acme"}},
	"globex": {Records: []string{"tb"}, Scopes: []string{"globex"}},
}

// tenantToken is the bearer token of role for tenant ("all" for "*").
func tenantToken(role, tenant string) string { return "tok-" + role + "-" + tenant + "-0123456789" }

func tenantAuth() *AuthConfig {
	c := &AuthConfig{}
	for _, role := range []string{"auditor", "investigator", "custodian", "admin"} {
		for tenant, names := range map[string][]string{"acme": {"acme"}, "globex": {"globex"}, "all": {AllTenants}} {
			c.Tokens = append(c.Tokens, TokenConfig{Identity: role + "@" + tenant, Role: role, SHA256: HashToken(tenantToken(role, tenant)), Tenants: names})
		}
	}
	return c
}

func asTenant(role, tenant string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tenantToken(role, tenant))
}

// target is what a call in the matrix names: its caller's tenant, the
// other tenant, or no tenant at all.
type target int

const (
	own target = iota
	other
	unfiltered
)

func (t target) String() string { return [...]string{"own", "other", "unfiltered"}[t] }

// seen is what an allowed call returned, to check that nothing of another
// tenant came back: record tenants, consent scopes, and anything else
// (access-log targets and reasons, bundle lines) as text.
type seen struct {
	tenants, scopes []string
	text            string
	verifyRecords   int64
}

type tenantFixture struct {
	ownID, otherID string // a record of ta, one of tb
}

// callScoped calls method naming tgt (acme's or globex's data, or none).
func callScoped(ctx context.Context, c consentryv1.AuditServiceClient, method string, tgt target, fx tenantFixture) (seen, error) {
	var s seen
	rec, scope, id := "ta", "acme", fx.ownID
	switch tgt {
	case other:
		rec, scope, id = "tb", "globex", fx.otherID
	case unfiltered:
		rec, scope = "", ""
	}
	addRecs := func(rs []*consentryv1.QuarantinedRecord) {
		for _, r := range rs {
			s.tenants = append(s.tenants, r.Tenant)
		}
	}
	switch method {
	case "ListQuarantinedRecords":
		r, err := c.ListQuarantinedRecords(ctx, &consentryv1.ListQuarantinedRecordsRequest{Tenant: rec})
		if err != nil {
			return s, err
		}
		addRecs(r.Records)
	case "GetQuarantinedRecord":
		r, err := c.GetQuarantinedRecord(ctx, &consentryv1.GetQuarantinedRecordRequest{Id: id, Reason: "matrix"})
		if err != nil {
			return s, err
		}
		addRecs([]*consentryv1.QuarantinedRecord{r.Record})
	case "GetStats":
		r, err := c.GetStats(ctx, &consentryv1.GetStatsRequest{Tenant: rec})
		if err != nil {
			return s, err
		}
		for _, bt := range r.ByTenant {
			s.tenants = append(s.tenants, bt.Key)
		}
		s.verifyRecords = r.Total
	case "VerifyLedger":
		r, err := c.VerifyLedger(ctx, &consentryv1.VerifyLedgerRequest{})
		if err != nil {
			return s, err
		}
		s.verifyRecords = r.Records
		b, _ := json.Marshal(r)
		s.text = string(b)
	case "ExportEvidence":
		st, err := c.ExportEvidence(ctx, &consentryv1.ExportEvidenceRequest{Reason: "matrix", Filter: &consentryv1.RecordFilter{Tenant: rec}})
		var buf bytes.Buffer
		for err == nil {
			var m *httpbodyAlias
			if m, err = st.Recv(); err == nil {
				buf.Write(m.Data)
				buf.WriteByte('\n')
			}
		}
		if !errors.Is(err, io.EOF) {
			return s, err
		}
		rep, verr := evidence.Verify(bytes.NewReader(buf.Bytes()), evidence.Options{})
		if verr != nil || !rep.OK {
			return s, status.Errorf(codes.Internal, "the bundle does not verify: %v %v", verr, rep)
		}
		exported := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rl evidence.RecordLine
			if json.Unmarshal([]byte(line), &rl) == nil && rl.Type == evidence.TypeRecord {
				s.tenants = append(s.tenants, rl.Meta.Tenant)
				exported[rl.Meta.ID] = true
				continue
			}
			s.text += line + "\n"
			// Chain entries carry their content only for the exported
			// records and ledger-wide events (bodies are base64: look at
			// the kinds).
			var cl evidence.ChainLine
			if json.Unmarshal([]byte(line), &cl) == nil && cl.Type == evidence.TypeChain {
				switch {
				case cl.Kind == evidence.Withheld && (cl.Ref != "" || cl.Body != nil || cl.Signature != nil):
					s.text += "LEAK: withheld entry with content\n"
				case cl.Kind == "record" && !exported[cl.Ref]:
					s.text += "LEAK: chain entry of a record not exported\n"
				case cl.Kind != "record" && cl.Kind != evidence.Withheld && cl.Kind != "purge" && cl.Kind != "rewrap":
					s.text += "LEAK: chain entry of kind " + cl.Kind + "\n"
				}
			}
		}
	case "RecordConsent":
		if tgt == unfiltered {
			scope = "acme"
		}
		_, err := c.RecordConsent(ctx, &consentryv1.RecordConsentRequest{
			Subject: &consentryv1.Subject{Tenant: scope, SubjectKey: "s-matrix"}, Status: "granted", Purposes: []string{"essential.service"}})
		if err != nil {
			return s, err
		}
	case "ListConsents":
		r, err := c.ListConsents(ctx, &consentryv1.ListConsentsRequest{Tenant: scope})
		if err != nil {
			return s, err
		}
		for _, cs := range r.Consents {
			s.scopes = append(s.scopes, cs.Tenant)
		}
	case "ReleaseRecords":
		req := &consentryv1.ReleaseRecordsRequest{DryRun: true, Reason: "matrix"}
		if tgt == unfiltered {
			req.Filter = &consentryv1.RecordFilter{Reason: "consent_missing"}
		} else {
			req.Subject = &consentryv1.Subject{Tenant: rec, SubjectKey: "s-" + rec}
		}
		r, err := c.ReleaseRecords(ctx, req)
		if err != nil {
			return s, err
		}
		for _, o := range r.Outcomes {
			s.text += o.RecordId + "\n"
		}
	case "Purge":
		_, err := c.Purge(ctx, &consentryv1.PurgeRequest{OlderThan: timestamppb.New(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)), Reason: "matrix"})
		return s, err
	case "EraseSubject":
		if tgt == unfiltered {
			rec = "ta"
		}
		_, err := c.EraseSubject(ctx, &consentryv1.EraseSubjectRequest{Subject: &consentryv1.Subject{Tenant: rec, SubjectKey: "s-gone"}, Reason: "matrix"})
		return s, err
	case "ListAccessLog":
		r, err := c.ListAccessLog(ctx, &consentryv1.ListAccessLogRequest{PageSize: 1000})
		if err != nil {
			return s, err
		}
		for _, e := range r.Entries {
			s.text += e.Target + " " + e.Reason + "\n"
		}
	default:
		panic("no call for " + method)
	}
	return s, nil
}

// namesTenant reports whether a method's request can name a tenant (or a
// record of one); the others only have the unfiltered form.
func namesTenant(method string) bool {
	switch method {
	case "VerifyLedger", "ListAccessLog", "Purge":
		return false
	}
	return true
}

// TestAuthorisationMatrixTenants adds the tenant dimension to the
// authorisation matrix: every method, as every role, limited to one tenant
// or of every tenant, naming the caller's tenant, another tenant, or none.
// Nothing is allowed that the role and tenant rules do not allow; what an
// allowed call returns holds nothing of another tenant; every attempt is
// in the access log, and the attempts on a tenant are visible to that
// tenant's auditor.
func TestAuthorisationMatrixTenants(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnvWith(t, b, func(o *Options) { o.Auth, o.Tenants = tenantAuth(), testTenants })
		ctx := context.Background()
		fx := tenantFixture{ownID: appendRecords(t, e.l, "ta", "s-ta", 2)[0], otherID: appendRecords(t, e.l, "tb", "s-tb", 2)[0]}
		appendRecords(t, e.l, "ta2", "s-ta2", 1)
		for _, c := range []ledger.Consent{
			{Tenant: "acme", SubjectKey: "s-ta", Status: ledger.ConsentDenied, Purposes: []string{"p"}},
			{Tenant: "globex", SubjectKey: "s-tb", Status: ledger.ConsentDenied, Purposes: []string{"p"}},
		} {
			if _, _, err := e.l.PutConsent(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		// Something of globex's in the access log and the chain.
		if _, err := e.client.EraseSubject(asTenant("custodian", "globex"), &consentryv1.EraseSubjectRequest{
			Subject: &consentryv1.Subject{Tenant: "tb", SubjectKey: "s-tb-erased"}, Reason: "globex erasure 77"}); err != nil {
			t.Fatal(err)
		}
		before := len(allAccess(t, e.l))

		type attempt struct {
			method, caller string
			tgt            target
			allowed        bool
		}
		var attempts []attempt
		for _, m := range allMethods() {
			spec := methodSpecs[servicePrefix+m]
			for _, role := range []string{"auditor", "investigator", "custodian", "admin"} {
				for _, tenant := range []string{"acme", "all"} {
					for _, tgt := range []target{own, other, unfiltered} {
						if tgt != unfiltered && !namesTenant(m) {
							continue
						}
						allowed := roleRank[role] >= spec.min &&
							(tenant == "all" || tgt != other && !spec.allTenants)
						got, err := callScoped(asTenant(role, tenant), e.client, m, tgt, fx)
						what := m + " as " + role + "@" + tenant + " naming " + tgt.String()
						switch {
						case !allowed && status.Code(err) != codes.PermissionDenied:
							t.Errorf("%s: %v, want PermissionDenied", what, err)
						case allowed && err != nil:
							t.Errorf("%s: %v, want OK", what, err)
						case allowed && tenant == "acme":
							checkNothingOfGlobex(t, what, got, fx)
						}
						attempts = append(attempts, attempt{m, role + "@" + tenant, tgt, allowed})
					}
				}
			}
		}

		entries := allAccess(t, e.l)
		entries = entries[:len(entries)-before] // newest first; the matrix's
		if len(entries) != len(attempts) {
			t.Fatalf("%d access-log entries for %d attempts", len(entries), len(attempts))
		}
		slices.Reverse(entries)
		var deniedOnGlobex []string
		for i, a := range attempts {
			got := entries[i]
			if got.Method != a.method || got.Identity != a.caller {
				t.Errorf("entry %d: %s by %s, want %s by %s", i, got.Method, got.Identity, a.method, a.caller)
			}
			if a.allowed != strings.HasPrefix(got.Result, "ok") {
				t.Errorf("entry %d (%s as %s naming %s): result %q", i, a.method, a.caller, a.tgt, got.Result)
			}
			if !a.allowed && a.tgt == other {
				deniedOnGlobex = append(deniedOnGlobex, got.ID)
			}
			ts, ok := targetTenants(got.Target)
			if !ok || len(ts) == 0 {
				t.Errorf("entry %d (%s): target does not say which tenants it concerned: %q", i, a.method, got.Target)
			}
		}
		// globex's auditor sees every attempt on globex, by acme's people
		// included, and nothing of acme's own calls.
		var globexSees []string
		tok := ""
		for {
			p, err := e.client.ListAccessLog(asTenant("auditor", "globex"), &consentryv1.ListAccessLogRequest{PageSize: 100, PageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range p.Entries {
				globexSees = append(globexSees, en.Id)
				if strings.Contains(en.Target, `"ta"`) || strings.Contains(en.Target, "acme") {
					t.Errorf("globex's auditor sees acme's tenant: %+v", en)
				}
			}
			if tok = p.NextPageToken; tok == "" {
				break
			}
		}
		for _, id := range deniedOnGlobex {
			if !slices.Contains(globexSees, id) {
				t.Errorf("the denied attempt %s on globex is not in globex's access log", id)
			}
		}
		if rep, err := e.l.Verify(ctx); err != nil || !rep.OK {
			t.Fatalf("verify after the matrix: %+v %v", rep, err)
		}
	})
}

func checkNothingOfGlobex(t *testing.T, what string, got seen, fx tenantFixture) {
	t.Helper()
	for _, tn := range got.tenants {
		if tn != "ta" && tn != "ta2" {
			t.Errorf("%s: returned records of tenant %q", what, tn)
		}
	}
	for _, sc := range got.scopes {
		if sc != "acme" {
			t.Errorf("%s: returned consent of scope %q", what, sc)
		}
	}
	for _, leak := range []string{fx.otherID, `"tb"`, "globex", "s-tb", "LEAK"} {
		if strings.Contains(got.text, leak) {
			t.Errorf("%s: the answer holds %q:\n%s", what, leak, got.text)
		}
	}
	if strings.HasPrefix(what, "VerifyLedger") && got.verifyRecords != 3 {
		t.Errorf("%s: %d records, want acme's 3", what, got.verifyRecords)
	}
	if strings.HasPrefix(what, "GetStats") && strings.HasSuffix(what, "unfiltered") && got.verifyRecords != 3 {
		t.Errorf("%s: total %d, want acme's 3", what, got.verifyRecords)
	}
}
