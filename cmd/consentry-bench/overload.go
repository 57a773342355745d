package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/consentry/consentry/cmd/consentry-loadgen/loadgen"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// overload runs the overload scenario: a fresh collector quarantining
// every event, offered overloadFactor times flat (the quarantine
// scenario's flat-out rate; 0: measured here first) over
// -overload-connections, each request given the vendors' timeout. Then the
// collector is stopped and the ledger's rows are counted: every 2xx must
// be among them.
func (re *runEnv) overload(ctx context.Context, r *scenarioResult, flat float64) error {
	cfg := re.cfg
	d, dir, cleanup, err := re.workspace(r)
	if err != nil {
		return err
	}
	defer cleanup()
	ports := d.Ports
	key := randomHex(32)
	d.Ledger = filepath.Join(dir, "ledger.db")
	conf, err := renderConfig(d)
	if err != nil {
		return err
	}
	env := append(append([]string{}, re.env...), "CONSENTRY_LEDGER_KEY="+key)
	fmt.Fprintf(re.log, "%s: starting the collector\n", r.Name)
	c, err := startCollector(ctx, cfg.Binary, dir, conf, env, ports["health"], 5*time.Minute)
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			c.stop()
		}
	}()
	g, err := re.generator(ports, 0, false)
	if err != nil {
		return err
	}
	smp := startSampler(c.pid(), 250*time.Millisecond)
	defer smp.close()
	var acknowledged int64
	if flat <= 0 {
		fmt.Fprintf(re.log, "%s: no quarantine scenario in this run; measuring its flat-out rate for %s\n", r.Name, cfg.Duration)
		res, err := loadgen.Run(ctx, g, loadgen.RunOptions{Connections: cfg.Connections, Warmup: cfg.Warmup, Duration: cfg.Duration, Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		flat, acknowledged = res.OKRate, res.AllOK
		r.FlatRate = flat
	}
	if flat <= 0 {
		return fmt.Errorf("the collector quarantined nothing flat out; collector log:\n%s", c.tail(3000))
	}
	o := &overloadResult{Offered: overloadFactor * flat, Connections: cfg.OverloadConnections, BoundMs: float64(overloadBound.Milliseconds())}
	r.Overload = o
	fmt.Fprintf(re.log, "%s: %.0f events/s (%d× %.0f) over %d connections for %s\n", r.Name, o.Offered, overloadFactor, flat, o.Connections, cfg.Duration)
	var from procSample
	fromTaken := make(chan struct{})
	go func() {
		defer close(fromTaken)
		select {
		case <-time.After(cfg.Warmup + 10*time.Millisecond):
			from = smp.now()
		case <-ctx.Done():
		}
	}()
	res, err := loadgen.Run(ctx, g, loadgen.RunOptions{Rate: o.Offered, Connections: o.Connections,
		Warmup: cfg.Warmup, Duration: cfg.Duration, Timeout: vendorTimeout})
	to := smp.now()
	<-fromTaken
	if err != nil {
		return err
	}
	o.Cores, r.FixedRSS = smp.window(from, to)
	acknowledged += res.AllOK
	o.Achieved, o.Accepted = res.AchievedRate, res.OKRate
	if res.Sent > 0 {
		n := float64(res.Sent)
		o.Share503 = float64(res.Statuses[503]) / n
		o.ShareTimeout = float64(res.Errors["timeout"]) / n
		o.ShareOther = float64(res.Sent-res.OK-res.Statuses[503]-res.Errors["timeout"]) / n
	}
	o.AcceptedP50, o.AcceptedP99, o.AcceptedMax = res.OKLatency.P50, res.OKLatency.P99, res.OKLatency.Max
	o.AcceptedServiceP50, o.AcceptedServiceP99 = res.OKServiceLatency.P50, res.OKServiceLatency.P99
	o.RefusedP99, o.MaxLagMs = res.Latency.P99, res.MaxLagMs
	r.Non2xx, r.Errors = res.Sent-res.OK-errCount(res), errCount(res)
	fmt.Fprintf(re.log, "%s: achieved %.0f/s, 2xx %.0f/s, 503 %.1f %%, timeouts %.1f %%, 2xx p50 %.1f p99 %.1f max %.1f ms (from the send: p50 %.1f p99 %.1f ms), %.2f cores, statuses %v, errors %v\n",
		r.Name, o.Achieved, o.Accepted, 100*o.Share503, 100*o.ShareTimeout, o.AcceptedP50, o.AcceptedP99, o.AcceptedMax, o.AcceptedServiceP50, o.AcceptedServiceP99, o.Cores, res.Statuses, res.Errors)
	if p, err := readProc(c.pid()); err == nil {
		r.PeakRSS = p.hwm
	}
	stopped = true
	if err := c.stop(); err != nil {
		return err
	}
	rows, err := ledgerRows(ctx, d.Ledger, key)
	if err != nil {
		return fmt.Errorf("counting the ledger's rows: %w", err)
	}
	o.durabilityResult = newDurability(acknowledged, rows)
	fmt.Fprintf(re.log, "%s: %d events acknowledged, %d records in the ledger, %d lost\n", r.Name, o.Acknowledged, o.LedgerRows, o.Lost)
	return nil
}

// ledgerRows counts the quarantined records of the SQLite ledger at path.
func ledgerRows(ctx context.Context, path, keyHex string) (int64, error) {
	st, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		return 0, err
	}
	return storeRows(ctx, st, keyHex)
}

// storeRows counts the quarantined records of a ledger's store through
// the ledger's own statistics (which check what they count against the
// hash chains), and closes it.
func storeRows(ctx context.Context, st *sqlstore.Store, keyHex string) (int64, error) {
	kb, err := hex.DecodeString(keyHex)
	if err != nil {
		st.Close()
		return 0, err
	}
	l, err := ledger.Open(ctx, st, ledger.Options{KEKs: []ledger.KEK{{ID: "bench", Key: kb}}, WriterID: "bench-count"})
	if err != nil {
		return 0, err
	}
	s, err := l.Stats(ctx, ledger.Filter{})
	if cerr := l.Close(ctx); err == nil {
		err = cerr
	}
	return s.Total, err
}
