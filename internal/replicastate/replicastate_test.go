package replicastate

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
)

type recorder struct {
	mu      sync.Mutex
	changes []consentstore.Key
	gaps    int
	health  []error
	ch      chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 100)} }

func (r *recorder) options() Options {
	return Options{
		OnChange: func(k consentstore.Key) {
			r.mu.Lock()
			r.changes = append(r.changes, k)
			r.mu.Unlock()
			r.ch <- struct{}{}
		},
		OnGap: func() {
			r.mu.Lock()
			r.gaps++
			r.mu.Unlock()
			r.ch <- struct{}{}
		},
		OnHealth: func(err error) {
			r.mu.Lock()
			r.health = append(r.health, err)
			r.mu.Unlock()
		},
	}
}

func open(t *testing.T, dsn, schema string, opts Options) *State {
	t.Helper()
	s, err := Open(context.Background(), Config{DSN: dsn, Schema: schema}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestInteractionsKeepTheContract(t *testing.T) {
	dsn, schema := ledgertest.Postgres(t)
	consentledgertest.RunInteractionsContract(t, func(t *testing.T) consentledger.Interactions {
		return open(t, dsn, schema, Options{})
	})
}

// TestInteractionsAcrossReplicas: what one replica remembers, another
// recalls; a database that went away is a retryable error.
func TestInteractionsAcrossReplicas(t *testing.T) {
	dsn, schema := ledgertest.Postgres(t)
	a, b := open(t, dsn, schema, Options{}), open(t, dsn, schema, Options{})
	ctx := context.Background()
	k := consentledger.InteractionKey{Vendor: "twilio", Tenant: "AC1", ID: "CA1"}
	if err := a.Remember(ctx, []consentledger.Interaction{{InteractionKey: k, Subject: "sk", Expires: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if it, ok, err := b.Recall(ctx, k); err != nil || !ok || it.Subject != "sk" {
		t.Fatalf("recall on the other replica: %+v %v %v", it, ok, err)
	}
	c := open(t, dsn, schema, Options{})
	c.Close()
	if _, _, err := c.Recall(ctx, k); !errors.Is(err, consentledger.ErrUnavailable) {
		t.Fatalf("closed pool: %v, want ErrUnavailable", err)
	}
}

// TestConsentChangesReachEveryReplica: a change one replica publishes
// reaches every replica (itself included) in milliseconds; another
// schema's replicas hear nothing; a lost listening connection is a gap
// (caches flushed), reported unhealthy, and listening resumes.
func TestConsentChangesReachEveryReplica(t *testing.T) {
	dsn, schema := ledgertest.Postgres(t)
	_, otherSchema := ledgertest.Postgres(t)
	ra, rb, rc := newRecorder(), newRecorder(), newRecorder()
	a := open(t, dsn, schema, ra.options())
	open(t, dsn, schema, rb.options())
	open(t, dsn, otherSchema, rc.options())
	k := consentstore.Key{Scope: "genesys/org-1", Subject: "sk-1"}
	start := time.Now()
	if err := a.Publish(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{ra, rb} {
		select {
		case <-r.ch:
		case <-time.After(5 * time.Second):
			t.Fatal("a replica did not hear the change within 5s")
		}
		r.mu.Lock()
		if len(r.changes) != 1 || r.changes[0] != k {
			t.Errorf("changes: %v", r.changes)
		}
		r.mu.Unlock()
	}
	t.Logf("notification delivered to both replicas in %v", time.Since(start))
	select {
	case <-rc.ch:
		t.Fatal("a ledger in another schema heard the change")
	case <-time.After(200 * time.Millisecond):
	}

	// Cut b's listening connection.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`, `LISTEN "`+a.Channel()+`"`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rb.mu.Lock()
		done := rb.gaps >= 2 && len(rb.health) >= 2 && rb.health[len(rb.health)-1] == nil
		rb.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			rb.mu.Lock()
			t.Fatalf("after a lost connection: gaps %d, health %v", rb.gaps, rb.health)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rb.mu.Lock()
	if rb.health[0] == nil {
		t.Error("a lost connection was not reported unhealthy")
	}
	n := len(rb.changes)
	rb.mu.Unlock()
	if err := a.Publish(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		rb.mu.Lock()
		got := len(rb.changes)
		rb.mu.Unlock()
		if got > n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no change heard after listening resumed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkRemember is one batch's write to the shared interaction memory
// (one new interaction): the cost a request that starts an interaction
// pays on a replica, and the cost a database claim per request (as a
// shared de-duplication of forwarded events would need) would add.
func BenchmarkRemember(b *testing.B) {
	dsn, schema := ledgertest.Postgres(b)
	s, err := Open(context.Background(), Config{DSN: dsn, Schema: schema}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var i int
		for pb.Next() {
			i++
			k := consentledger.InteractionKey{Vendor: "genesys", Tenant: "org-1", ID: time.Now().Format(time.RFC3339Nano) + "-" + string(rune('a'+i%26))}
			if err := s.Remember(ctx, []consentledger.Interaction{{InteractionKey: k, Subject: "sk", Expires: exp}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecall is a replica asking about an interaction it does not
// know.
func BenchmarkRecall(b *testing.B) {
	dsn, schema := ledgertest.Postgres(b)
	s, err := Open(context.Background(), Config{DSN: dsn, Schema: schema}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	k := consentledger.InteractionKey{Vendor: "genesys", Tenant: "org-1", ID: "conv"}
	if err := s.Remember(ctx, []consentledger.Interaction{{InteractionKey: k, Subject: "sk", Expires: time.Now().Add(time.Hour)}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.Recall(ctx, k); err != nil {
				b.Fatal(err)
			}
		}
	})
}
