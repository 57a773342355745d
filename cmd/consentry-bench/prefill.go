package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/cmd/consentry-loadgen/loadgen"
	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

// prefilled is a cached ledger of quarantined records.
type prefilled struct {
	path string // SQLite database
	key  string // hex KEK (bench data, not a secret of value)
	rows int64
}

// prefillPaths are the files of the cache for n rows under dir.
func prefillPaths(dir string, n int64) (db, key, done string) {
	base := filepath.Join(dir, "ledger-"+strconv.FormatInt(n, 10))
	return base + ".db", base + ".key", base + ".done"
}

// ensurePrefilled returns a ledger holding at least n quarantined records,
// made through the real ledger API (internal/ledger) with large batches and
// parallel callers, and cached under dir keyed by n. A cache that was not
// completed is made again. Runs that use the cache append their own
// events to it, so it grows by a run's events each time.
func ensurePrefilled(ctx context.Context, dir string, n int64, subjects int, log io.Writer) (*prefilled, error) {
	dbPath, keyPath, donePath := prefillPaths(dir, n)
	if _, err := os.Stat(donePath); err == nil {
		key, err := os.ReadFile(keyPath)
		if err != nil {
			return nil, fmt.Errorf("prefill cache %s: %w", keyPath, err)
		}
		fmt.Fprintf(log, "prefill: reusing %s (%d records or more)\n", dbPath, n)
		return &prefilled{path: dbPath, key: strings.TrimSpace(string(key)), rows: n}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// An unfinished cache is made again from scratch.
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	var kb [32]byte
	if _, err := rand.Read(kb[:]); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(kb[:])
	if err := os.WriteFile(keyPath, []byte(key+"\n"), 0o600); err != nil {
		return nil, err
	}
	payloads, err := prefillPayloads(64)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: dbPath})
	if err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	l, err := ledger.Open(ctx, st, ledger.Options{
		KEKs:         []ledger.KEK{{ID: "bench", Key: kb[:]}},
		BatchRows:    5000,
		QueueSize:    64,
		WriterID:     "bench-prefill",
		KeyCacheSize: max(subjects, 1000),
	})
	if err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	const batch = 2000
	const callers = 4
	var next, stored atomic.Int64
	start := time.Now()
	stopProgress, progressDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(progressDone)
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s := stored.Load()
				el := time.Since(start).Seconds()
				rate := float64(s) / el
				fmt.Fprintf(log, "prefill: %d/%d records, %.0f/s, about %s left\n", s, n, rate,
					time.Duration(float64(n-s)/max(rate, 1)*float64(time.Second)).Round(time.Second))
			case <-stopProgress:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	tenants := map[string]string{loadgen.Genesys: loadgen.DefaultGenesysOrgID, loadgen.Twilio: loadgen.DefaultTwilioAccountSID,
		loadgen.Segment: "local", loadgen.Talkdesk: loadgen.DefaultTalkdeskAccountID}
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]ledger.Record, 0, batch)
			for ctx.Err() == nil {
				first := next.Add(batch) - batch
				if first >= n {
					return
				}
				last := min(first+batch, n)
				recs = recs[:0]
				now := time.Now()
				for i := first; i < last; i++ {
					p := payloads[i%int64(len(payloads))]
					recs = append(recs, ledger.Record{
						Tenant:        tenants[p.vendor],
						Vendor:        p.vendor,
						EventID:       "prefill-" + strconv.FormatInt(i, 36),
						EventName:     p.event,
						SubjectKey:    "sk1_prefill" + strconv.FormatInt(i%int64(max(subjects, 1)), 36),
						InteractionID: "prefill-interaction-" + strconv.FormatInt(i/4, 36),
						Reasons:       []string{"consent_missing"},
						ConsentStatus: "unknown",
						OccurredAt:    now.Add(-time.Duration(n-i) * time.Second / 10),
						Payload:       p.payload,
					})
				}
				res, err := l.Append(ctx, recs)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range res {
					if r.Err != nil {
						errs <- r.Err
						return
					}
				}
				stored.Add(int64(len(recs)))
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	<-progressDone // its last line is written before ours
	cerr := l.Close(context.Background())
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("prefill: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cerr != nil {
		return nil, fmt.Errorf("prefill: closing the ledger: %w", cerr)
	}
	el := time.Since(start)
	fmt.Fprintf(log, "prefill: %d records in %s (%.0f/s) into %s\n", n, el.Round(time.Second), float64(n)/el.Seconds(), dbPath)
	if err := os.WriteFile(donePath, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return &prefilled{path: dbPath, key: key, rows: n}, nil
}

type prefillPayload struct {
	vendor, event string
	payload       []byte
}

// prefillPayloads are quarantined events of every vendor, as the quarantine
// exporter stores them: the OTLP protobuf of a one-record plog.Logs.
func prefillPayloads(n int) ([]prefillPayload, error) {
	g, err := loadgen.NewGenerator(loadgen.GenOptions{
		Secrets: loadgen.Secrets{GenesysOrgID: loadgen.DefaultGenesysOrgID, TwilioAccountSID: loadgen.DefaultTwilioAccountSID,
			TalkdeskAccountID: loadgen.DefaultTalkdeskAccountID},
		Targets: loadgen.DefaultTargets, OTLP: true, ForwardFraction: 0, Subjects: 1000, Seed: 1,
	})
	if err != nil {
		return nil, err
	}
	src := g.NewSource(0)
	u := &plog.JSONUnmarshaler{}
	m := &plog.ProtoMarshaler{}
	var out []prefillPayload
	for i := 0; i < n; i++ {
		r := src.Next(time.Now())
		ld, err := u.UnmarshalLogs(r.Body)
		if err != nil {
			return nil, err
		}
		b, err := m.MarshalLogs(ld)
		if err != nil {
			return nil, err
		}
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		name := lr.EventName()
		if name == "" {
			name = ccaas.EventVendor
		}
		out = append(out, prefillPayload{vendor: r.Vendor, event: name, payload: b})
	}
	return out, nil
}
