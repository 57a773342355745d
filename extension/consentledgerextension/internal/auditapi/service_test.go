package auditapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	consentryv1 "github.com/consentry/consentry/api/consentry/v1"
	"github.com/consentry/consentry/internal/evidence"
	"github.com/consentry/consentry/internal/ledger"
)

var roleRank = map[string]Role{"": RoleNone, "invalid": RoleNone, "auditor": RoleAuditor, "investigator": RoleInvestigator, "custodian": RoleCustodian, "admin": RoleAdmin}

// callMethod calls one method with a plausible request and returns the
// status code.
func callMethod(ctx context.Context, c consentryv1.AuditServiceClient, method, recordID string) error {
	var err error
	switch method {
	case "ListQuarantinedRecords":
		_, err = c.ListQuarantinedRecords(ctx, &consentryv1.ListQuarantinedRecordsRequest{Tenant: "t1"})
	case "GetQuarantinedRecord":
		_, err = c.GetQuarantinedRecord(ctx, &consentryv1.GetQuarantinedRecordRequest{Id: recordID, Reason: "matrix"})
	case "GetStats":
		_, err = c.GetStats(ctx, &consentryv1.GetStatsRequest{})
	case "VerifyLedger":
		_, err = c.VerifyLedger(ctx, &consentryv1.VerifyLedgerRequest{})
	case "ExportEvidence":
		var st grpc.ServerStreamingClient[httpbodyAlias]
		st, err = c.ExportEvidence(ctx, &consentryv1.ExportEvidenceRequest{Reason: "matrix", Filter: &consentryv1.RecordFilter{Tenant: "t1"}})
		for err == nil {
			_, err = st.Recv()
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
	case "RecordConsent":
		_, err = c.RecordConsent(ctx, &consentryv1.RecordConsentRequest{
			Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: "s-matrix"}, Status: "granted", Purposes: []string{"essential.service"}})
	case "ListConsents":
		_, err = c.ListConsents(ctx, &consentryv1.ListConsentsRequest{Tenant: "t1"})
	case "ReleaseRecords":
		_, err = c.ReleaseRecords(ctx, &consentryv1.ReleaseRecordsRequest{Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: "s-none"}, DryRun: true, Reason: "matrix"})
	case "Purge":
		_, err = c.Purge(ctx, &consentryv1.PurgeRequest{OlderThan: timestamppb.New(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)), Reason: "matrix"})
	case "EraseSubject":
		_, err = c.EraseSubject(ctx, &consentryv1.EraseSubjectRequest{Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: "s-gone"}, Reason: "matrix"})
	case "ListAccessLog":
		_, err = c.ListAccessLog(ctx, &consentryv1.ListAccessLogRequest{})
	default:
		panic("no call for " + method)
	}
	return err
}

func allMethods() []string {
	var out []string
	for _, m := range consentryv1.AuditService_ServiceDesc.Methods {
		out = append(out, m.MethodName)
	}
	for _, m := range consentryv1.AuditService_ServiceDesc.Streams {
		out = append(out, m.StreamName)
	}
	slices.Sort(out)
	return out
}

func allAccess(t *testing.T, l *ledger.Ledger) []ledger.AccessEntry {
	t.Helper()
	var out []ledger.AccessEntry
	tok := ""
	for {
		p, err := l.ListAccess(context.Background(), ledger.AccessFilter{}, ledger.Page{Size: 1000, Token: tok})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Entries...)
		if tok = p.NextToken; tok == "" {
			return out
		}
	}
}

// TestAuthorisationMatrix calls every method as every role, without a
// token and with an unknown token: nothing is allowed that the role table
// does not allow, everything it allows gets through authorisation, and
// every attempt is in the access log with its identity and result.
func TestAuthorisationMatrix(t *testing.T) {
	e := newEnv(t, backends[0])
	ids := appendRecords(t, e.l, "t1", "s-1", 2)
	callers := []string{"", "invalid", "auditor", "investigator", "custodian", "admin"}
	type attempt struct{ method, caller string }
	var attempts []attempt
	for _, m := range allMethods() {
		spec := methodSpecs[servicePrefix+m]
		for _, who := range callers {
			err := callMethod(as(who), e.client, m, ids[0])
			code := status.Code(err)
			allowed := roleRank[who] >= spec.min
			switch {
			case who == "" || who == "invalid":
				if code != codes.Unauthenticated {
					t.Errorf("%s as %q: %v, want Unauthenticated", m, who, err)
				}
			case !allowed:
				if code != codes.PermissionDenied {
					t.Errorf("%s as %s: %v, want PermissionDenied", m, who, err)
				}
			default:
				if code != codes.OK {
					t.Errorf("%s as %s: %v, want OK", m, who, err)
				}
			}
			attempts = append(attempts, attempt{m, who})
		}
	}
	// Authenticated attempts are logged one by one; unauthenticated ones
	// are aggregated per source and window (written at Close here).
	entries := allAccess(t, e.l)
	var authed []attempt
	unauth := map[string]int64{}
	for _, a := range attempts {
		if a.caller == "" || a.caller == "invalid" {
			unauth[a.method]++
		} else {
			authed = append(authed, a)
		}
	}
	if len(entries) != len(authed) {
		t.Fatalf("%d access-log entries for %d authenticated attempts", len(entries), len(authed))
	}
	slices.Reverse(entries) // oldest first, like attempts
	for i, a := range authed {
		got := entries[i]
		wantID := a.caller + "@example.org"
		if got.Method != a.method || got.Identity != wantID {
			t.Errorf("entry %d: %s by %s, want %s by %s", i, got.Method, got.Identity, a.method, wantID)
		}
		allowed := roleRank[a.caller] >= methodSpecs[servicePrefix+a.method].min
		if allowed != strings.HasPrefix(got.Result, "ok") {
			t.Errorf("entry %d (%s as %q): result %q", i, a.method, a.caller, got.Result)
		}
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	entries = allAccess(t, e.l)
	if len(entries) != len(authed)+1 {
		t.Fatalf("%d entries after the unauthenticated attempts were written, want %d", len(entries), len(authed)+1)
	}
	agg := entries[0]
	var target struct {
		Denied     int64            `json:"denied"`
		Methods    map[string]int64 `json:"methods"`
		Identities []string         `json:"identities"`
	}
	if err := json.Unmarshal([]byte(agg.Target), &target); err != nil || !strings.HasPrefix(agg.Result, "denied: Unauthenticated") ||
		target.Denied != int64(len(attempts)-len(authed)) || !maps.Equal(target.Methods, unauth) || len(target.Identities) != 2 {
		t.Errorf("aggregated entry of the unauthenticated attempts: %+v (%v)", agg, err)
	}
	for i, got := range entries {
		if strings.Contains(got.Identity+got.Target+got.Result, "tok-") || strings.Contains(got.Identity+got.Target, "not-a-known-token") {
			t.Errorf("entry %d leaks a token: %+v", i, got)
		}
	}
	if rep, err := e.l.Verify(context.Background()); err != nil || !rep.OK {
		t.Fatalf("verify after the matrix: %+v %v", rep, err)
	}
}

func TestInterceptorsRequired(t *testing.T) {
	l := openLedger(t, backends[0])
	svc, err := New(Options{Ledger: l, Auth: testAuth()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	// Calling the implementation directly, as a server without the
	// interceptors would, is refused.
	_, err = svc.impl.ListQuarantinedRecords(context.Background(), &consentryv1.ListQuarantinedRecordsRequest{})
	if status.Code(err) != codes.Internal {
		t.Fatalf("without interceptors: %v", err)
	}
}

func TestAuthenticationMessages(t *testing.T) {
	e := newEnv(t, backends[0])
	for _, c := range []struct {
		auth string
		want string
	}{
		{"", "missing credentials"},
		{"Basic abc", "malformed Authorization header"},
		{"Bearer ", "malformed Authorization header"},
		{"Bearer nope", "not valid"},
		{"Bearer " + strings.Repeat("x", maxTokenLen+1), "too long"},
	} {
		ctx := context.Background()
		if c.auth != "" {
			ctx = metadataCtx(c.auth)
		}
		_, err := e.client.GetStats(ctx, &consentryv1.GetStatsRequest{})
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(status.Convert(err).Message(), c.want) {
			t.Errorf("%q: %v, want Unauthenticated with %q", c.auth, err, c.want)
		}
		if strings.Contains(status.Convert(err).Message(), "nope") {
			t.Errorf("message echoes the token: %v", err)
		}
	}
	_, err := e.client.EraseSubject(as("auditor"), &consentryv1.EraseSubjectRequest{})
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "auditor@example.org") || !strings.Contains(msg, "custodian") {
		t.Errorf("permission message: %q", msg)
	}
}

// TestAuditorFlow: records are quarantined, listed, one is read with a
// reason, consent is recorded, release forwards that subject's records and
// marks them, verification passes, an exported bundle verifies offline,
// and erasing a subject makes its payloads unreadable while the chain
// still verifies.
func TestAuditorFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		idsA := appendRecords(t, e.l, "t1", "key-t1-15551230001", 3)
		appendRecords(t, e.l, "t1", "s-b", 2)
		appendRecords(t, e.l, "t2", "s-c", 1)

		list, err := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{Tenant: "t1", PageSize: 2})
		if err != nil || len(list.Records) != 2 || list.NextPageToken == "" {
			t.Fatalf("list page 1: %v %v", list, err)
		}
		list2, err := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{Tenant: "t1", PageSize: 2, PageToken: list.NextPageToken})
		if err != nil || len(list2.Records) != 2 {
			t.Fatalf("list page 2: %v %v", list2, err)
		}
		if _, err := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{PageToken: "garbage"}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("bad page token: %v", err)
		}

		if _, err := e.client.GetQuarantinedRecord(as("investigator"), &consentryv1.GetQuarantinedRecordRequest{Id: idsA[0]}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("read without a reason: %v", err)
		}
		got, err := e.client.GetQuarantinedRecord(as("investigator"), &consentryv1.GetQuarantinedRecordRequest{Id: idsA[0], Reason: "case 42"})
		if err != nil || !strings.Contains(got.PayloadJson, "secret words of key-t1-15551230001") || got.Record.Id != idsA[0] {
			t.Fatalf("read: %v %v", got, err)
		}
		if _, err := e.client.GetQuarantinedRecord(as("investigator"), &consentryv1.GetQuarantinedRecordRequest{Id: "01NOPE", Reason: "x"}); status.Code(err) != codes.NotFound {
			t.Fatalf("missing record: %v", err)
		}
		acc, err := e.l.ListAccess(ctx, ledger.AccessFilter{Method: "GetQuarantinedRecord"}, ledger.Page{})
		if err != nil || !slices.ContainsFunc(acc.Entries, func(a ledger.AccessEntry) bool {
			return a.Reason == "case 42" && strings.Contains(a.Target, idsA[0]) && a.Identity == "investigator@example.org"
		}) {
			t.Fatalf("read not in the access log with its reason: %+v %v", acc, err)
		}

		// Consent by raw identifier: the server derives the key.
		rc, err := e.client.RecordConsent(as("custodian"), &consentryv1.RecordConsentRequest{
			Subject: &consentryv1.Subject{Tenant: "t1", RawIdentifier: "+15551230001"}, Status: "granted",
			Purposes: []string{"essential.service"}, NoticeId: "notice-7", Reason: "signed form",
		})
		if err != nil || rc.SubjectKey != "key-t1-15551230001" {
			t.Fatalf("record consent: %v %v", rc, err)
		}
		cl, err := e.client.ListConsents(as("investigator"), &consentryv1.ListConsentsRequest{Tenant: "t1", RawIdentifier: "+15551230001"})
		if err != nil || len(cl.Consents) != 1 || cl.Consents[0].Caller != "custodian@example.org" || cl.Consents[0].Source != "api" {
			t.Fatalf("list consents: %v %v", cl, err)
		}
		// An opt back in to sale and sharing needs no purposes; other
		// statuses do; unknown statuses are refused.
		if _, err := e.client.RecordConsent(as("custodian"), &consentryv1.RecordConsentRequest{
			Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: "key-optin"}, Status: "opted_in", Reason: "customer asked"}); err != nil {
			t.Fatalf("opted_in: %v", err)
		}
		for st, want := range map[string]codes.Code{"granted": codes.InvalidArgument, "opted_out": codes.OK, "opt_in": codes.InvalidArgument} {
			_, err := e.client.RecordConsent(as("custodian"), &consentryv1.RecordConsentRequest{
				Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: "key-optin"}, Status: st, Reason: "x"})
			if status.Code(err) != want {
				t.Fatalf("status %s without purposes: %v, want %s", st, err, want)
			}
		}
		acc, _ = e.l.ListAccess(ctx, ledger.AccessFilter{Method: "RecordConsent"}, ledger.Page{})
		for _, a := range acc.Entries {
			if strings.Contains(a.Target, "15551230001") && !strings.Contains(a.Target, "key-t1") {
				t.Fatalf("raw identifier in the access log: %q", a.Target)
			}
		}

		// Dry run: eligible, nothing forwarded or marked.
		dry, err := e.client.ReleaseRecords(as("custodian"), &consentryv1.ReleaseRecordsRequest{
			Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: rc.SubjectKey}, DryRun: true, Reason: "consent arrived"})
		if err != nil || dry.Evaluated != 3 || dry.Eligible != 3 || dry.Forwarded != 0 || dry.Released != 0 || len(e.releaser.forwarded) != 0 {
			t.Fatalf("dry run: %v %v", dry, err)
		}
		rel, err := e.client.ReleaseRecords(as("custodian"), &consentryv1.ReleaseRecordsRequest{
			Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: rc.SubjectKey}, Reason: "consent arrived"})
		if err != nil || rel.Forwarded != 3 || rel.Released != 3 || len(e.releaser.forwarded) != 3 {
			t.Fatalf("release: %v %v (forwarded %v)", rel, err, e.releaser.forwarded)
		}
		// Subject b has no consent: evaluated, not released.
		relB, err := e.client.ReleaseRecords(as("custodian"), &consentryv1.ReleaseRecordsRequest{
			Filter: &consentryv1.RecordFilter{Tenant: "t1"}, Reason: "sweep"})
		if err != nil || relB.Evaluated != 2 || relB.Released != 0 || relB.Outcomes[0].Decision != "quarantine" {
			t.Fatalf("release b: %v %v", relB, err)
		}
		released, err := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{Released: "released"})
		if err != nil || len(released.Records) != 3 || released.Records[0].ReleasedAt == nil {
			t.Fatalf("released records: %v %v", released, err)
		}

		stats, err := e.client.GetStats(as("auditor"), &consentryv1.GetStatsRequest{Tenant: "t1"})
		if err != nil || stats.Total != 5 || len(stats.ByVendor) != 1 || stats.ByVendor[0].Count != 5 {
			t.Fatalf("stats: %v %v", stats, err)
		}

		ver, err := e.client.VerifyLedger(as("auditor"), &consentryv1.VerifyLedgerRequest{Checkpoint: true})
		if err != nil || !ver.Ok || ver.Records != 6 {
			t.Fatalf("verify: %v %v", ver, err)
		}

		rep := exportAndVerify(t, e.client, &consentryv1.ExportEvidenceRequest{Filter: &consentryv1.RecordFilter{Tenant: "t1"}, Reason: "regulator request"}, ver.PublicKey)
		if rep.Records != 5 || rep.Anchored != 5 {
			t.Fatalf("bundle: %+v", rep)
		}

		// Erase subject b (by key): payloads unreadable, chain verifies.
		er, err := e.client.EraseSubject(as("custodian"), &consentryv1.EraseSubjectRequest{
			Subject: &consentryv1.Subject{Tenant: "t1", SubjectKey: "s-b"}, Reason: "erasure request 9"})
		if err != nil || er.KeysDestroyed == 0 || er.Records != 2 {
			t.Fatalf("erase: %v %v", er, err)
		}
		listB, _ := e.client.ListQuarantinedRecords(as("auditor"), &consentryv1.ListQuarantinedRecordsRequest{SubjectKey: "s-b"})
		for _, r := range listB.Records {
			_, err := e.client.GetQuarantinedRecord(as("investigator"), &consentryv1.GetQuarantinedRecordRequest{Id: r.Id, Reason: "after erasure"})
			if status.Code(err) != codes.FailedPrecondition || !hasReason(err, reasonErased) {
				t.Fatalf("read erased record: %v", err)
			}
			if !r.Erased {
				t.Fatalf("listed erased record not marked erased: %v", r)
			}
		}
		ver, err = e.client.VerifyLedger(as("auditor"), &consentryv1.VerifyLedgerRequest{})
		if err != nil || !ver.Ok || ver.Erased != 2 {
			t.Fatalf("verify after erasure: %v %v", ver, err)
		}
		rep = exportAndVerify(t, e.client, &consentryv1.ExportEvidenceRequest{Filter: &consentryv1.RecordFilter{Tenant: "t1"}, IncludePayloads: true, Reason: "after erasure"}, ver.PublicKey)
		if rep.Unreadable["erased"] != 2 || rep.WithPayload != 3 {
			t.Fatalf("bundle after erasure: %+v", rep)
		}

		pr, err := e.client.Purge(as("custodian"), &consentryv1.PurgeRequest{OlderThan: timestamppb.New(time.Now().Add(time.Second)), Reason: "x"})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("purge into the future: %v %v", pr, err)
		}
	})
}

func hasReason(err error, reason string) bool {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok && i.Reason == reason {
			return true
		}
	}
	return false
}

func exportAndVerify(t *testing.T, c consentryv1.AuditServiceClient, req *consentryv1.ExportEvidenceRequest, pubHex string) *evidence.Report {
	t.Helper()
	st, err := c.ExportEvidence(as("investigator"), req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(m.Data)
		buf.WriteByte('\n')
	}
	pub, err := hexKey(pubHex)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evidence.Verify(&buf, evidence.Options{PublicKeys: pub})
	if err != nil || !rep.OK {
		t.Fatalf("bundle does not verify: %v %+v", err, rep)
	}
	return rep
}

func TestREST(t *testing.T) {
	r := newRESTEnv(t, Options{})
	e := r.env
	ids := appendRecords(t, e.l, "t1", "s-1", 2)
	do := func(method, path, token, body string) (*http.Response, []byte) {
		t.Helper()
		return r.do(t, method, path, token, body)
	}

	resp, body := do("GET", "/v1/quarantine/records", "", "")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" || !strings.Contains(string(body), "missing credentials") {
		t.Fatalf("unauthenticated list: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do("GET", "/openapi.json", "", "")
	if resp.StatusCode != 200 || !json.Valid(body) || !strings.Contains(string(body), "/v1/quarantine/records") {
		t.Fatalf("openapi: %d", resp.StatusCode)
	}
	resp, body = do("GET", "/v1/quarantine/records?tenant=t1&page_size=1", roleTokens["auditor"], "")
	var list struct {
		Records []struct {
			ID      string `json:"id"`
			Payload any    `json:"payload"`
		} `json:"records"`
		Next string `json:"next_page_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &list) != nil || len(list.Records) != 1 || list.Next == "" || list.Records[0].Payload != nil {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/v1/quarantine/records/" + ids[0] + "?reason=case+1", roleTokens["auditor"], "", 403},
		{"GET", "/v1/quarantine/records/" + ids[0], roleTokens["investigator"], "", 400},
		{"GET", "/v1/quarantine/records/" + ids[0] + "?reason=case+1", roleTokens["investigator"], "", 200},
		{"GET", "/v1/quarantine/records/01NOPE?reason=x", roleTokens["investigator"], "", 404},
		{"GET", "/v1/quarantine/records?released=maybe", roleTokens["auditor"], "", 400},
		{"GET", "/v1/quarantine/records?stored_from=yesterday", roleTokens["auditor"], "", 400},
		{"GET", "/v1/quarantine/stats", "wrong-token", "", 401},
		{"POST", "/v1/ledger:verify", roleTokens["auditor"], `{}`, 200},
		{"POST", "/v1/consents", roleTokens["custodian"], `{"subject":{"tenant":"t1","subject_key":"s-1"},"status":"granted","purposes":["essential.service"]}`, 200},
		{"POST", "/v1/consents", roleTokens["custodian"], `{"subject":{"tenant":"t1","subject_key":"s-1"},"status":"maybe","purposes":["x"]}`, 400},
		{"POST", "/v1/consents", roleTokens["custodian"], `{"subjekt":{}}`, 400},
		{"GET", "/v1/consents?tenant=t1&subject_key=s-1", roleTokens["auditor"], "", 200},
		{"POST", "/v1/subjects:erase", roleTokens["custodian"], `{"subject":{"tenant":"t1","subject_key":"s-1"},"reason":"request 5"}`, 200},
		{"GET", "/v1/quarantine/records/" + ids[1] + "?reason=after", roleTokens["investigator"], "", 410},
		{"GET", "/v1/access-log?method=GetQuarantinedRecord", roleTokens["auditor"], "", 200},
		{"GET", "/v1/no-such-thing", roleTokens["auditor"], "", 404},
		// Authentication comes before the gateway's own validation.
		{"POST", "/v1/consents", "", `{"subjekt":{}}`, 401},
	} {
		resp, body := do(c.method, c.path, c.token, c.body)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, body, c.want)
		}
	}

	// Export over REST: the body is the NDJSON bundle itself.
	resp, body = do("POST", "/v1/evidence:export", roleTokens["investigator"], `{"filter":{"tenant":"t1"},"reason":"audit"}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-ndjson") {
		t.Fatalf("export: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	rep, err := evidence.Verify(bytes.NewReader(body), evidence.Options{})
	if err != nil || !rep.OK || rep.Records != 2 || rep.Unreadable["erased"] != 0 {
		t.Fatalf("REST bundle: %v %+v", err, rep)
	}
	// Every authenticated REST call is in the access log under its HTTP
	// caller; the three unauthenticated ones in one entry for their source.
	acc := allAccess(t, e.l)
	if len(acc) != 16 { // every call above but /openapi.json, the unknown path and the unauthenticated ones
		t.Fatalf("%d access entries", len(acc))
	}
	if acc[0].Method != "ExportEvidence" || acc[0].Identity != "investigator@example.org" || acc[0].Reason != "audit" {
		t.Fatalf("newest access entry: %+v", acc[0])
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	acc = allAccess(t, e.l)
	if len(acc) != 17 || acc[0].Result != "denied: Unauthenticated (3 calls)" || !strings.Contains(acc[0].Target, `"source":"127.0.0.1"`) {
		t.Fatalf("aggregated unauthenticated REST calls: %d entries, newest %+v", len(acc), acc[0])
	}
}
