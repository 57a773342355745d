package tenant

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// Watcher follows a tenants file (or directory): Poll reads it and the
// secret files it names, and parses it only when their digest changed. A
// version that does not parse, or that its user rejects, is remembered with
// its error, so that it is neither parsed nor applied again.
type Watcher struct {
	path string
	env  Env

	good, bad [sha256.Size]byte
	hasGood   bool
	hasBad    bool
	badErr    error
	refs      []string // the secret files of the last version parsed

	pending    [sha256.Size]byte // a change seen once
	hasPending bool
	unreadable int   // polls in a row that could not read the file
	lastErr    error // what the last settled poll answered
}

// NewWatcher follows path; env resolves ${env:..} (os.LookupEnv when nil).
func NewWatcher(path string, env Env) *Watcher {
	if env == nil {
		env = os.LookupEnv
	}
	return &Watcher{path: path, env: env}
}

// Path is the file or directory followed.
func (w *Watcher) Path() string { return w.path }

// Poll reads the file; when it changed since the version in force, it
// parses it and calls apply with it. It reports whether a new version is
// in force. A broken version (unreadable, invalid, or refused by apply)
// leaves the version in force as it was and returns its error, every time
// it is polled, until the file changes.
//
// Once a version is in force, a change is taken only when two polls in a
// row see it (and a file that cannot be read, only when two polls in a
// row cannot read it): a file being rewritten in place is not taken half
// written, which could drop tenants, nor reported as broken. Meanwhile
// Poll answers as it did last. Replace the file atomically (write a new
// one and rename it; Kubernetes volumes do) to need no such luck.
func (w *Watcher) Poll(apply func(*File) error) (bool, error) {
	srcs, err := readSources(w.path)
	if err != nil {
		w.hasPending = false
		w.unreadable++
		if w.hasGood && w.unreadable < 2 {
			return false, w.lastErr
		}
		w.lastErr = err
		return false, err
	}
	w.unreadable = 0
	d := digestOf(srcs, readSecrets(w.refs))
	switch {
	case w.hasGood && d == w.good:
		w.hasPending, w.lastErr = false, nil
		return false, nil
	case w.hasBad && d == w.bad:
		w.hasPending, w.lastErr = false, w.badErr
		return false, w.badErr
	case w.hasGood && (!w.hasPending || d != w.pending):
		w.pending, w.hasPending = d, true
		return false, w.lastErr
	}
	w.hasPending = false
	f, err := parse(w.path, srcs, w.env)
	w.refs = f.refs
	if err == nil {
		err = apply(f)
	}
	if err != nil {
		w.bad, w.hasBad, w.badErr, w.lastErr = f.Digest, true, err, err
		return false, err
	}
	w.good, w.hasGood, w.hasBad, w.badErr, w.lastErr = f.Digest, true, false, nil, nil
	return true, nil
}

// Retry forgets the broken version, so that the next Poll parses and
// applies it again: what made apply refuse it may have changed.
func (w *Watcher) Retry() { w.hasBad, w.badErr = false, nil }

// Reloader calls poll every interval until Stop. The first error after a
// success is logged (message, fields and the error, which names no secret)
// and reported to the host as a recoverable error: healthcheckv2 shows it;
// the next success reports the component OK again.
type Reloader struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// ReloaderSettings say what a Reloader polls and where it reports.
type ReloaderSettings struct {
	Interval time.Duration
	Host     component.Host
	Logger   *zap.Logger
	// Message is logged with Fields and the error when polling starts to
	// fail.
	Message string
	Fields  []zap.Field
}

// StartReloader starts polling.
func StartReloader(s ReloaderSettings, poll func() (changed bool, err error)) *Reloader {
	r := &Reloader{stop: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(s.Interval)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
			changed, err := poll()
			switch {
			case err != nil:
				if !failing {
					s.Logger.Error(s.Message, append(s.Fields[:len(s.Fields):len(s.Fields)], zap.Error(err))...)
					componentstatus.ReportStatus(s.Host, componentstatus.NewRecoverableErrorEvent(err))
				}
				failing = true
			case changed || failing:
				if failing {
					componentstatus.ReportStatus(s.Host, componentstatus.NewEvent(componentstatus.StatusOK))
				}
				failing = false
			}
		}
	}()
	return r
}

// Stop stops polling and waits for a poll under way; nil does nothing.
func (r *Reloader) Stop() {
	if r == nil {
		return
	}
	close(r.stop)
	r.wg.Wait()
}

// Live is a receiver's tenant-derived state S (its credential lookups and
// subject keyers), built from its configuration and its tenants file, and
// rebuilt when the file changes. Requests read it with Load: one atomic
// load, whatever the number of tenants.
type Live[S any] struct {
	cur      atomic.Pointer[S]
	watcher  *Watcher
	interval time.Duration
	vendor   string
	logger   *zap.Logger
	build    func([]FileTenant) (*S, error)
	reloader *Reloader
	count    int // the file's tenants of vendor in force, for the log
}

// NewLive builds the state from the receiver's own tenants and, when
// tenants_file is set, the file's tenants of vendor: build gets the
// latter, and checks and builds the whole. An error (the file or what
// build says about it) is returned: the collector does not start.
func NewLive[S any](r Receiver, vendor string, logger *zap.Logger, build func([]FileTenant) (*S, error)) (*Live[S], error) {
	l := &Live[S]{vendor: vendor, logger: logger, build: build, interval: r.TenantsReloadInterval}
	if r.TenantsFile == "" {
		s, err := build(nil)
		if err != nil {
			return nil, err
		}
		l.cur.Store(s)
		return l, nil
	}
	l.watcher = NewWatcher(r.TenantsFile, nil)
	if _, err := l.watcher.Poll(l.apply); err != nil {
		return nil, err
	}
	return l, nil
}

// apply builds the state of one version of the file and swaps it in.
func (l *Live[S]) apply(f *File) error {
	tenants := f.OfVendor(l.vendor)
	s, err := l.build(tenants)
	if err != nil {
		return fmt.Errorf("tenants file %s: %s", f.Path, redactAll(tenants, err.Error()))
	}
	l.cur.Store(s)
	l.count = len(tenants)
	return nil
}

// Load is the state in force.
func (l *Live[S]) Load() *S { return l.cur.Load() }

// Start follows the tenants file, if there is one and reloading is on.
func (l *Live[S]) Start(host component.Host) {
	if l.watcher == nil || l.interval <= 0 {
		return
	}
	l.reloader = StartReloader(ReloaderSettings{
		Interval: l.interval, Host: host, Logger: l.logger,
		Message: "Tenants file is invalid; the tenants in force stay in force",
		Fields:  []zap.Field{zap.String("tenants_file", l.watcher.Path())},
	}, func() (bool, error) {
		changed, err := l.watcher.Poll(l.apply)
		if changed {
			l.logger.Info("Tenants file reloaded", zap.String("tenants_file", l.watcher.Path()), zap.Int("tenants", l.count))
		}
		return changed, err
	})
}

// Shutdown stops following the file.
func (l *Live[S]) Shutdown() {
	l.reloader.Stop()
	l.reloader = nil
}

func redactAll(tenants []FileTenant, msg string) string {
	for _, t := range tenants {
		msg = t.Redact(msg)
	}
	return msg
}

// Decode decodes a file tenant's credentials into a receiver's tenant type
// T, with the tenant's id under idKey and its subject_salt: the receiver's
// own keys, checked the same way (an unknown key is an error). Errors name
// the tenant and never quote a secret.
func Decode[T any](t FileTenant, idKey string) (T, error) {
	var out T
	m := make(map[string]any, len(t.Credentials)+2)
	for k, v := range t.Credentials {
		if k == idKey || k == "subject_salt" {
			return out, fmt.Errorf("%s/%s: credentials.%s: set it as the tenant's %s", t.Vendor, t.ID, k, map[bool]string{true: "id", false: "subject_salt"}[k == idKey])
		}
		m[k] = v
	}
	m[idKey] = t.ID
	if t.SubjectSalt != "" {
		m["subject_salt"] = string(t.SubjectSalt)
	}
	if err := confmap.NewFromStringMap(m).Unmarshal(&out); err != nil {
		return out, fmt.Errorf("%s/%s: credentials: %s", t.Vendor, t.ID, t.Redact(err.Error()))
	}
	return out, nil
}

// DecodeAll decodes tenants with Decode.
func DecodeAll[T any](tenants []FileTenant, idKey string) ([]T, error) {
	out := make([]T, 0, len(tenants))
	var errs []error
	for _, t := range tenants {
		v, err := Decode[T](t, idKey)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}

// Merge returns a copy of a receiver's configuration cfg whose tenants
// (list points to them) are its own followed by the file's, decoded with
// Decode under idKey, and checks the copy with validate: the file's tenants
// obey every rule the listed ones do. Without file tenants it returns cfg.
func Merge[C any, T any](cfg *C, file []FileTenant, idKey string, list func(*C) *[]T, validate func(*C) error) (*C, error) {
	if len(file) == 0 {
		return cfg, nil
	}
	decoded, err := DecodeAll[T](file, idKey)
	if err != nil {
		return nil, err
	}
	c := *cfg
	own := *list(cfg)
	merged := make([]T, 0, len(own)+len(decoded))
	*list(&c) = append(append(merged, own...), decoded...)
	if err := validate(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Handle adapts a handler of one version of the state to a handler that
// serves each request with the version in force.
func Handle[S, Req, Out any](l *Live[S], h func(*S, Req) (Out, error)) func(Req) (Out, error) {
	return func(req Req) (Out, error) { return h(l.Load(), req) }
}

// NewMerged is NewLive for a receiver whose state is built, by build, from
// its configuration cfg merged (Merge) with the file's tenants of vendor.
func NewMerged[C, T, S any](r Receiver, cfg *C, vendor, idKey string, logger *zap.Logger,
	list func(*C) *[]T, validate func(*C) error, build func(*C) (*S, error),
) (*Live[S], error) {
	return NewLive(r, vendor, logger, func(file []FileTenant) (*S, error) {
		c, err := Merge(cfg, file, idKey, list, validate)
		if err != nil {
			return nil, err
		}
		return build(c)
	})
}
