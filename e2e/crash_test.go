package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
)

// crashEvent is a Genesys EventBridge event with a unique id: a customer
// start (forwarded under the example policy) or, with quarantine set, an
// event of a topic the policy has no purpose for (quarantined).
func crashEvent(t *testing.T, id string, quarantine bool) []byte {
	b := withOrg(fixture(t, "genesys", "eventbridge_customer_start.json"), localGenesysOrg)
	b = bytes.Replace(b, []byte("4f1d7c3e-1111-4c2b-9a8e-6d5c4b3a2f10"), []byte(id), 1)
	if quarantine {
		b = bytes.ReplaceAll(b, []byte(".customer.start"), []byte(".customer.mystery"))
	}
	return b
}

// TestCrashLosesNothing sends events from several senders that behave like
// a vendor (retry until a 2xx, sometimes send an acknowledged event again),
// kills the collector with SIGKILL several times under that load and
// restarts it. Afterwards every acknowledged event is at the forward sink
// or in the ledger, every quarantined event is stored exactly once, and the
// chain verifies.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	forEachLedgerBackend(t, func(t *testing.T, b ledgerBackend) { _ = crashUnderLoad(t, b, ledgerEnv, nil) })
}

// TestCrashWhileSideTablesLag is the same with the SQLite ledger's
// asynchronous part held back: its side tables (dedup, subject_keys; see
// internal/ledger/dedup.go) receive nothing while the collector runs, so
// every kill happens while what the writer keeps in memory lags behind and
// each restart rebuilds it from the stored rows. No acknowledged event is
// lost, none is stored twice (the senders re-send acknowledged events
// across the kills), the chain verifies, and the side tables, filled by
// the verifier's ledger at the end, hold each record and data key once.
func TestCrashWhileSideTablesLag(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	b := sqliteBackend(t)
	held := func() {
		st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.dir, "ledger.db")})
		require.NoError(t, err)
		defer st.Close()
		var records, entries, keys int64
		require.NoError(t, st.ReadDB().QueryRow(`SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM dedup), (SELECT count(*) FROM subject_keys)`).Scan(&records, &entries, &keys))
		require.NotZero(t, records)
		require.Zero(t, entries+keys, "the side tables were held back while the collector ran")
	}
	l := crashUnderLoad(t, b, append([]string{"CONSENTRY_LEDGER_TEST_SIDE_HOLD=1h"}, ledgerEnv...), held)
	db := l.Store().ReadDB()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var records, entries, distinct, keys, subjectKeys int64
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM records`).Scan(&records))
		require.NoError(t, db.QueryRow(`SELECT count(*), count(DISTINCT rid) FROM dedup`).Scan(&entries, &distinct))
		require.NoError(t, db.QueryRow(`SELECT (SELECT count(*) FROM data_keys), (SELECT count(*) FROM subject_keys)`).Scan(&keys, &subjectKeys))
		require.Equal(t, entries, distinct, "a record indexed twice")
		if entries == records && keys == subjectKeys {
			break
		}
		require.False(t, time.Now().After(deadline), "the side tables hold %d of %d records, %d of %d keys", entries, records, subjectKeys, keys)
		time.Sleep(100 * time.Millisecond)
	}
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	require.True(t, rep.OK, "%+v", rep.Problems)
}

// crashUnderLoad runs the crash scenario and returns the ledger it
// verified (open until the test ends); stopped, if set, runs after the
// collector's last stop, before the ledger is opened.
func crashUnderLoad(t *testing.T, b ledgerBackend, env []string, stopped func()) *ledger.Ledger {
	{
		fwd := newSink(t)
		policy, err := filepath.Abs("../config/policy.yaml")
		require.NoError(t, err)
		vars := map[string]any{"Forward": fwd.url, "Policy": policy, "Ledger": b.block}
		c := startCollector(t, ledgerConfig, vars, env...)
		vars["Ports"] = c.ports
		url := c.url("genesys", "/genesys/eventbridge")

		// Senders run until the last restart is over, so that every kill
		// happens under load however fast the machine is.
		const senders, maxPerSender = 6, 5000
		stopSending := make(chan struct{})
		var gaveUp atomic.Int64
		var (
			mu          sync.Mutex
			acked       = map[string]bool{} // event id -> quarantine?
			attempts    atomic.Int64
			failures    atomic.Int64
			resent      atomic.Int64
			unexpected  []string
			wg          sync.WaitGroup
			client      = &http.Client{Timeout: 10 * time.Second}
			deadline    = time.Now().Add(3 * time.Minute)
			sendUntil2x = func(body []byte) bool {
				for time.Now().Before(deadline) {
					attempts.Add(1)
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-API-Key", genesysKey)
					resp, err := client.Do(req)
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							return true
						}
						if resp.StatusCode != http.StatusServiceUnavailable {
							mu.Lock()
							unexpected = append(unexpected, fmt.Sprintf("status %d", resp.StatusCode))
							mu.Unlock()
						}
					}
					failures.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				return false
			}
		)
		for s := 0; s < senders; s++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(s), 7))
				for i := 0; i < maxPerSender; i++ {
					id := fmt.Sprintf("crash-%d-%05d", s, i)
					select {
					case <-stopSending:
						return
					default:
					}
					q := r.IntN(2) == 0
					body := crashEvent(t, id, q)
					if !sendUntil2x(body) {
						gaveUp.Add(1)
						return
					}
					mu.Lock()
					acked[id] = q
					mu.Unlock()
					if r.IntN(5) == 0 { // the vendor did not see the 2xx and sends it again
						resent.Add(1)
						sendUntil2x(body)
					}
				}
			}()
		}
		// Kill the collector four times under load, restarting it each time.
		for k := 0; k < 4; k++ {
			time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond)
			require.NoError(t, c.cmd.Process.Kill())
			<-c.done
			c.done <- nil // let the cleanup's stop see it exited
			c = startCollector(t, ledgerConfig, vars, env...)
		}
		time.Sleep(300 * time.Millisecond) // some load on the last incarnation too
		close(stopSending)
		wg.Wait()
		c.stop(t)
		if stopped != nil {
			stopped()
		}

		mu.Lock()
		defer mu.Unlock()
		require.Empty(t, unexpected, "only 503s and connection errors are expected while the collector restarts")
		require.Zero(t, gaveUp.Load(), "every event sent was eventually acknowledged")
		require.Greater(t, len(acked), 100)
		t.Logf("%s: %d events, %d attempts, %d failed attempts during kills, %d re-sent after a 2xx",
			b.name, len(acked), attempts.Load(), failures.Load(), resent.Load())
		require.NotZero(t, failures.Load(), "the kills happened under load")

		// Every acknowledged event is where its decision sends it.
		atSink := map[string]int{}
		for _, r := range fwd.records() {
			atSink[attrStr(r.Record, ccaas.AttrEventID)]++
		}
		l := b.open(t)
		inLedger := map[string]int{}
		for _, m := range allRecords(t, l) {
			inLedger[m.EventID]++
		}
		var lost, dupStored, misrouted []string
		for id, q := range acked {
			switch {
			case q && inLedger[id] == 0, !q && atSink[id] == 0:
				lost = append(lost, id)
			case q && inLedger[id] > 1:
				dupStored = append(dupStored, id)
			case !q && inLedger[id] > 0, q && atSink[id] > 0:
				misrouted = append(misrouted, id)
			}
		}
		assert.Empty(t, lost, "acknowledged events lost")
		assert.Empty(t, dupStored, "quarantined events stored more than once")
		assert.Empty(t, misrouted, "events in the wrong place")
		for id, n := range inLedger {
			assert.True(t, strings.HasPrefix(id, "crash-"), "unexpected record %s", id)
			assert.Equal(t, 1, n, "event %s stored %d times", id, n)
		}
		rep, err := l.Verify(context.Background())
		require.NoError(t, err)
		assert.True(t, rep.OK, "the chain verifies after the crashes: %+v", rep.Problems)
		return l
	}
}
