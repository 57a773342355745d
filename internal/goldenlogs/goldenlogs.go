// Package goldenlogs compares plog.Logs with golden files in tests.
//
// The golden form is canonical JSON (sorted keys, attributes and bodies as
// plain maps, timestamps in RFC 3339) so that diffs are readable and map
// iteration order does not matter. Run the tests with -update to rewrite the
// files, then review the diff before committing.
package goldenlogs

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/ccaas"
	"go.opentelemetry.io/collector/pdata/plog"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Record is the canonical form of one log record.
type Record struct {
	EventName  string         `json:"event_name,omitempty"`
	Timestamp  string         `json:"timestamp,omitempty"`
	Observed   bool           `json:"observed_timestamp_set"`
	Attributes map[string]any `json:"attributes"`
	Body       any            `json:"body,omitempty"`
}

// Resource is the canonical form of one ResourceLogs.
type Resource struct {
	Resource map[string]any `json:"resource"`
	Scope    string         `json:"scope"`
	Records  []Record       `json:"records"`
}

// Canonical converts logs to the golden form.
func Canonical(ld plog.Logs) []Resource {
	var out []Resource
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			r := Resource{Resource: rl.Resource().Attributes().AsRaw(), Scope: sl.Scope().Name()}
			for _, lr := range sl.LogRecords().All() {
				rec := Record{
					EventName:  lr.EventName(),
					Observed:   lr.ObservedTimestamp() != 0,
					Attributes: lr.Attributes().AsRaw(),
					Body:       lr.Body().AsRaw(),
				}
				if lr.Timestamp() != 0 {
					rec.Timestamp = lr.Timestamp().AsTime().UTC().Format(time.RFC3339Nano)
				}
				r.Records = append(r.Records, rec)
			}
			out = append(out, r)
		}
	}
	return out
}

// Marshal renders logs in the golden form.
func Marshal(ld plog.Logs) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Canonical(ld)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Assert compares ld with the golden file at path (creating or rewriting it
// with -update).
func Assert(t testing.TB, path string, ld plog.Logs) {
	t.Helper()
	got, err := Marshal(ld)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("logs differ from %s (run with -update to accept, then review the diff)\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// Records flattens logs into their records, in order, for tests that check
// a few attributes rather than a whole golden file.
func Records(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out = append(out, lr)
			}
		}
	}
	return out
}

// Attr is a record attribute as a string, "" when absent.
func Attr(lr plog.LogRecord, key string) string {
	v, ok := lr.Attributes().Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

// AssertSameRecords compares two logs in the golden form (so receive times
// do not count): a receiver's records and its decoder's, say.
func AssertSameRecords(t testing.TB, want, got plog.Logs) {
	t.Helper()
	w, err := Marshal(want)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	g, err := Marshal(got)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if want.LogRecordCount() == 0 {
		t.Errorf("no records to compare")
	}
	if !bytes.Equal(w, g) {
		t.Errorf("logs differ\n--- want\n%s\n--- got\n%s", w, g)
	}
}

// AssertNoRawIdentifiers checks that no attribute of any record contains
// one of raws (compared case-insensitively): phone numbers, e-mail
// addresses, IP addresses and raw user ids stay in the body, which the
// ledger encrypts. The one exception is ccaas.business.number, the
// business's own line (not a data subject's identifier).
func AssertNoRawIdentifiers(t testing.TB, ld plog.Logs, raws ...string) {
	t.Helper()
	for _, lr := range Records(ld) {
		for k, v := range lr.Attributes().All() {
			if k == ccaas.AttrBusinessNumber {
				continue
			}
			s := strings.ToLower(v.AsString())
			for _, raw := range raws {
				if strings.Contains(s, strings.ToLower(raw)) {
					t.Errorf("attribute %s leaks an identifier (%q)", k, raw)
				}
			}
		}
	}
}
