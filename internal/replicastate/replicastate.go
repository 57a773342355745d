// Package replicastate is what the collector replicas that share a
// PostgreSQL consent ledger share beside the ledger itself:
//
//   - the interaction memory (table shared_interactions): what the consent
//     processors learned of each interaction (its subject, the customer's
//     location), so that a record carrying only an interaction id is joined
//     to its subject whichever replica saw the interaction start;
//   - consent-change notifications (PostgreSQL LISTEN/NOTIFY): when a
//     replica stores a consent record (the processor learning one from an
//     event, or the auditor API recording or erasing), every replica's
//     consent cache drops that subject at once, not after its TTL.
//
// It keeps to its own table and its own connections (a small pgx pool and
// one listening connection), in the ledger's schema; the ledger's engine
// knows nothing of it.
package replicastate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
)

// Config says where the ledger is.
type Config struct {
	DSN            string
	Schema         string
	ConnectTimeout time.Duration
	// MaxConns bounds the pool used for the interaction memory and for
	// publishing notifications (default 4); listening takes one more.
	MaxConns int
}

// Options are the callbacks of State.
type Options struct {
	// OnChange is called with each consent change any replica published
	// (this one's included).
	OnChange func(consentstore.Key)
	// OnGap is called when notifications may have been missed (the
	// listening connection was lost, or is back): every cached consent
	// answer may be stale.
	OnGap func()
	// OnHealth is called with nil when listening works and with the error
	// when it does not (for component status).
	OnHealth func(error)
	Logger   *zap.Logger
	// Now replaces time.Now (for expiry).
	Now func() time.Time
}

// State is the shared state of one replica's connection to the ledger.
type State struct {
	pool    *pgxpool.Pool
	channel string
	opts    Options

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// ddlLock is the advisory lock replicas take while creating the tables.
const ddlLock = 0x636f6e7365737472 // "consestr"

const schemaSQL = `
CREATE TABLE IF NOT EXISTS shared_interactions (
	vendor         TEXT   NOT NULL,
	tenant         TEXT   NOT NULL,
	interaction_id TEXT   NOT NULL,
	subject_key    TEXT   NOT NULL,
	country        TEXT   NOT NULL,
	region         TEXT   NOT NULL,
	source         TEXT   NOT NULL,
	hints          TEXT   NOT NULL,
	expires_at     BIGINT NOT NULL,
	PRIMARY KEY (vendor, tenant, interaction_id)
);
CREATE INDEX IF NOT EXISTS shared_interactions_expiry ON shared_interactions (expires_at);`

// Open connects, creates the shared table if missing, and starts
// listening for consent changes. The ledger (which creates the schema)
// must be open already.
func Open(ctx context.Context, cfg Config, opts Options) (*State, error) {
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("replica state: %w", err)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	}
	if cfg.Schema != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 4
	}
	// One more for the listener, which holds its connection.
	pc.MaxConns = int32(cfg.MaxConns + 1)
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, f := range []*func(){&opts.OnGap} {
		if *f == nil {
			*f = func() {}
		}
	}
	if opts.OnChange == nil {
		opts.OnChange = func(consentstore.Key) {}
	}
	if opts.OnHealth == nil {
		opts.OnHealth = func(error) {}
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("replica state: %w", err)
	}
	if err := createTables(ctx, pool, cfg.Schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("replica state: %w", err)
	}
	sum := sha256.Sum256([]byte("consentry:" + cfg.Schema))
	s := &State{pool: pool, channel: "consentry_consent_" + hex.EncodeToString(sum[:8]), opts: opts}
	// Listen before Open returns, so that no change published after the
	// processors start is missed.
	conn, err := s.listen(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("replica state: listen: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(2)
	go s.receive(runCtx, conn)
	go s.prune(runCtx)
	return s, nil
}

func createTables(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ddlLock)); err != nil {
		return err
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, schemaSQL); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Close stops listening and closes the connections. It may be called
// more than once.
func (s *State) Close() {
	if s == nil {
		return
	}
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.pool.Close()
	})
}

// Channel is the notification channel of this ledger (one per schema).
func (s *State) Channel() string { return s.channel }

// unavailable marks errors that may pass on their own: a lost or refused
// connection, a timeout, a server short of resources or shutting down, a
// serialization failure. A statement the server refuses for what it is
// (SQL, a constraint) is returned as is.
func unavailable(err error) error {
	if err == nil || errors.Is(err, consentledger.ErrUnavailable) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57"),
			pe.Code == "40001", pe.Code == "40P01":
		default:
			return err
		}
	}
	return fmt.Errorf("%w: %w", consentledger.ErrUnavailable, err)
}

// Remember implements consentledger.Interactions.
func (s *State) Remember(ctx context.Context, its []consentledger.Interaction) error {
	if len(its) == 0 {
		return nil
	}
	// One row per interaction (an upsert cannot touch a row twice), in key
	// order (so that concurrent batches lock rows in the same order).
	merged := make(map[consentledger.InteractionKey]consentledger.Interaction, len(its))
	for _, it := range its {
		if old, ok := merged[it.InteractionKey]; ok {
			if it.Subject == "" {
				it.Subject = old.Subject
			}
			if it.Country == "" && it.Region == "" && len(it.Hints) == 0 {
				it.Country, it.Region, it.Source, it.Hints = old.Country, old.Region, old.Source, old.Hints
			}
			if old.Expires.After(it.Expires) {
				it.Expires = old.Expires
			}
		}
		merged[it.InteractionKey] = it
	}
	keys := make([]consentledger.InteractionKey, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b consentledger.InteractionKey) int {
		return cmp.Or(cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.ID, b.ID))
	})
	n := len(keys)
	vendor, tenant, id, subj := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	country, region, source, hints := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	expires := make([]int64, n)
	for i, k := range keys {
		it := merged[k]
		vendor[i], tenant[i], id[i], subj[i] = k.Vendor, k.Tenant, k.ID, it.Subject
		country[i], region[i], source[i] = it.Country, it.Region, it.Source
		if len(it.Hints) > 0 {
			b, _ := json.Marshal(it.Hints)
			hints[i] = string(b)
		}
		expires[i] = it.Expires.UnixNano()
	}
	// A location (country, region, hints) is replaced whole, or kept.
	_, err := s.pool.Exec(ctx, `INSERT INTO shared_interactions AS s (vendor, tenant, interaction_id, subject_key, country, region, source, hints, expires_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
		ON CONFLICT (vendor, tenant, interaction_id) DO UPDATE SET
			subject_key = CASE WHEN excluded.subject_key <> '' THEN excluded.subject_key ELSE s.subject_key END,
			country = CASE WHEN excluded.country || excluded.region || excluded.hints <> '' THEN excluded.country ELSE s.country END,
			region = CASE WHEN excluded.country || excluded.region || excluded.hints <> '' THEN excluded.region ELSE s.region END,
			source = CASE WHEN excluded.country || excluded.region || excluded.hints <> '' THEN excluded.source ELSE s.source END,
			hints = CASE WHEN excluded.country || excluded.region || excluded.hints <> '' THEN excluded.hints ELSE s.hints END,
			expires_at = GREATEST(s.expires_at, excluded.expires_at)`,
		vendor, tenant, id, subj, country, region, source, hints, expires)
	return unavailable(err)
}

// Recall implements consentledger.Interactions.
func (s *State) Recall(ctx context.Context, k consentledger.InteractionKey) (consentledger.Interaction, bool, error) {
	it := consentledger.Interaction{InteractionKey: k}
	var exp int64
	var hints string
	err := s.pool.QueryRow(ctx, `SELECT subject_key, country, region, source, hints, expires_at FROM shared_interactions
		WHERE vendor = $1 AND tenant = $2 AND interaction_id = $3 AND expires_at > $4`,
		k.Vendor, k.Tenant, k.ID, s.opts.Now().UnixNano()).Scan(&it.Subject, &it.Country, &it.Region, &it.Source, &hints, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return it, false, nil
	}
	if err != nil {
		return it, false, unavailable(err)
	}
	if hints != "" {
		if err := json.Unmarshal([]byte(hints), &it.Hints); err != nil {
			return it, false, fmt.Errorf("replica state: interaction %s: hints: %w", k.ID, err)
		}
	}
	it.Expires = time.Unix(0, exp)
	return it, true, nil
}

// pruneEvery is how often expired interactions are deleted.
const pruneEvery = time.Minute

func (s *State) prune(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, pruneEvery)
		if _, err := s.pool.Exec(pctx, `DELETE FROM shared_interactions WHERE expires_at < $1`, s.opts.Now().Add(-pruneEvery).UnixNano()); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("Pruning expired shared interactions failed; retrying", zap.Error(err))
		}
		cancel()
	}
}

// Ping checks that the database answers.
func (s *State) Ping(ctx context.Context) error {
	return unavailable(s.pool.Ping(ctx))
}

// Publish tells every replica that a subject's consent changed. Call it
// after the change is committed.
func (s *State) Publish(ctx context.Context, k consentstore.Key) error {
	payload, _ := json.Marshal([2]string{k.Scope, k.Subject})
	if len(payload) > 7900 {
		// NOTIFY payloads are at most 8000 bytes: say "something changed".
		payload = []byte("[]")
	}
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, string(payload))
	return unavailable(err)
}

func (s *State) listen(ctx context.Context) (*pgxpool.Conn, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		conn.Release()
		return nil, err
	}
	return conn, nil
}

// receive delivers notifications until ctx ends, listening again after a
// lost connection; what may have been missed meanwhile is reported as a
// gap (every cached answer may be stale).
func (s *State) receive(ctx context.Context, conn *pgxpool.Conn) {
	defer s.wg.Done()
	backoff := 100 * time.Millisecond
	for {
		for conn != nil {
			n, err := conn.Conn().WaitForNotification(ctx)
			if err != nil {
				// The connection is in an unknown state: do not return it to
				// the pool.
				_ = conn.Hijack().Close(context.Background())
				conn = nil
				if ctx.Err() != nil {
					return
				}
				s.opts.Logger.Warn("Consent-change notifications lost their connection; caches are flushed and listening resumes", zap.Error(err))
				s.opts.OnHealth(fmt.Errorf("consent-change notifications: %w", err))
				s.opts.OnGap()
				break
			}
			backoff = 100 * time.Millisecond
			var k [2]string
			if json.Unmarshal([]byte(n.Payload), &k) != nil || k[0] == "" && k[1] == "" {
				s.opts.OnGap()
				continue
			}
			s.opts.OnChange(consentstore.Key{Scope: k[0], Subject: k[1]})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := s.listen(lctx)
		cancel()
		if err != nil {
			continue
		}
		conn = c
		// Changes published while nobody listened are lost.
		s.opts.OnGap()
		s.opts.OnHealth(nil)
		s.opts.Logger.Info("Consent-change notifications resumed")
	}
}
