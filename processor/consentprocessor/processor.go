package consentprocessor

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
)

// consentProcessor is the component: it builds its Evaluator at Start and
// keeps policy_file's policy current.
type consentProcessor struct {
	cfg    *Config
	set    processor.Settings
	tel    *telemetry
	eval   *Evaluator
	host   component.Host
	stop   chan struct{}
	wg     sync.WaitGroup
	digest [sha256.Size]byte // of the policy file's bytes in force (read and compiled once)
	// unregister removes the evaluator registered with a ledger store.
	unregister func()
}

func newConsentProcessor(cfg *Config, set processor.Settings) (*consentProcessor, error) {
	tel, err := newTelemetry(set.TelemetrySettings, set.ID.String(), cfg.Metrics.TenantAttribute)
	if err != nil {
		return nil, err
	}
	return &consentProcessor{cfg: cfg, set: set, tel: tel}, nil
}

func (p *consentProcessor) start(ctx context.Context, host component.Host) error {
	p.host = host
	pol, digest, err := p.cfg.loadPolicy(ctx)
	if err != nil {
		return err
	}
	p.digest = digest
	store, releases, shared, err := p.resolveLedger(host)
	if err != nil {
		return err
	}
	p.eval = NewEvaluator(pol, EvaluatorSettings{
		Store:                 store,
		Cache:                 p.cfg.cacheConfig(),
		InteractionMaxEntries: p.cfg.Interactions.MaxEntries,
		InteractionTTL:        p.cfg.Interactions.TTL,
		SharedInteractions:    shared,
		InteractionMissTTL:    p.cfg.Interactions.SharedMissTTL,
		Logger:                p.set.Logger,
		MinimalForwarded:      p.cfg.ForwardedAttributes == AttributesMinimal,
		telemetry:             p.tel,
	})
	p.tel.eval.Store(p.eval)
	if releases != nil {
		// The ledger releases quarantined records by re-tagging them under
		// the policy and consent in force now.
		p.unregister = releases.RegisterEvaluator(p.set.ID, releaseEvaluator{p.eval})
	}
	storeName := "in-memory"
	if id := p.cfg.ledgerID(); id.IsSet() {
		storeName = id.String()
	}
	p.set.Logger.Info("Consent policy loaded", zap.String("policy_hash", pol.Hash()),
		zap.String("store", storeName), zap.Bool("shared_interactions", shared != nil), zap.Int("warnings", len(pol.Warnings())))
	for _, w := range pol.Warnings() {
		p.set.Logger.Warn("Consent policy warning", zap.String("warning", w))
	}
	if p.cfg.PolicyFile != "" && p.cfg.ReloadInterval > 0 {
		p.stop = make(chan struct{})
		p.wg.Add(1)
		go p.watch()
	}
	return nil
}

// resolveLedger finds the configured consent ledger: its consent store,
// its release registry and, when replicas share it, their interaction
// memory. Without one, consent records are kept in memory and nothing can
// be released.
func (p *consentProcessor) resolveLedger(host component.Host) (consentstore.Store, consentledger.Registry, consentledger.Interactions, error) {
	id := p.cfg.ledgerID()
	if !id.IsSet() {
		p.set.Logger.Warn("Consent records are kept in memory and lost on restart; set ledger to a consent_ledger extension to keep them")
		return consentstore.NewMemory(), nil, nil, nil
	}
	if p.cfg.Store.IsSet() {
		p.set.Logger.Warn("The consent processor's store setting is deprecated and will be removed; rename it to ledger", zap.String("ledger", id.String()))
	}
	ext, err := consentledger.Find(host, id)
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := ext.Consents(p.set.ID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ledger: %w", err)
	}
	var shared consentledger.Interactions
	if sh, ok := ext.(consentledger.InteractionSharer); ok && p.cfg.Interactions.Shared && p.cfg.Interactions.MaxEntries > 0 {
		shared, err = sh.Interactions(p.set.ID)
		switch {
		case errors.Is(err, consentledger.ErrNotShared):
			shared = nil
		case err != nil:
			return nil, nil, nil, fmt.Errorf("ledger: shared interactions: %w", err)
		}
	}
	return store, ext.Releases(), shared, nil
}

func (p *consentProcessor) shutdown(context.Context) error {
	if p.unregister != nil {
		p.unregister()
		p.unregister = nil
	}
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
		p.stop = nil
	}
	if p.eval != nil {
		p.eval.Close()
	}
	p.tel.shutdown()
	return nil
}

// watch polls policy_file and swaps in each new valid version.
func (p *consentProcessor) watch() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.ReloadInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			changed, err := p.reload(context.Background())
			switch {
			case err != nil:
				if !failing {
					p.set.Logger.Error("Consent policy file is invalid; the previous policy stays in force",
						zap.String("policy_file", p.cfg.PolicyFile), zap.Error(err))
					componentstatus.ReportStatus(p.host, componentstatus.NewRecoverableErrorEvent(err))
				}
				failing = true
			case changed || failing:
				if failing {
					componentstatus.ReportStatus(p.host, componentstatus.NewEvent(componentstatus.StatusOK))
				}
				failing = false
			}
		}
	}
}

// reload compiles policy_file if its content changed: the bytes it read,
// so that the digest is of the version in force. A broken file keeps the
// policy in force and returns the error.
func (p *consentProcessor) reload(ctx context.Context) (bool, error) {
	b, err := os.ReadFile(p.cfg.PolicyFile)
	if err != nil {
		p.tel.reload(ctx, err)
		return false, fmt.Errorf("policy file: %w", err)
	}
	digest := sha256.Sum256(b)
	if digest == p.digest {
		return false, nil
	}
	pol, err := policy.CompileBytes(ctx, p.cfg.PolicyFile, b)
	p.tel.reload(ctx, err)
	if err != nil {
		return false, err
	}
	p.digest = digest
	old := p.eval.Policy()
	p.eval.SetPolicy(pol)
	if old == nil || old.Hash() != pol.Hash() {
		p.set.Logger.Info("Consent policy reloaded", zap.String("policy_hash", pol.Hash()), zap.String("previous_hash", hashOf(old)))
	}
	return true, nil
}

func hashOf(p *policy.Policy) string {
	if p == nil {
		return ""
	}
	return p.Hash()
}

var errNotStarted = errors.New("consent processor not started")

func (p *consentProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	if p.eval == nil {
		// Cannot happen in a running collector; never forward undecided data.
		return ld, errNotStarted
	}
	p.eval.ProcessLogs(ctx, ld)
	return ld, nil
}

// releaseEvaluator lets the consent ledger re-tag released records and
// check consent scopes against the policy in force.
type releaseEvaluator struct{ eval *Evaluator }

// Reevaluate implements consentledger.Evaluator.
func (r releaseEvaluator) Reevaluate(ctx context.Context, ld plog.Logs) error {
	r.eval.Reevaluate(ctx, ld)
	return nil
}

// CheckScope implements consentledger.ScopeChecker: scope must be the consent
// scope of a tenant of the policy (by default "<vendor>/<tenant id>").
func (r releaseEvaluator) CheckScope(scope string) error {
	pol := r.eval.Policy()
	if pol == nil {
		return nil
	}
	var hint string
	for _, t := range pol.Config().Tenants {
		if t.ConsentScope == scope {
			return nil
		}
		if t.ID == scope {
			hint = fmt.Sprintf("; the consent scope of %s tenant %s is %q", t.Vendor, t.ID, t.ConsentScope)
		}
	}
	return fmt.Errorf("%q is not a consent scope of the policy in force, so consent recorded under it would never be used%s", scope, hint)
}
