package e2e

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Every raw identifier (phone number, e-mail address, message text) and
// every token this test process sends, whatever the test, is recorded by
// the transport every HTTP client of the suite uses; when a test ends, the
// data directories of the collectors it started (the SQLite ledger's
// directory, WAL included, or the PostgreSQL schema) are searched for all
// of them, and any found fails the test with the file and byte offset (or
// the table, column and row). Identifiers the collector stores are
// encrypted or keyed hashes; tokens are stored as hashes, if at all.

// sentNeedles is what the suite has sent so far: needle -> where it was
// first seen (for the failure message).
var sentNeedles = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

// needleSecrets are the suite's tokens and secrets, some of which are only
// ever used to sign (so never sent) or sent by subprocesses: none may be
// under a data directory either.
var needleSecrets = []string{
	genesysKey, genesysSecret, twilioToken, twilioOld, segmentWriteKey, segmentShared,
	talkdeskToken, talkdeskURLToken, tdToken, tdLegacyToken,
	auditorToken, investigatorToken, custodianToken,
	acmeAuditorToken, acmeInvestigatorToken, acmeCustodianToken, globexAuditorToken, staffToken,
}

func init() {
	for _, s := range needleSecrets {
		addNeedle(s, "a token of the suite")
	}
	http.DefaultTransport = &recordingTransport{base: http.DefaultTransport}
}

func addNeedle(n, where string) {
	n = strings.TrimSpace(n)
	if len(n) < 6 {
		return // too short to mean anything when found
	}
	sentNeedles.Lock()
	defer sentNeedles.Unlock()
	if _, ok := sentNeedles.m[n]; !ok {
		sentNeedles.m[n] = where
	}
}

// needles returns every needle recorded so far, longest first.
func needles() map[string]string {
	sentNeedles.Lock()
	defer sentNeedles.Unlock()
	out := make(map[string]string, len(sentNeedles.m))
	for k, v := range sentNeedles.m {
		out[k] = v
	}
	return out
}

// recordingTransport records the identifiers and tokens of every request
// before sending it.
type recordingTransport struct{ base http.RoundTripper }

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	where := r.Method + " " + r.URL.Path
	for name, vs := range r.Header {
		for _, v := range vs {
			recordHeader(name, v, where)
		}
	}
	for _, vs := range r.URL.Query() {
		for _, v := range vs {
			recordText(v, where+" (query)")
		}
	}
	recordText(r.URL.Path, where+" (path)")
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		recordBody(r.Header.Get("Content-Type"), body, where)
	}
	return rt.base.RoundTrip(r)
}

// tokenHeaders carry credentials: their values are needles whole.
var tokenHeaders = map[string]bool{"X-Api-Key": true, "X-Consentry-Token": true}

func recordHeader(name, v, where string) {
	switch {
	case name == "Authorization":
		scheme, cred, _ := strings.Cut(v, " ")
		if strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				user, pass, _ := strings.Cut(string(dec), ":")
				addNeedle(user, where+" (basic auth)")
				addNeedle(pass, where+" (basic auth)")
			}
		}
		addNeedle(cred, where+" (authorization)")
	case tokenHeaders[name], strings.Contains(strings.ToLower(name), "token"):
		addNeedle(v, where+" ("+name+")")
	}
}

var (
	rePhone = regexp.MustCompile(`\+[1-9][0-9]{7,14}`)
	reEmail = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// Fields whose string values are what people wrote or said.
	textFields = map[string]bool{"text": true, "body": true, "message": true, "transcript": true,
		"content": true, "utterance": true, "transcriptiontext": true, "messagebody": true}
	reUUID = regexp.MustCompile(`^[0-9a-fA-F-]{32,36}$`)
)

// recordText records the phone numbers (E.164 and, for NANP numbers, the
// ten national digits) and e-mail addresses in s.
func recordText(s, where string) {
	for _, p := range rePhone.FindAllString(s, -1) {
		addNeedle(p, where+" (phone number)")
		if strings.HasPrefix(p, "+1") && len(p) == 12 {
			addNeedle(p[2:], where+" (phone number, national)")
		}
	}
	for _, e := range reEmail.FindAllString(s, -1) {
		addNeedle(e, where+" (e-mail address)")
	}
}

// recordMessage records a message text: what people wrote, long enough to
// be unmistakable.
func recordMessage(s, where string) {
	if len(s) < 12 || !strings.Contains(s, " ") || reUUID.MatchString(s) {
		return
	}
	addNeedle(s, where+" (message text)")
	if enc := url.QueryEscape(s); enc != s {
		addNeedle(enc, where+" (message text, form-encoded)")
	}
}

func recordBody(contentType string, body []byte, where string) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				for _, v := range vs {
					recordText(v, where)
					if textFields[strings.ToLower(k)] {
						recordMessage(v, where)
					}
				}
			}
			return
		}
	}
	recordText(string(body), where)
	var v any
	if json.Unmarshal(body, &v) == nil {
		walkJSON(v, "", where)
	}
}

// walkJSON records message texts, and identifiers in strings that are
// themselves JSON (Twilio Event Streams' data, for one).
func walkJSON(v any, key, where string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walkJSON(e, k, where)
		}
	case []any:
		for _, e := range x {
			walkJSON(e, key, where)
		}
	case string:
		if textFields[strings.ToLower(key)] {
			recordMessage(x, where)
		}
		var inner any
		if strings.HasPrefix(x, "{") && json.Unmarshal([]byte(x), &inner) == nil {
			walkJSON(inner, "", where)
		}
	}
}

var (
	reSQLitePath = regexp.MustCompile(`(?m)^\s*path:\s*"?(/[^"\s]+)"?\s*$`)
	reDSN        = regexp.MustCompile(`(?m)^\s*dsn:\s*"?([^"\s]+)"?\s*$`)
	reSchema     = regexp.MustCompile(`(?m)^\s*schema:\s*"?([^"\s]+)"?\s*$`)
)

// scanned is the data locations already set to be searched, per test.
var scanned = struct {
	sync.Mutex
	m map[*testing.T]map[string]bool
}{m: map[*testing.T]map[string]bool{}}

// searchDataAtCleanup arranges for the data directories of a collector's
// rendered configuration to be searched for every needle when the test
// ends (after its collectors stopped: cleanups run last-registered first,
// and this one is registered before the collector's).
func searchDataAtCleanup(t *testing.T, renderedConfig string) {
	t.Helper()
	var locations []ledgerBackend
	for _, m := range reSQLitePath.FindAllStringSubmatch(renderedConfig, -1) {
		if strings.HasSuffix(m[1], ".db") {
			locations = append(locations, ledgerBackend{name: "sqlite", dir: filepath.Dir(m[1])})
		}
	}
	if dsn, schema := reDSN.FindStringSubmatch(renderedConfig), reSchema.FindStringSubmatch(renderedConfig); dsn != nil && schema != nil {
		locations = append(locations, ledgerBackend{name: "postgres", dsn: dsn[1], schema: schema[1]})
	}
	scanned.Lock()
	defer scanned.Unlock()
	seen := scanned.m[t]
	if seen == nil {
		seen = map[string]bool{}
		scanned.m[t] = seen
		t.Cleanup(func() {
			scanned.Lock()
			delete(scanned.m, t)
			scanned.Unlock()
		})
	}
	for _, loc := range locations {
		id := loc.dir + loc.dsn + "/" + loc.schema
		if seen[id] {
			continue
		}
		seen[id] = true
		t.Cleanup(func() {
			if hits := loc.searchPlaintext(t); len(hits) > 0 {
				t.Errorf("raw identifiers or tokens sent by the suite found in the clear under the data directory:\n  %s", strings.Join(hits, "\n  "))
			} else {
				t.Logf("searched %s%s for the %d raw identifiers and tokens sent so far: none found", loc.dir, loc.schema, len(needles()))
			}
		})
	}
}

// searchPlaintext searches a ledger's data (SQLite: every file of its
// directory; PostgreSQL: every value of every table of its schema) for
// every needle recorded so far, ignoring case, and returns where each
// one found is.
func (b ledgerBackend) searchPlaintext(t *testing.T) []string {
	t.Helper()
	ns := needles()
	m := newMatcher(ns)
	var hits []string
	search := func(where string, data []byte) {
		m.each(data, func(n string, i int) {
			hits = append(hits, fmt.Sprintf("%q (sent in %s) in %s at offset %d", n, ns[n], where, i))
		})
	}
	if b.name == "sqlite" {
		err := filepath.WalkDir(b.dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			search(path, data)
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Errorf("searching %s: %v", b.dir, err)
		}
		sort.Strings(hits)
		return hits
	}
	db, err := sql.Open("pgx", b.dsn)
	if err != nil {
		t.Errorf("searching schema %s: %v", b.schema, err)
		return nil
	}
	defer db.Close()
	err = forEachValue(db, b.schema, search)
	if err != nil {
		t.Errorf("searching schema %s: %v", b.schema, err)
	}
	sort.Strings(hits)
	return hits
}

// forEachValue calls fn with every value of every row of every table of a
// PostgreSQL schema, named table.column[row].
func forEachValue(db *sql.DB, schema string, fn func(where string, data []byte)) error {
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, tbl := range tables {
		if err := forEachRow(db, schema, tbl, fn); err != nil {
			return err
		}
	}
	return nil
}

func forEachRow(db *sql.DB, schema, tbl string, fn func(where string, data []byte)) error {
	rows, err := db.Query(fmt.Sprintf(`SELECT * FROM %q.%q`, schema, tbl))
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for row := 0; rows.Next(); row++ {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			where := fmt.Sprintf("%s.%s.%s[row %d]", schema, tbl, cols[i], row)
			switch x := v.(type) {
			case []byte:
				fn(where, x)
			case string:
				fn(where, []byte(x))
			default:
				fn(where, []byte(fmt.Sprint(x)))
			}
		}
	}
	return rows.Err()
}

// TestPlaintextSearchFindsWhatWasSent: the suite-wide search is not
// vacuous: what a request carries (a phone number in the query and the
// body, an e-mail address, a message text, a bearer token) is recorded,
// and a data directory holding two of them fails with the file and offset.
func TestPlaintextSearchFindsWhatWasSent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	body := `{"from":"+14155550987","data":"{\"to\":\"probe.person@example.net\"}","text":"Please never store this sentence"}`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/probe?who=%2B447700900123", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer probe-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ns := needles()
	for _, n := range []string{"+14155550987", "4155550987", "probe.person@example.net", "Please never store this sentence", "+447700900123", "probe-token-0123456789"} {
		if _, ok := ns[n]; !ok {
			t.Errorf("%q was sent but not recorded", n)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ledger.db-wal"), []byte("..PLEASE never store this sentence..probe-token-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	hits := ledgerBackend{name: "sqlite", dir: dir}.searchPlaintext(t)
	want := []string{
		fmt.Sprintf("%q (sent in POST /probe (message text)) in %s at offset 2", "Please never store this sentence", filepath.Join(dir, "ledger.db-wal")),
		fmt.Sprintf("%q (sent in POST /probe (authorization)) in %s at offset 36", "probe-token-0123456789", filepath.Join(dir, "ledger.db-wal")),
	}
	if strings.Join(hits, "\n") != strings.Join(want, "\n") {
		t.Errorf("hits:\n%s\nwant:\n%s", strings.Join(hits, "\n"), strings.Join(want, "\n"))
	}
}

// matcher finds, ignoring ASCII case, the first occurrence of each of many
// needles in data in one pass per needle length (Rabin-Karp): a soak's
// thousands of phone numbers and e-mail addresses against a ledger of
// tens of megabytes in seconds.
type matcher struct {
	byLen map[int]map[uint64][]string // length -> rolling hash -> needles (lower case)
	orig  map[string]string           // lower case -> as recorded
}

const rkBase = 1099511628211

func newMatcher(ns map[string]string) *matcher {
	m := &matcher{byLen: map[int]map[uint64][]string{}, orig: map[string]string{}}
	for n := range ns {
		l := strings.ToLower(n)
		m.orig[l] = n
		h := rkHash([]byte(l))
		if m.byLen[len(l)] == nil {
			m.byLen[len(l)] = map[uint64][]string{}
		}
		m.byLen[len(l)][h] = append(m.byLen[len(l)][h], l)
	}
	return m
}

func rkHash(b []byte) uint64 {
	var h uint64
	for _, c := range b {
		h = h*rkBase + uint64(c)
	}
	return h
}

// each calls fn with every needle found in data (as recorded) and the
// offset of its first occurrence.
func (m *matcher) each(data []byte, fn func(needle string, offset int)) {
	data = bytes.ToLower(data)
	for l, set := range m.byLen {
		if len(data) < l {
			continue
		}
		var pow uint64 = 1 // rkBase^(l-1)
		for range l - 1 {
			pow *= rkBase
		}
		found := map[string]bool{}
		h := rkHash(data[:l])
		for i := 0; ; i++ {
			if cands, ok := set[h]; ok {
				for _, c := range cands {
					if !found[c] && string(data[i:i+l]) == c {
						found[c] = true
						fn(m.orig[c], i)
					}
				}
			}
			if i+l >= len(data) {
				break
			}
			h = (h-uint64(data[i])*pow)*rkBase + uint64(data[i+l])
		}
	}
}
