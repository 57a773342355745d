package auditapi

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ledger"
)

// TestCSVListings: the record, consent and access-log listings answer CSV
// (format=csv or Accept: text/csv): a header row of the fields and every
// row of every page, each page an authorised, logged call; errors before
// the first row are the usual JSON; spreadsheet formulas are defused.
func TestCSVListings(t *testing.T) {
	r := newRESTEnv(t, Options{DenialWindow: time.Hour})
	ids := appendRecords(t, r.l, "t1", "s-1", 5)
	appendRecords(t, r.l, "t2", "s-2", 1)
	if _, _, err := r.l.PutConsent(context.Background(), ledger.Consent{Tenant: "t1", SubjectKey: "s-1", Status: ledger.ConsentGranted,
		Purposes: []string{"a", "b"}, Details: []byte(`=HYPERLINK("http://evil.example")`)}); err != nil {
		t.Fatal(err)
	}
	read := func(path string, accept string) (*http.Response, [][]string, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, r.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+roleTokens["auditor"])
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var sb strings.Builder
		rows, err := csv.NewReader(teeReader{resp.Body, &sb}).ReadAll()
		if err != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("GET %s: not CSV: %v", path, err)
		}
		return resp, rows, sb.String()
	}

	before := len(allAccess(t, r.l))
	resp, rows, _ := read("/v1/quarantine/records?tenant=t1&page_size=2&format=csv", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || len(rows) != 6 {
		t.Fatalf("records: %d %s, %d rows", resp.StatusCode, resp.Header.Get("Content-Type"), len(rows))
	}
	if rows[0][0] != "id" || !slices.Contains(rows[0], "reasons") || !slices.Contains(rows[0], "subject_key") {
		t.Errorf("header: %v", rows[0])
	}
	var got []string
	for _, row := range rows[1:] {
		got = append(got, row[0])
	}
	slices.Sort(got)
	if !slices.Equal(got, ids) {
		t.Errorf("rows %v, want %v", got, ids)
	}
	if n := len(allAccess(t, r.l)) - before; n != 3 {
		t.Errorf("%d access-log entries for an export of 3 pages, want 3", n)
	}

	resp, rows, _ = read("/v1/consents", "text/csv, application/json;q=0.5")
	if resp.StatusCode != http.StatusOK || len(rows) != 2 {
		t.Fatalf("consents by Accept: %d, %v", resp.StatusCode, rows)
	}
	details := slices.Index(rows[0], "details")
	purposes := slices.Index(rows[0], "purposes")
	if rows[1][details] != `'=HYPERLINK("http://evil.example")` || rows[1][purposes] != "a;b" {
		t.Errorf("consent row: %v", rows[1])
	}
	if resp, rows, _ = read("/v1/access-log?format=csv&method=ListConsents", ""); resp.StatusCode != http.StatusOK || len(rows) != 2 || rows[0][0] != "id" {
		t.Errorf("access log: %d %v", resp.StatusCode, rows)
	}

	// JSON still, and errors as JSON.
	if resp, _, body := read("/v1/consents?format=json", ""); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "{") {
		t.Errorf("format=json: %d %s", resp.StatusCode, body)
	}
	if resp, _, body := read("/v1/consents?format=xml", ""); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `format: \"xml\"`) {
		t.Errorf("format=xml: %d %s", resp.StatusCode, body)
	}
	if resp, _, body := read("/v1/quarantine/records?format=csv&tenat=t1", ""); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `\"tenat\"`) {
		t.Errorf("unknown parameter in a CSV export: %d %s", resp.StatusCode, body)
	}
	if resp, _, body := read("/v1/quarantine/records?format=csv&raw_identifier=%2B15551230001", ""); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":7`) {
		t.Errorf("auditor by raw identifier in a CSV export: %d %s", resp.StatusCode, body)
	}
	if resp, _ := r.do(t, http.MethodGet, "/v1/quarantine/records?format=csv", "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("CSV without a token: %d", resp.StatusCode)
	}
	if resp, _ := r.do(t, http.MethodGet, "/v1/quarantine/stats?format=csv", roleTokens["auditor"], ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("format on a route without CSV: %d", resp.StatusCode)
	}
}

type teeReader struct {
	r interface{ Read([]byte) (int, error) }
	w *strings.Builder
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.w.Write(p[:n])
	return n, err
}
