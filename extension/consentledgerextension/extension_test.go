package consentledgerextension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensioncapabilities"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
)

// backends runs fn against SQLite and, when configured, PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, cfg *Config)) {
	for _, b := range []string{BackendSQLite, BackendPostgres} {
		t.Run(b, func(t *testing.T) { fn(t, newConfig(t, b)) })
	}
}

// newConfig configures an empty ledger on backend (PostgreSQL: a schema of
// the test's own; the test is skipped when PostgreSQL is not configured).
func newConfig(t *testing.T, backend string) *Config {
	cfg := createDefaultConfig()
	cfg.Keys = []KeyConfig{{ID: "k1", Key: configopaque.String(ledgertest.Key(t))}}
	if backend == BackendPostgres {
		dsn, schema := ledgertest.Postgres(t)
		cfg.Backend = BackendPostgres
		cfg.Postgres.DSN = configopaque.String(dsn)
		cfg.Postgres.Schema = schema
		cfg.WriterID = "test-writer"
		return cfg
	}
	cfg.SQLite.Path = filepath.Join(t.TempDir(), "ledger.db")
	return cfg
}

func start(t *testing.T, cfg *Config) *ledgerExtension {
	t.Helper()
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	return ext.(*ledgerExtension)
}

func TestConsentStoreRoundTrip(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		e := start(t, cfg)
		var mu sync.Mutex
		var notified []consentstore.Key
		unsub := consentClient{e}.Subscribe(func(k consentstore.Key) {
			mu.Lock()
			defer mu.Unlock()
			notified = append(notified, k)
		})
		defer unsub()

		key := consentstore.Key{Scope: "genesys/org-1", Subject: "sk-1"}
		at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		recs := []consentstore.Record{
			{ID: "c1", Key: key, Granted: []string{"analytics"}, Source: consentstore.SourceSignal,
				Vendor: "genesys", Tenant: "org-1", EventID: "e1", Signal: "signal:analytics=granted", At: at},
			{ID: "c2", Key: key, Interaction: "call-9", Granted: []string{"recording"}, Denied: []string{"marketing"},
				Processors: []string{"acme"}, FirstPartyOnly: true, Source: consentstore.SourceNotice, NoticeID: "n@2", At: at.Add(time.Minute)},
			{ID: "c3", Key: key, OptOut: consentstore.OptOutSaleSharing, Source: consentstore.Source("gpc"), Signal: "gpc", At: at.Add(2 * time.Minute)},
		}
		for _, r := range recs {
			require.NoError(t, consentClient{e}.Append(ctx, r))
		}
		// A retried consent event is stored once.
		require.NoError(t, consentClient{e}.Append(ctx, recs[0]))
		require.Error(t, consentClient{e}.Append(ctx, consentstore.Record{ID: "bad"}), "a record without scope and subject is refused")

		got, err := consentClient{e}.Lookup(ctx, key)
		require.NoError(t, err)
		require.Len(t, got, 3)
		for i, want := range recs {
			assert.Equal(t, want.ID, got[i].ID)
			assert.Equal(t, want.Key, got[i].Key)
			assert.Equal(t, want.Interaction, got[i].Interaction)
			assert.Equal(t, want.Granted, got[i].Granted)
			assert.Equal(t, want.Denied, got[i].Denied)
			assert.Equal(t, want.Processors, got[i].Processors)
			assert.Equal(t, want.OptOut, got[i].OptOut)
			assert.Equal(t, want.FirstPartyOnly, got[i].FirstPartyOnly)
			assert.Equal(t, want.Source, got[i].Source)
			assert.Equal(t, want.Signal, got[i].Signal)
			assert.Equal(t, want.NoticeID, got[i].NoticeID)
			assert.True(t, want.At.Equal(got[i].At), "at %v != %v", want.At, got[i].At)
		}
		other, err := consentClient{e}.Lookup(ctx, consentstore.Key{Scope: "genesys/org-2", Subject: "sk-1"})
		require.NoError(t, err)
		assert.Empty(t, other, "consent does not leak across scopes")
		if cfg.Backend == BackendPostgres {
			// Replicas share the ledger: each change is also heard back from
			// the database, as every other replica hears it.
			assert.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(notified) == 8
			}, 10*time.Second, 10*time.Millisecond, "each change notified here and heard back from the database")
		}
		mu.Lock()
		if cfg.Backend == BackendSQLite {
			assert.Len(t, notified, 4, "every stored append notifies (duplicates included)")
		}
		mu.Unlock()

		// What the auditor reads first: c2 denies marketing, so its row is a denial.
		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		rows, err := l.LookupConsents(ctx, key.Scope, key.Subject)
		require.NoError(t, err)
		require.Len(t, rows, 3)
		assert.Equal(t, ledger.ConsentGranted, rows[0].Status)
		assert.Equal(t, ledger.ConsentDenied, rows[1].Status)
		assert.Equal(t, []string{"marketing"}, rows[1].Purposes)

		// Durable: a new extension on the same database sees them.
		require.NoError(t, e.Shutdown(ctx))
		_, err = consentClient{e}.Lookup(ctx, key)
		require.ErrorIs(t, err, consentledger.ErrNotStarted)
		e2 := start(t, cfg)
		defer func() { require.NoError(t, e2.Shutdown(ctx)) }()
		got, err = consentClient{e2}.Lookup(ctx, key)
		require.NoError(t, err)
		assert.Len(t, got, 3)
	})
}

func TestAPIRecordedConsentIsReadable(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		e := start(t, cfg)
		defer func() { require.NoError(t, e.Shutdown(ctx)) }()
		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		// A row without details, as the auditor API records it.
		_, _, err = l.PutConsent(ctx, ledger.Consent{ID: "api-1", Tenant: "s", SubjectKey: "k",
			Status: ledger.ConsentWithdrawn, Purposes: []string{"analytics"}, Source: "api", At: time.Now()})
		require.NoError(t, err)
		_, _, err = l.PutConsent(ctx, ledger.Consent{ID: "api-2", Tenant: "s", SubjectKey: "k",
			Status: ledger.ConsentGranted, Purposes: []string{"recording"}, At: time.Now(),
			ExpiresAt: time.Now().Add(-time.Hour)})
		require.NoError(t, err)
		got, err := consentClient{e}.Lookup(ctx, consentstore.Key{Scope: "s", Subject: "k"})
		require.NoError(t, err)
		require.Len(t, got, 1, "the expired grant is not served")
		assert.Equal(t, []string{"analytics"}, got[0].Denied)
		assert.Empty(t, got[0].Granted)
		assert.Equal(t, consentstore.SourceAPI, got[0].Source)

		// The API stores the caller's details as given: they never change
		// what the row says, whatever they contain, and text is no error.
		for i, details := range []string{
			`{"granted":["analytics"],"note":"copy of the form"}`,
			`{"consentry_record":1,"granted":["analytics"],"denied":[]}`,
			`{"opt_out":2}`,
			`customer phoned support`,
		} {
			_, _, err = l.PutConsent(ctx, ledger.Consent{ID: fmt.Sprint("api-d", i), Tenant: "s", SubjectKey: fmt.Sprint("k", i),
				Status: ledger.ConsentWithdrawn, Purposes: []string{"analytics"}, Source: "api", Details: []byte(details), At: time.Now()})
			require.NoError(t, err)
			got, err := consentClient{e}.Lookup(ctx, consentstore.Key{Scope: "s", Subject: fmt.Sprint("k", i)})
			require.NoError(t, err, details)
			require.Len(t, got, 1)
			assert.Equal(t, []string{"analytics"}, got[0].Denied, details)
			assert.Empty(t, got[0].Granted, details)
			assert.Equal(t, consentstore.OptOutUnset, got[0].OptOut, details)
		}

		// Sale and sharing through the API: an opt-in (after Sec-GPC or a GPP
		// opt-out) and an opt-out, each with the purposes it names.
		_, _, err = l.PutConsent(ctx, ledger.Consent{ID: "api-in", Tenant: "s", SubjectKey: "sale", Status: ledger.ConsentOptedIn,
			Purposes: []string{"marketing.advertising"}, Source: "api", At: time.Now()})
		require.NoError(t, err)
		_, _, err = l.PutConsent(ctx, ledger.Consent{ID: "api-out", Tenant: "s", SubjectKey: "sale", Status: ledger.ConsentOptedOut,
			Source: "api", At: time.Now().Add(time.Second)})
		require.NoError(t, err)
		got, err = consentClient{e}.Lookup(ctx, consentstore.Key{Scope: "s", Subject: "sale"})
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, consentstore.OptInSaleSharing, got[0].OptOut)
		assert.Equal(t, []string{"marketing.advertising"}, got[0].Granted)
		assert.Equal(t, consentstore.OptOutSaleSharing, got[1].OptOut)
		assert.Empty(t, got[1].Denied)
	})
}

func TestStartFailures(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, []byte("x"), 0o600))

	cfg := createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(blocker, "ledger.db") // a file where a directory must be
	cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
	ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.Error(t, ext.Start(ctx, componenttest.NewNopHost()))
	require.NoError(t, ext.Shutdown(ctx))

	cfg = createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(dir, "ledger.db")
	cfg.Keys = []KeyConfig{{KeyFile: filepath.Join(dir, "missing-key")}}
	ext, err = NewFactory().Create(ctx, extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = ext.Start(ctx, componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "keys[0].key_file")
}

func TestKeyFileAndWrongKeyAfterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "kek")
	require.NoError(t, os.WriteFile(keyFile, []byte(ledgertest.Key(t)+"\n"), 0o600))
	cfg := createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(dir, "ledger.db")
	cfg.Keys = []KeyConfig{{ID: "k1", KeyFile: keyFile}}
	e := start(t, cfg)
	l, err := e.ledgerOrErr()
	require.NoError(t, err)
	res, err := l.Append(ctx, []ledger.Record{{Tenant: "t", Vendor: "genesys", EventID: "e1", SubjectKey: "s", Payload: []byte("secret payload")}})
	require.NoError(t, err)
	require.NoError(t, e.Shutdown(ctx))

	// The same key id with different key material: the collector does not
	// start (rather than write new records it could read and fail on old ones).
	cfg.Keys = []KeyConfig{{ID: "k1", Key: configopaque.String(ledgertest.Key(t))}}
	ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = ext.Start(ctx, componenttest.NewNopHost())
	require.ErrorIs(t, err, ledger.ErrWrongKey)
	assert.Contains(t, err.Error(), `key "k1" does not unwrap`)
	require.NoError(t, ext.Shutdown(ctx))

	// The right key still reads it.
	cfg.Keys = []KeyConfig{{ID: "k1", KeyFile: keyFile}}
	e = start(t, cfg)
	defer func() { require.NoError(t, e.Shutdown(ctx)) }()
	l, err = e.ledgerOrErr()
	require.NoError(t, err)
	got, err := l.Get(ctx, res[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "secret payload", string(got.Payload))
}

// TestKeyRotation: configure a new active key beside the old one and the
// extension rewraps every data key; then the old key can be removed and
// every record still decrypts.
func TestKeyRotation(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		oldKey, newKey := cfg.Keys[0], KeyConfig{ID: "k2", Key: configopaque.String(ledgertest.Key(t))}
		e := start(t, cfg)
		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		var ids []string
		for i := range 5 {
			res, err := l.Append(ctx, []ledger.Record{{Tenant: "t", Vendor: "genesys", EventID: fmt.Sprint("e", i),
				SubjectKey: fmt.Sprint("s", i), Payload: []byte(fmt.Sprint("payload ", i))}})
			require.NoError(t, err)
			ids = append(ids, res[0].ID)
		}
		require.NoError(t, e.Shutdown(ctx))

		cfg.Keys, cfg.ActiveKey = []KeyConfig{newKey, oldKey}, "k2"
		e = start(t, cfg)
		l, err = e.ledgerOrErr()
		require.NoError(t, err)
		oldWrapped := func() int {
			var n int
			require.NoError(t, l.Store().ReadDB().QueryRowContext(ctx,
				`SELECT count(*) FROM data_keys WHERE kek_id <> 'k2' AND erased_at = 0`).Scan(&n))
			return n
		}
		rewrapSigned := func() bool {
			var n int
			require.NoError(t, l.Store().ReadDB().QueryRowContext(ctx,
				`SELECT count(*) FROM chain WHERE kind = 'rewrap'`).Scan(&n))
			return n > 0
		}
		// Done when the signed rewrap event is stored (the keys are
		// rewrapped just before it; a shutdown in between leaves the last
		// checkpoint signed by the old key, which the next start, without
		// the old key, would rightly refuse).
		require.Eventually(t, func() bool { return oldWrapped() == 0 && rewrapSigned() }, 10*time.Second, 20*time.Millisecond,
			"the extension rewraps the data keys under the new active key")
		require.NoError(t, e.Shutdown(ctx))

		cfg.Keys, cfg.ActiveKey = []KeyConfig{newKey}, ""
		e = start(t, cfg)
		defer func() { require.NoError(t, e.Shutdown(ctx)) }()
		l, err = e.ledgerOrErr()
		require.NoError(t, err)
		for i, id := range ids {
			r, err := l.Get(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint("payload ", i), string(r.Payload))
		}
	})
}

// TestRetention: records stored longer ago than retention lose their
// payload; the chain (with its signed tombstone) still verifies.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	cfg := createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(t.TempDir(), "ledger.db")
	cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
	cfg.Retention, cfg.RetentionInterval = 200*time.Millisecond, 50*time.Millisecond
	require.NoError(t, cfg.Validate())
	e := start(t, cfg)
	defer func() { require.NoError(t, e.Shutdown(ctx)) }()
	l, err := e.ledgerOrErr()
	require.NoError(t, err)
	res, err := l.Append(ctx, []ledger.Record{{Tenant: "t", Vendor: "genesys", EventID: "old", SubjectKey: "s", Payload: []byte("x")}})
	require.NoError(t, err)
	_, err = l.Get(ctx, res[0].ID)
	require.NoError(t, err, "not purged before its time")
	require.Eventually(t, func() bool {
		_, err := l.Get(ctx, res[0].ID)
		return errors.Is(err, ledger.ErrPurged)
	}, 10*time.Second, 20*time.Millisecond)
	rep, err := l.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.Problems)
	assert.EqualValues(t, 1, rep.Purged)
}

// TestWrongKeyWithDerivedID: without explicit ids the id is derived from
// the key, so a wrong key has another id; the start still fails, as it does
// when an old key is removed before its data keys were rewrapped.
func TestWrongKeyWithDerivedID(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
		e := start(t, cfg)
		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		_, err = l.Append(ctx, []ledger.Record{{Tenant: "t", Vendor: "genesys", EventID: "e1", SubjectKey: "s", Payload: []byte("x")}})
		require.NoError(t, err)
		require.NoError(t, e.Shutdown(ctx))

		cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
		ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(metadata.Type), cfg)
		require.NoError(t, err)
		err = ext.Start(ctx, componenttest.NewNopHost())
		require.ErrorIs(t, err, ledger.ErrWrongKey)
		assert.Contains(t, err.Error(), "which is not configured")
		require.NoError(t, ext.Shutdown(ctx))
	})
}

func TestEmptySigningKeyFileIsAnError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := createDefaultConfig()
	cfg.SQLite.Path = filepath.Join(dir, "ledger.db")
	cfg.Keys = []KeyConfig{{Key: configopaque.String(ledgertest.Key(t))}}
	cfg.SigningKeyFile = filepath.Join(dir, "signing-key")
	require.NoError(t, os.WriteFile(cfg.SigningKeyFile, []byte("\n"), 0o600))
	ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	err = ext.Start(ctx, componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is empty")
	require.NoError(t, ext.Shutdown(ctx))
}

// TestTamperedConsentRowIsAReasonCode: a consent record edited in the
// database (a denial turned into a grant) is not served: the consent
// store's lookup fails with consentstore.ErrTampered, which the consent
// processor turns into the blocking reason consent_tampered.
func TestTamperedConsentRowIsAReasonCode(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		e := start(t, cfg)
		defer func() { require.NoError(t, e.Shutdown(ctx)) }()
		key := consentstore.Key{Scope: "genesys/org-1", Subject: "sk-tampered"}
		require.NoError(t, consentClient{e}.Append(ctx, consentstore.Record{ID: "deny-1", Key: key, Denied: []string{"analytics"},
			Source: consentstore.SourceSignal, Vendor: "genesys", Tenant: "org-1", EventID: "e1", At: time.Now().Add(-time.Hour)}))
		got, err := consentClient{e}.Lookup(ctx, key)
		require.NoError(t, err)
		require.Equal(t, []string{"analytics"}, got[0].Denied)

		l, err := e.ledgerOrErr()
		require.NoError(t, err)
		res, err := l.Store().WriteDB().ExecContext(ctx, `UPDATE consents SET status = 'granted' WHERE id = 'deny-1'`)
		require.NoError(t, err)
		n, _ := res.RowsAffected()
		require.EqualValues(t, 1, n)

		got, err = consentClient{e}.Lookup(ctx, key)
		require.ErrorIs(t, err, consentstore.ErrTampered)
		require.Empty(t, got, "an edited record must not take effect")
	})
}

// TestPipelinesBreakingPromisesRefusedAtStart: the extension refuses, when
// the collector hands it its configuration, a batch processor on the way
// to the quarantine exporter (and accepts the shipped layout).
func TestPipelinesBreakingPromisesRefusedAtStart(t *testing.T) {
	ext := &ledgerExtension{}
	good := map[string]any{
		"connectors": map[string]any{"consent_router": map[string]any{"forward": []any{"logs/forward"}, "quarantine": []any{"logs/quarantine"}}},
		"exporters":  map[string]any{"quarantine": map[string]any{"ledger": "consent_ledger"}, "debug": nil},
		"service": map[string]any{"pipelines": map[string]any{
			"logs":            map[string]any{"receivers": []any{"genesys"}, "processors": []any{"consent"}, "exporters": []any{"consent_router"}},
			"logs/forward":    map[string]any{"receivers": []any{"consent_router"}, "exporters": []any{"debug"}},
			"logs/quarantine": map[string]any{"receivers": []any{"consent_router"}, "exporters": []any{"quarantine"}},
		}},
	}
	require.NoError(t, ext.NotifyConfigSnapshot(context.Background(), extensioncapabilities.NewConfigSnapshot(confmap.NewFromStringMap(good), nil)))
	conf := confmap.NewFromStringMap(good)
	require.NoError(t, conf.Merge(confmap.NewFromStringMap(map[string]any{"service": map[string]any{"pipelines": map[string]any{
		"logs": map[string]any{"processors": []any{"consent", "batch"}}}}})))
	err := ext.NotifyConfigSnapshot(context.Background(), extensioncapabilities.NewConfigSnapshot(conf, nil))
	require.ErrorContains(t, err, "service::pipelines::logs: the batch processor is on the way to the quarantine exporter")
}
