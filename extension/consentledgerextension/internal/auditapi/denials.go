package auditapi

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/consentry/consentry/internal/ledger"
)

// Unauthenticated calls are not logged one by one: each would append a
// committed, chained access-log entry through the writer that stores the
// quarantine, so an anonymous flood would slow the webhooks and fill the
// disk. They are counted per source (the caller's network address) and
// written once per window: one entry per source, without any of the
// caller's text, and at most maxDenialSources entries (plus one for every
// other source) per window. Every call is counted in the
// consentry.audit.calls metric as it happens.
const (
	// defaultDenialWindow is how long denials are aggregated.
	defaultDenialWindow = time.Minute
	// maxDenialSources bounds the sources tracked in one window; the rest
	// are counted under "other".
	maxDenialSources = 256
	// maxDenialIdentities bounds the distinct identities named per source
	// ("anonymous", "unknown-token:…"): a guessed token is one each.
	maxDenialIdentities = 4
	// maxDenialTarget bounds the target of an aggregated entry.
	maxDenialTarget = 512
	// otherSources collects the sources past maxDenialSources.
	otherSources = "other"
)

// denialEntry is what one source did in a window.
type denialEntry struct {
	source      string
	count       int64
	first, last time.Time
	methods     map[string]int64
	identities  []string
	moreIDs     int64
}

// denials aggregates unauthenticated calls.
type denials struct {
	window time.Duration
	mu     sync.Mutex
	cur    map[string]*denialEntry
}

func newDenials(window time.Duration) *denials {
	if window <= 0 {
		window = defaultDenialWindow
	}
	return &denials{window: window, cur: map[string]*denialEntry{}}
}

// add counts one unauthenticated call.
func (d *denials) add(now time.Time, source, identity, method string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.cur[source]
	if e == nil {
		if len(d.cur) >= maxDenialSources {
			source = otherSources
			e = d.cur[source]
		}
		if e == nil {
			e = &denialEntry{source: source, first: now, methods: map[string]int64{}}
			d.cur[source] = e
		}
	}
	e.count++
	e.last = now
	e.methods[method]++ // methods come from a fixed set
	for _, id := range e.identities {
		if id == identity {
			return
		}
	}
	if len(e.identities) < maxDenialIdentities {
		e.identities = append(e.identities, identity)
	} else {
		e.moreIDs++
	}
}

// take returns the window's entries, largest first, and starts a new
// window.
func (d *denials) take() []*denialEntry {
	d.mu.Lock()
	cur := d.cur
	d.cur = map[string]*denialEntry{}
	d.mu.Unlock()
	out := make([]*denialEntry, 0, len(cur))
	for _, e := range cur {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].count > out[j].count })
	return out
}

// accessEntry is the access-log entry of an aggregated source.
func (e *denialEntry) accessEntry() ledger.AccessEntry {
	identity := "unauthenticated"
	if len(e.identities) == 1 && e.moreIDs == 0 {
		identity = e.identities[0]
	}
	method := "several"
	for m := range e.methods {
		if len(e.methods) == 1 {
			method = m
		}
	}
	t := denialTarget{
		Source: e.source, Denied: e.count, From: e.first.UTC().Format(time.RFC3339Nano), To: e.last.UTC().Format(time.RFC3339Nano),
		Methods: e.methods, Identities: e.identities, MoreIdentities: e.moreIDs,
	}
	b, _ := json.Marshal(t)
	for len(b) > maxDenialTarget && len(t.Identities) > 0 {
		t.MoreIdentities++
		t.Identities = t.Identities[:len(t.Identities)-1]
		b, _ = json.Marshal(t)
	}
	if len(b) > maxDenialTarget {
		t.Methods = nil
		b, _ = json.Marshal(t)
	}
	return ledger.AccessEntry{
		Identity: identity, Method: method, Target: string(b),
		Result: fmt.Sprintf("denied: Unauthenticated (%d calls)", e.count),
	}
}

type denialTarget struct {
	Source         string           `json:"source"`
	Denied         int64            `json:"denied"`
	From           string           `json:"from"`
	To             string           `json:"to"`
	Methods        map[string]int64 `json:"methods,omitempty"`
	Identities     []string         `json:"identities,omitempty"`
	MoreIdentities int64            `json:"more_identities,omitempty"`
}

// flushDenials writes the window's aggregated denials to the access log.
func (s *Service) flushDenials() {
	for _, e := range s.denials.take() {
		ctx, cancel := context.WithTimeout(context.Background(), accessTimeout)
		entry := e.accessEntry()
		_, err := s.ledger.AppendAccess(ctx, entry)
		cancel()
		fields := []zap.Field{zap.String("source", e.source), zap.Int64("calls", e.count), zap.String("method", entry.Method)}
		if err != nil {
			s.log.Error("audit API: access-log entry of unauthenticated calls not written", append(fields, zap.Error(err))...)
			continue
		}
		s.log.Warn("audit API: unauthenticated calls refused", fields...)
	}
}

// runDenials flushes every window until stop is closed, then once more.
func (s *Service) runDenials(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.denials.window)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.flushDenials()
		case <-stop:
			s.flushDenials()
			return
		}
	}
}
