package consentledgerextension

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
	"github.com/consentry/consentry/internal/configcheck"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/postgres"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
	"github.com/consentry/consentry/internal/release"
	"github.com/consentry/consentry/internal/replicastate"
)

type ledgerExtension struct {
	cfg *Config
	set extension.Settings
	now func() time.Time

	mu     sync.RWMutex
	ledger *ledger.Ledger

	// hub holds the release registrations of the consent processor and
	// the consent_router.
	hub consentledger.Hub
	// releaser runs releases (the auditor API's ReleaseRecords) over the
	// open ledger and hub.
	releaser *release.Releaser

	subMu   sync.Mutex
	subs    map[int]func(consentstore.Key)
	nextSub int

	// replicas is the state shared with the other replicas of a
	// PostgreSQL ledger (nil on SQLite).
	replicas *replicastate.State
	health   healthState

	api      *apiServers
	host     component.Host
	stop     chan struct{}
	wg       sync.WaitGroup
	metricsR metric.Registration
}

func newExtension(cfg *Config, set extension.Settings) *ledgerExtension {
	return &ledgerExtension{cfg: cfg, set: set, now: time.Now}
}

var _ consentledger.Extension = (*ledgerExtension)(nil)

// Quarantine implements consentledger.Extension.
func (e *ledgerExtension) Quarantine(component.ID) (consentledger.Quarantine, error) {
	if _, err := e.ledgerOrErr(); err != nil {
		return nil, err
	}
	return quarantineClient{e}, nil
}

// Consents implements consentledger.Extension.
func (e *ledgerExtension) Consents(component.ID) (consentledger.Consents, error) {
	if _, err := e.ledgerOrErr(); err != nil {
		return nil, err
	}
	return consentClient{e}, nil
}

// Releases implements consentledger.Extension.
func (e *ledgerExtension) Releases() consentledger.Registry { return &e.hub }

func (e *ledgerExtension) ledgerOrErr() (*ledger.Ledger, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ledger == nil {
		return nil, consentledger.ErrNotStarted
	}
	return e.ledger, nil
}

// quarantineClient stores the quarantine exporter's records.
type quarantineClient struct{ e *ledgerExtension }

// Append implements consentledger.Quarantine.
func (q quarantineClient) Append(ctx context.Context, recs []consentledger.Record) ([]consentledger.AppendResult, error) {
	l, err := q.e.ledgerOrErr()
	if err != nil {
		return nil, err
	}
	in := make([]ledger.Record, len(recs))
	for i := range recs {
		r := &recs[i]
		in[i] = ledger.Record{
			Tenant: r.Tenant, Vendor: r.Vendor, EventID: r.EventID, EventName: r.EventName,
			SubjectKey: r.SubjectKey, InteractionID: r.InteractionID, Reasons: r.Reasons,
			ConsentStatus: r.ConsentStatus, OccurredAt: r.OccurredAt, ReceivedAt: r.ReceivedAt, Payload: r.Payload,
		}
	}
	res, err := l.Append(ctx, in)
	q.e.commitHealth(err)
	if err != nil {
		return nil, contractErr(err)
	}
	out := make([]consentledger.AppendResult, len(res))
	for i := range res {
		out[i] = consentledger.AppendResult{ID: res[i].ID, Duplicate: res[i].Duplicate, Err: res[i].Err}
		if errors.Is(res[i].Err, ledger.ErrInvalid) {
			out[i].Err = fmt.Errorf("%w: %w", consentledger.ErrInvalidRecord, res[i].Err)
		}
	}
	return out, nil
}

// commitHealth records whether a write reached the database: a retryable
// failure makes the extension unhealthy until a later write succeeds.
func (e *ledgerExtension) commitHealth(err error) {
	switch {
	case err == nil:
		e.health.set(healthCommit, nil)
	case ledger.IsRetryable(err):
		e.health.set(healthCommit, err)
	}
}

// contractErr marks the engine's transient errors as the contract's
// ErrUnavailable.
func contractErr(err error) error {
	if err != nil && !errors.Is(err, consentledger.ErrUnavailable) && ledger.IsRetryable(err) {
		return fmt.Errorf("%w: %w", consentledger.ErrUnavailable, err)
	}
	return err
}

// Start opens the database (migrating it), opens the ledger and starts the
// retention loop. A ledger that cannot be opened fails the collector's
// start: running without it would leave quarantined events nowhere to go.
func (e *ledgerExtension) Start(ctx context.Context, host component.Host) error {
	e.host = host
	e.health.setHost(host)
	opts, err := e.cfg.ledgerOptions()
	if err != nil {
		return err
	}
	st, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	l, err := ledger.Open(ctx, st, opts)
	if err != nil {
		return fmt.Errorf("consent_ledger: %w", err)
	}
	if err := l.CheckKeys(ctx); err != nil {
		_ = l.Close(ctx)
		return fmt.Errorf("consent_ledger: %w", err)
	}
	e.mu.Lock()
	e.ledger = l
	e.releaser = release.New(l, &e.hub)
	e.mu.Unlock()
	if err := e.openReplicaState(ctx); err != nil {
		return err
	}
	if err := e.registerMetrics(); err != nil {
		return err
	}
	e.set.Logger.Info("Consent ledger open",
		zap.String("backend", l.Backend()), zap.String("writer_id", l.WriterID()),
		zap.String("signing_public_key", hex.EncodeToString(l.PublicKey())))
	if err := e.startAPI(ctx, host, l); err != nil {
		return err
	}
	e.stop = make(chan struct{})
	if e.replicas != nil {
		e.wg.Add(1)
		go e.watchHealth(e.replicas, e.stop)
	}
	if e.cfg.Retention > 0 {
		e.wg.Add(1)
		go e.retain(e.stop)
	}
	if len(e.cfg.Keys) > 1 {
		// A rotation is under way: rewrap every data key under the active
		// KEK in the background, so that the old one can be removed.
		e.wg.Add(1)
		go e.rewrap(l, e.stop)
	}
	return nil
}

// rewrap rewraps the data keys still wrapped by an older KEK (key rotation
// step 2). It is safe while the ledger is in use, and interrupted passes are
// simply run again at the next start.
func (e *ledgerExtension) rewrap(l *ledger.Ledger, stop <-chan struct{}) {
	defer e.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, err := l.RewrapDataKeys(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		e.set.Logger.Info("Key rotation interrupted by shutdown; it resumes at the next start", zap.Int64("rewrapped", res.Rewrapped))
	case err != nil:
		e.set.Logger.Error("Key rotation failed; it is retried at the next start", zap.Error(err))
	case res.Failed > 0:
		e.set.Logger.Error("Key rotation: some data keys are wrapped by a key that is not configured; keep every old key until they are rewrapped",
			zap.Int64("rewrapped", res.Rewrapped), zap.Int64("failed", res.Failed), zap.Error(res.Err))
	default:
		e.set.Logger.Info("Key rotation: every live data key is wrapped by the active key; the other keys can be removed from keys (keep their public keys in trusted_public_keys if the signing key was derived)",
			zap.Int64("rewrapped", res.Rewrapped))
	}
}

func (e *ledgerExtension) openStore(ctx context.Context) (*sqlstore.Store, error) {
	switch e.cfg.Backend {
	case BackendPostgres:
		st, err := postgres.Open(ctx, postgres.Config{
			DSN:            string(e.cfg.Postgres.DSN),
			Schema:         e.cfg.Postgres.Schema,
			MaxConns:       e.cfg.Postgres.MaxConns,
			ConnectTimeout: e.cfg.Postgres.ConnectTimeout,
		})
		if err != nil {
			// pgx errors do not include the password.
			return nil, fmt.Errorf("consent_ledger: postgres: %w", err)
		}
		return st, nil
	default:
		st, err := sqlite.Open(ctx, sqlite.Config{
			Path:         e.cfg.SQLite.Path,
			Synchronous:  e.cfg.SQLite.Synchronous,
			CacheSizeMiB: e.cfg.SQLite.CacheSizeMiB,
			ReadConns:    e.cfg.SQLite.ReadConns,
			BusyTimeout:  e.cfg.SQLite.BusyTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("consent_ledger: sqlite %s: %w", e.cfg.SQLite.Path, err)
		}
		return st, nil
	}
}

// Shutdown closes the ledger (the writer commits what is queued and signs a
// final checkpoint). Pipelines stop before extensions, so nothing writes
// any more.
func (e *ledgerExtension) Shutdown(ctx context.Context) error {
	apiErr := e.stopAPI(ctx)
	if e.stop != nil {
		close(e.stop)
		e.stop = nil
	}
	e.wg.Wait()
	e.closeReplicaState()
	if e.metricsR != nil {
		_ = e.metricsR.Unregister()
		e.metricsR = nil
	}
	e.mu.Lock()
	l := e.ledger
	e.ledger = nil
	e.mu.Unlock()
	if l == nil {
		return apiErr
	}
	return errors.Join(apiErr, l.Close(ctx))
}

// retain purges records older than the retention period.
func (e *ledgerExtension) retain(stop <-chan struct{}) {
	defer e.wg.Done()
	t := time.NewTicker(e.cfg.RetentionInterval)
	defer t.Stop()
	failing := false
	for {
		l, err := e.ledgerOrErr()
		if err == nil {
			// Bounded by the interval, and cancelled by Shutdown.
			ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RetentionInterval)
			go func() {
				select {
				case <-stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			res, perr := l.Purge(ctx, e.now().Add(-e.cfg.Retention))
			cancel()
			switch {
			case perr != nil && isStopped(stop):
				return
			case perr != nil:
				e.set.Logger.Error("Retention purge failed; retrying at the next interval", zap.Error(perr))
				componentstatus.ReportStatus(e.host, componentstatus.NewRecoverableErrorEvent(perr))
				failing = true
			default:
				if res.Purged > 0 {
					e.set.Logger.Info("Retention purge", zap.Int64("records", res.Purged), zap.Uint64("tombstone_seq", res.Seq))
				}
				if failing {
					componentstatus.ReportStatus(e.host, componentstatus.NewEvent(componentstatus.StatusOK))
					failing = false
				}
			}
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (e *ledgerExtension) registerMetrics() error {
	tb, err := metadata.NewTelemetryBuilder(e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	rows, batches := tb.ConsentryLedgerRows, tb.ConsentryLedgerCommits
	dups, fails := tb.ConsentryLedgerDuplicates, tb.ConsentryLedgerCommitFailures
	// Two ledgers in one collector are told apart by the extension id.
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("extension", e.set.ID.String())))
	reg, err := tb.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		l, err := e.ledgerOrErr()
		if err != nil {
			return nil
		}
		m := l.Metrics()
		o.ObserveInt64(rows, m.Rows, attrs)
		o.ObserveInt64(batches, m.Batches, attrs)
		o.ObserveInt64(dups, m.Duplicates, attrs)
		o.ObserveInt64(fails, m.Failures, attrs)
		return nil
	}, rows, batches, dups, fails)
	if err != nil {
		return err
	}
	e.metricsR = reg
	return nil
}

func isStopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

var _ extensioncapabilities.ConfigSnapshotWatcher = (*ledgerExtension)(nil)

// NotifyConfigSnapshot checks the collector's whole configuration, which
// the collector hands to its extensions before it starts the pipelines: a
// configuration that would silently break the ledger's promises (a batch
// processor or a queue in front of the quarantine exporter, a quarantine
// pipeline that ends elsewhere) stops the collector with the setting to
// change (package configcheck).
func (e *ledgerExtension) NotifyConfigSnapshot(_ context.Context, snap extensioncapabilities.ConfigSnapshot) error {
	conf := snap.Effective()
	if conf == nil {
		return nil
	}
	if err := configcheck.Pipelines(conf.ToStringMap()); err != nil {
		return fmt.Errorf("consent_ledger: the configuration breaks what Consentry promises:\n%w", err)
	}
	return nil
}
