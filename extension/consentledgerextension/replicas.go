package consentledgerextension

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/replicastate"
)

// The replicas of a PostgreSQL ledger share, beside the ledger, the
// consent processors' interaction memory and consent-change notifications
// (internal/replicastate). A ledger of one collector (SQLite) has neither:
// its processor's memory and cache are the only ones.

var _ consentledger.InteractionSharer = (*ledgerExtension)(nil)

// Interactions implements consentledger.InteractionSharer.
func (e *ledgerExtension) Interactions(component.ID) (consentledger.Interactions, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ledger == nil {
		return nil, consentledger.ErrNotStarted
	}
	if e.replicas == nil {
		return nil, consentledger.ErrNotShared
	}
	return e.replicas, nil
}

// openReplicaState connects the replica state of a PostgreSQL ledger.
func (e *ledgerExtension) openReplicaState(ctx context.Context) error {
	if e.cfg.Backend != BackendPostgres {
		return nil
	}
	st, err := replicastate.Open(ctx, replicastate.Config{
		DSN: string(e.cfg.Postgres.DSN), Schema: e.cfg.Postgres.Schema, ConnectTimeout: e.cfg.Postgres.ConnectTimeout,
	}, replicastate.Options{
		OnChange: e.notifyLocal,
		OnGap:    func() { e.notifyLocal(consentstore.Key{}) },
		OnHealth: func(err error) { e.health.set(healthNotify, err) },
		Logger:   e.set.Logger,
	})
	if err != nil {
		return fmt.Errorf("consent_ledger: %w", err)
	}
	e.mu.Lock()
	e.replicas = st
	e.mu.Unlock()
	return nil
}

func (e *ledgerExtension) closeReplicaState() {
	e.mu.Lock()
	st := e.replicas
	e.replicas = nil
	e.mu.Unlock()
	st.Close()
}

// publishTimeout bounds telling the other replicas of a consent change.
const publishTimeout = 5 * time.Second

// publish tells the other replicas that a subject's consent changed (a
// failure leaves their caches to expire the entry after cache.ttl).
func (e *ledgerExtension) publish(k consentstore.Key) {
	e.mu.RLock()
	st := e.replicas
	e.mu.RUnlock()
	if st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := st.Publish(ctx, k); err != nil {
		e.set.Logger.Warn("Could not tell the other replicas of a consent change; their consent caches expire it after their cache.ttl", zap.Error(err))
	}
}

// Health: the extension reports a recoverable error while the ledger's
// database fails (a commit failed since the last one that succeeded, or
// the periodic check cannot reach it) or while a shared ledger's
// consent-change notifications are cut, and OK once all is well again.
// With healthcheckv2's component_health.include_recoverable_errors the
// collector is then unhealthy after recovery_duration.
type healthSource int

const (
	healthCommit healthSource = iota
	healthPing
	healthNotify
	healthSources
)

var healthNames = [healthSources]string{"ledger commits", "ledger database", "consent-change notifications"}

type healthState struct {
	mu     sync.Mutex
	host   component.Host
	errs   [healthSources]error
	failed uint8 // the sources failing when status was last reported
}

func (h *healthState) setHost(host component.Host) {
	h.mu.Lock()
	h.host = host
	h.mu.Unlock()
}

// set records one source's state and reports when the set of failing
// sources changes (not every failed commit).
func (h *healthState) set(src healthSource, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs[src] = err
	var failed uint8
	var all []error
	for i, e := range h.errs {
		if e != nil {
			failed |= 1 << i
			all = append(all, fmt.Errorf("%s: %w", healthNames[i], e))
		}
	}
	if h.host == nil || failed == h.failed {
		return
	}
	h.failed = failed
	if failed != 0 {
		componentstatus.ReportStatus(h.host, componentstatus.NewRecoverableErrorEvent(errors.Join(all...)))
	} else {
		componentstatus.ReportStatus(h.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// healthEvery is how often the ledger's database is checked.
const healthEvery = 5 * time.Second

// watchHealth checks a shared ledger's database periodically until stop
// (a SQLite ledger is a local file: its failures show in commits).
func (e *ledgerExtension) watchHealth(st *replicastate.State, stop <-chan struct{}) {
	defer e.wg.Done()
	t := time.NewTicker(healthEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), healthEvery)
		err := st.Ping(ctx)
		cancel()
		if isStopped(stop) {
			return
		}
		e.health.set(healthPing, err)
	}
}
