package consentprocessor

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentstore"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/internal/tenant"
)

// consentProcessor is the component: it builds its Evaluator at Start and
// keeps policy_file's policy current.
type consentProcessor struct {
	cfg  *Config
	set  processor.Settings
	tel  *telemetry
	eval *Evaluator
	host component.Host
	// reloader follows policy_file and tenants_file.
	reloader *tenant.Reloader
	digest   [sha256.Size]byte // of the policy file's bytes in force (read and compiled once)
	// base is the policy in force without the tenants file's tenants, and
	// tenants (nil without tenants_file) follows that file; file is the
	// version of it in force.
	base    *policy.Config
	tenants *tenant.Watcher
	file    *tenant.File
	// unregister removes the evaluator registered with a ledger store.
	unregister func()
	// unrouted is set at Start when no consent_router follows the
	// processor: quarantined records are then handled by cfg.Unrouted.
	unrouted bool
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
	base, digest, err := p.cfg.readPolicy(ctx)
	if err != nil {
		return err
	}
	var pol *policy.Policy
	if p.cfg.TenantsFile != "" {
		p.tenants = tenant.NewWatcher(p.cfg.TenantsFile, nil)
		_, err = p.tenants.Poll(func(f *tenant.File) error {
			pol, err = p.cfg.compile(base, f)
			p.file = f
			return err
		})
	} else {
		pol, err = p.cfg.compile(base, nil)
	}
	if err != nil {
		return err
	}
	p.base, p.digest = base, digest
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
	p.set.Logger.Info("Consent policy loaded", zap.String("policy_hash", pol.Hash()), zap.Int("tenants", len(pol.Config().Tenants)),
		zap.String("store", storeName), zap.Bool("shared_interactions", shared != nil), zap.Int("warnings", len(pol.Warnings())))
	for _, w := range pol.Warnings() {
		p.set.Logger.Warn("Consent policy warning", zap.String("warning", w))
	}
	p.checkRouted(host)
	if (p.cfg.PolicyFile != "" || p.cfg.TenantsFile != "") && p.cfg.ReloadInterval > 0 {
		p.reloader = tenant.StartReloader(tenant.ReloaderSettings{
			Interval: p.cfg.ReloadInterval, Host: host, Logger: p.set.Logger,
			Message: "Consent policy file or tenants file is invalid; the previous policy stays in force",
			Fields:  []zap.Field{zap.String("policy_file", p.cfg.PolicyFile), zap.String("tenants_file", p.cfg.TenantsFile)},
		}, func() (bool, error) { return p.reload(context.Background()) })
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
	p.reloader.Stop()
	p.reloader = nil
	if p.eval != nil {
		p.eval.Close()
	}
	p.tel.shutdown()
	return nil
}

// reload recompiles the policy when policy_file or tenants_file changed:
// from the bytes it read, so that the digests are of the version in force.
// A broken version of either keeps the policy in force and returns the
// error (it names no secret).
func (p *consentProcessor) reload(ctx context.Context) (bool, error) {
	base, digest := p.base, p.digest
	baseChanged := false
	if p.cfg.PolicyFile != "" {
		b, err := os.ReadFile(p.cfg.PolicyFile)
		if err != nil {
			p.tel.reload(ctx, err)
			return false, fmt.Errorf("policy file: %w", err)
		}
		if d := sha256.Sum256(b); d != p.digest {
			if base, err = policy.LoadBytes(ctx, p.cfg.PolicyFile, b); err != nil {
				p.tel.reload(ctx, err)
				return false, err
			}
			digest, baseChanged = d, true
		}
	}
	if p.tenants != nil {
		if baseChanged {
			// A tenants file refused under the previous policy may
			// compile under this one.
			p.tenants.Retry()
		}
		changed, err := p.tenants.Poll(func(f *tenant.File) error {
			pol, err := p.cfg.compile(base, f)
			p.tel.reload(ctx, err)
			if err != nil {
				return err
			}
			p.install(pol, base, digest, f)
			return nil
		})
		if err != nil || changed {
			return changed, err
		}
	}
	if !baseChanged {
		return false, nil
	}
	pol, err := p.cfg.compile(base, p.file)
	p.tel.reload(ctx, err)
	if err != nil {
		return false, err
	}
	p.install(pol, base, digest, p.file)
	return true, nil
}

// install puts a new policy in force, with what it was compiled from.
func (p *consentProcessor) install(pol *policy.Policy, base *policy.Config, digest [sha256.Size]byte, f *tenant.File) {
	p.base, p.digest, p.file = base, digest, f
	old := p.eval.Policy()
	p.eval.SetPolicy(pol)
	if old == nil || old.Hash() != pol.Hash() {
		p.set.Logger.Info("Consent policy reloaded", zap.String("policy_hash", pol.Hash()), zap.String("previous_hash", hashOf(old)),
			zap.Int("tenants", len(pol.Config().Tenants)))
	}
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
	if p.unrouted {
		return p.handleUnrouted(ld)
	}
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
