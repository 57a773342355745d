package consentledgerextension

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger"
)

// statusHost records the statuses a component reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []*componentstatus.Event
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
}

func (h *statusHost) last() componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return componentstatus.StatusNone
	}
	return h.events[len(h.events)-1].Status()
}

func startWith(t *testing.T, cfg *Config, host component.Host) *ledgerExtension {
	t.Helper()
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return ext.(*ledgerExtension)
}

// TestReplicasShareState: two replicas of one PostgreSQL ledger share the
// interaction memory, and a consent change on one reaches the other's
// subscribers (its consent processor's cache) within milliseconds; a cut
// notification connection makes the extension unhealthy, then healthy
// again once listening resumes. A SQLite ledger shares nothing.
func TestReplicasShareState(t *testing.T) {
	cfgA := newConfig(t, BackendPostgres)
	cfgB := *cfgA
	cfgB.WriterID = "test-writer-b"
	hostB := &statusHost{Host: componenttest.NewNopHost()}
	a := startWith(t, cfgA, componenttest.NewNopHost())
	b := startWith(t, &cfgB, hostB)
	ctx := context.Background()

	ia, err := a.Interactions(component.MustNewID("consent"))
	require.NoError(t, err)
	ib, err := b.Interactions(component.MustNewID("consent"))
	require.NoError(t, err)
	k := consentledger.InteractionKey{Vendor: "genesys", Tenant: "org-1", ID: "conv-1"}
	require.NoError(t, ia.Remember(ctx, []consentledger.Interaction{{InteractionKey: k, Subject: "sk-1", Expires: time.Now().Add(time.Hour)}}))
	it, ok, err := ib.Recall(ctx, k)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "sk-1", it.Subject)

	// The subscriber never blocks (as the consent cache does not): a
	// blocked subscriber would hold up the listener.
	heard := make(chan consentstore.Key, 1000)
	unsub := consentClient{b}.Subscribe(func(k consentstore.Key) {
		select {
		case heard <- k:
		default:
		}
	})
	defer unsub()
	key := consentstore.Key{Scope: "genesys/org-1", Subject: "sk-1"}
	sent := time.Now()
	require.NoError(t, consentClient{a}.Append(ctx, consentstore.Record{ID: "c1", Key: key, Denied: []string{"analytics"}, Source: consentstore.SourceSignal, At: sent}))
	select {
	case got := <-heard:
		assert.Equal(t, key, got)
		t.Logf("replica B heard replica A's consent change after %v", time.Since(sent))
	case <-time.After(time.Second):
		t.Fatal("replica B did not hear the consent change within 1s")
	}

	// Cut B's listening connection: unhealthy, caches flushed, healthy again.
	db, err := sql.Open("pgx", string(cfgA.Postgres.DSN))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`, `LISTEN "`+b.replicas.Channel()+`"`)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		hostB.mu.Lock()
		defer hostB.mu.Unlock()
		for _, ev := range hostB.events {
			if ev.Status() == componentstatus.StatusRecoverableError {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "a cut notification connection is reported")
	require.Eventually(t, func() bool { return hostB.last() == componentstatus.StatusOK }, 10*time.Second, 10*time.Millisecond, "healthy again once listening resumes")
	gap := false
	for drained := false; !drained; {
		select {
		case k := <-heard:
			gap = gap || k == consentstore.Key{}
		default:
			drained = true
		}
	}
	assert.True(t, gap, "the subscribers were told that anything may have changed")

	s := startWith(t, newConfig(t, BackendSQLite), componenttest.NewNopHost())
	_, err = s.Interactions(component.MustNewID("consent"))
	assert.ErrorIs(t, err, consentledger.ErrNotShared)
}

// TestHealthFollowsTheLedger: a write that fails for a reason that may pass
// (the database went away) makes the extension report a recoverable error,
// once, whatever the number of failures; a write that succeeds again makes
// it report OK; a failure that is the caller's (an invalid record) does
// not count.
func TestHealthFollowsTheLedger(t *testing.T) {
	host := &statusHost{Host: componenttest.NewNopHost()}
	e := startWith(t, newConfig(t, BackendSQLite), host)
	down := &ledger.StoreError{Op: "commit", Err: errors.New("database is locked"), Retryable: true}
	for range 3 {
		e.commitHealth(down)
	}
	e.commitHealth(errors.New("invalid record"))
	host.mu.Lock()
	require.Len(t, host.events, 1, "one report for the whole outage")
	assert.Equal(t, componentstatus.StatusRecoverableError, host.events[0].Status())
	assert.ErrorContains(t, host.events[0].Err(), "ledger commits")
	host.mu.Unlock()
	e.commitHealth(nil)
	e.commitHealth(nil)
	host.mu.Lock()
	require.Len(t, host.events, 2)
	assert.Equal(t, componentstatus.StatusOK, host.events[1].Status())
	host.mu.Unlock()
}
