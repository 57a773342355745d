package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RunOptions bounds and paces a run.
type RunOptions struct {
	// Rate is the offered load in events per second, scheduled open-loop:
	// event i is due at start + i/Rate whatever happened to the ones
	// before, and its latency is measured from that due time, so time spent
	// waiting for a free connection counts (no coordinated omission).
	// 0 sends flat out; latency is then measured from the send.
	Rate float64
	// Connections is the number of keep-alive connections (and sending
	// goroutines); at most this many requests are in flight.
	Connections int
	// Count stops after this many events (0: no bound).
	Count int64
	// Duration stops scheduling events after this long (0: no bound). At
	// least one of Count and Duration must be set.
	Duration time.Duration
	// Warmup: events due in the first Warmup are sent but not measured.
	Warmup time.Duration
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
	// Client overrides the HTTP client (tests).
	Client *http.Client
}

// Result is what a run measured (events due after the warm-up).
type Result struct {
	Mode         string           `json:"mode"` // webhook | otlp
	TargetRate   float64          `json:"target_rate"`
	Connections  int              `json:"connections"`
	Elapsed      float64          `json:"elapsed_s"` // measured window: end of warm-up to the last response
	Sent         int64            `json:"sent"`      // requests completed (any outcome)
	OK           int64            `json:"ok"`        // 2xx
	AchievedRate float64          `json:"achieved_rate"`
	OKRate       float64          `json:"ok_rate"`  // 2xx per second
	Statuses     map[int]int64    `json:"statuses"` // HTTP status -> count
	Errors       map[string]int64 `json:"errors"`   // transport errors by kind
	ByVendor     map[string]int64 `json:"by_vendor"`
	Forward      int64            `json:"forward"`    // events the policy forwards
	Quarantine   int64            `json:"quarantine"` // events the policy quarantines
	Duplicates   int64            `json:"duplicates"` // re-sent events
	Bytes        int64            `json:"bytes"`      // request bodies
	Latency      LatencyMs        `json:"latency_ms"`
	// OKLatency is the latency of the 2xx answers alone (a refusal, fast
	// by design, would flatter Latency under overload).
	OKLatency LatencyMs `json:"ok_latency_ms"`
	// OKServiceLatency is the latency of the 2xx answers from the moment
	// the request was sent (each sender has its own connection, so no wait
	// for one): the target's own time, without the generator's lag. At a
	// fixed rate that the senders cannot keep up with (too few connections
	// for the target's latency, or a starved generator), OKLatency grows
	// with the lag while this does not.
	OKServiceLatency LatencyMs `json:"ok_service_latency_ms"`
	// AllOK counts the 2xx answers of the whole run, warm-up included:
	// what the target acknowledged.
	AllOK int64 `json:"all_ok"`
	// MaxLag is how far behind schedule the sender fell at worst (fixed
	// rate only): a large value means the generator, not the target, was
	// the bottleneck or the target stalled.
	MaxLagMs float64 `json:"max_lag_ms"`
	hist     Histogram
	okHist   Histogram
	okSvc    Histogram
}

// LatencyMs are latency percentiles in milliseconds.
type LatencyMs struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Histogram returns the latency histogram (nanoseconds).
func (r *Result) Histogram() *Histogram { return &r.hist }

type workerStats struct {
	hist     Histogram
	okHist   Histogram
	okSvc    Histogram
	allOK    int64
	statuses map[int]int64
	errors   map[string]int64
	byVendor map[string]int64
	fwd, q   int64
	dups     int64
	bytes    int64
	sent, ok int64
	lastDone time.Time
	maxLag   time.Duration
}

// NewClient returns an HTTP client with conns keep-alive connections per
// target.
func NewClient(conns int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 8,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Run sends events from g as opts says and returns the measurements.
func Run(ctx context.Context, g *Generator, opts RunOptions) (*Result, error) {
	if opts.Connections < 1 {
		return nil, fmt.Errorf("connections %d: want at least 1", opts.Connections)
	}
	if opts.Count <= 0 && opts.Duration <= 0 {
		return nil, errors.New("set a count or a duration (or both): a run must be bounded")
	}
	if opts.Rate < 0 {
		return nil, fmt.Errorf("rate %v: want 0 (flat out) or more", opts.Rate)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	client := opts.Client
	if client == nil {
		client = NewClient(opts.Connections, opts.Timeout)
		defer client.CloseIdleConnections()
	}
	var interval float64
	if opts.Rate > 0 {
		interval = float64(time.Second) / opts.Rate
	}
	start := time.Now().Add(10 * time.Millisecond) // let the goroutines start
	warmEnd := start.Add(opts.Warmup)
	var end time.Time
	if opts.Duration > 0 {
		end = start.Add(opts.Warmup + opts.Duration)
	}
	// Requests still out after the schedule plus the timeout are abandoned.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var seq atomic.Int64
	stats := make([]*workerStats, opts.Connections)
	var wg sync.WaitGroup
	for w := 0; w < opts.Connections; w++ {
		st := &workerStats{statuses: map[int]int64{}, errors: map[string]int64{}, byVendor: map[string]int64{}}
		stats[w] = st
		src := g.NewSource(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				i := seq.Add(1) - 1
				if opts.Count > 0 && i >= opts.Count {
					return
				}
				var due time.Time
				if interval > 0 {
					due = start.Add(time.Duration(float64(i) * interval))
					if !end.IsZero() && !due.Before(end) {
						return
					}
				} else {
					due = time.Now()
					if due.Before(start) {
						due = start
					}
					if !end.IsZero() && !due.Before(end) {
						return
					}
				}
				req := src.Next(due)
				if wait := time.Until(due); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-t.C:
					case <-runCtx.Done():
						t.Stop()
						return
					}
				} else if interval > 0 && -wait > st.maxLag {
					st.maxLag = -wait
				}
				if interval == 0 {
					due = time.Now() // flat out: service time from the send
				}
				sentAt := time.Now()
				status, err := send(runCtx, client, req)
				done := time.Now()
				ok := err == nil && status >= 200 && status < 300
				if ok {
					st.allOK++
				}
				if due.Before(warmEnd) {
					continue
				}
				st.sent++
				st.lastDone = done
				st.hist.RecordDuration(done.Sub(due))
				st.bytes += int64(len(req.Body))
				st.byVendor[req.Vendor]++
				if req.Duplicate {
					st.dups++
				} else if req.Forward {
					st.fwd++
				} else {
					st.q++
				}
				if err != nil {
					st.errors[classify(err)]++
					continue
				}
				st.statuses[status]++
				if ok {
					st.ok++
					st.okHist.RecordDuration(done.Sub(due))
					st.okSvc.RecordDuration(done.Sub(sentAt))
				}
			}
		}()
	}
	// Abandon what is still out well after the schedule.
	if !end.IsZero() {
		go func() {
			t := time.NewTimer(time.Until(end) + opts.Timeout + time.Second)
			defer t.Stop()
			select {
			case <-t.C:
				cancel()
			case <-runCtx.Done():
			}
		}()
	}
	wg.Wait()
	res := &Result{Mode: "webhook", TargetRate: opts.Rate, Connections: opts.Connections,
		Statuses: map[int]int64{}, Errors: map[string]int64{}, ByVendor: map[string]int64{}}
	if g.opts.OTLP {
		res.Mode = "otlp"
	}
	var last time.Time
	var maxLag time.Duration
	for _, st := range stats {
		res.hist.Merge(&st.hist)
		res.okHist.Merge(&st.okHist)
		res.okSvc.Merge(&st.okSvc)
		res.AllOK += st.allOK
		addAll(res.Statuses, st.statuses)
		addAll(res.Errors, st.errors)
		addAll(res.ByVendor, st.byVendor)
		res.Sent += st.sent
		res.OK += st.ok
		res.Forward += st.fwd
		res.Quarantine += st.q
		res.Duplicates += st.dups
		res.Bytes += st.bytes
		if st.lastDone.After(last) {
			last = st.lastDone
		}
		maxLag = max(maxLag, st.maxLag)
	}
	if res.Sent > 0 {
		res.Elapsed = last.Sub(warmEnd).Seconds()
		if res.Elapsed > 0 {
			res.AchievedRate = float64(res.Sent) / res.Elapsed
			res.OKRate = float64(res.OK) / res.Elapsed
		}
	}
	res.MaxLagMs = ms(int64(maxLag))
	res.Latency, res.OKLatency, res.OKServiceLatency = latencyMs(&res.hist), latencyMs(&res.okHist), latencyMs(&res.okSvc)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, nil
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

func latencyMs(h *Histogram) LatencyMs {
	return LatencyMs{P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()), Mean: h.Mean() / 1e6}
}

func send(ctx context.Context, c *http.Client, r *Request) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, err
	}
	for _, h := range r.Header {
		req.Header[h[0]] = []string{h[1]}
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// classify names a transport error without its text (which may hold URLs).
func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return "other"
}

// WriteText prints r for people.
func (r *Result) WriteText(w io.Writer) {
	rate := "flat out"
	if r.TargetRate > 0 {
		rate = fmt.Sprintf("%.0f events/s (open loop)", r.TargetRate)
	}
	fmt.Fprintf(w, "mode %s, %s, %d connections, %.2f s measured\n", r.Mode, rate, r.Connections, r.Elapsed)
	fmt.Fprintf(w, "sent      %d events (%.0f/s), %d 2xx (%.0f/s)\n", r.Sent, r.AchievedRate, r.OK, r.OKRate)
	fmt.Fprintf(w, "mix       %d forward, %d quarantine, %d duplicates;", r.Forward, r.Quarantine, r.Duplicates)
	for _, v := range sortedKeys(r.ByVendor) {
		fmt.Fprintf(w, " %s %d", v, r.ByVendor[v])
	}
	fmt.Fprintln(w)
	var codes []string
	for _, c := range sortedInts(r.Statuses) {
		codes = append(codes, fmt.Sprintf("%d: %d", c, r.Statuses[c]))
	}
	fmt.Fprintf(w, "status    %s\n", strings.Join(codes, ", "))
	if len(r.Errors) > 0 {
		var errs []string
		for _, k := range sortedKeys(r.Errors) {
			errs = append(errs, fmt.Sprintf("%s: %d", k, r.Errors[k]))
		}
		fmt.Fprintf(w, "errors    %s\n", strings.Join(errs, ", "))
	}
	l := r.Latency
	from := "from the due time"
	if r.TargetRate == 0 {
		from = "from the send"
	}
	fmt.Fprintf(w, "latency   p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f ms (%s)\n",
		l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean, from)
	if r.OK < r.Sent {
		l = r.OKLatency
		fmt.Fprintf(w, "2xx only  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms, mean %.2f ms\n",
			l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean)
	}
	if r.TargetRate > 0 {
		fmt.Fprintf(w, "lag       the sender was at most %.2f ms behind schedule\n", r.MaxLagMs)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// Merge combines the results of runs made at the same time, each against
// one replica of a service with its share of the rate and connections (the
// way a load balancer spreads connections), into the result of the whole:
// counts and rates add up, latency histograms merge, the measured window is
// the longest of them.
func Merge(rs ...*Result) *Result {
	out := &Result{Statuses: map[int]int64{}, Errors: map[string]int64{}, ByVendor: map[string]int64{}}
	for i, r := range rs {
		if i == 0 {
			out.Mode = r.Mode
		}
		out.TargetRate += r.TargetRate
		out.Connections += r.Connections
		out.Elapsed = max(out.Elapsed, r.Elapsed)
		out.Sent += r.Sent
		out.OK += r.OK
		out.AllOK += r.AllOK
		out.Forward += r.Forward
		out.Quarantine += r.Quarantine
		out.Duplicates += r.Duplicates
		out.Bytes += r.Bytes
		out.MaxLagMs = max(out.MaxLagMs, r.MaxLagMs)
		addAll(out.Statuses, r.Statuses)
		addAll(out.Errors, r.Errors)
		addAll(out.ByVendor, r.ByVendor)
		out.hist.Merge(&r.hist)
		out.okHist.Merge(&r.okHist)
		out.okSvc.Merge(&r.okSvc)
	}
	if out.Elapsed > 0 {
		out.AchievedRate = float64(out.Sent) / out.Elapsed
		out.OKRate = float64(out.OK) / out.Elapsed
	}
	out.Latency, out.OKLatency, out.OKServiceLatency = latencyMs(&out.hist), latencyMs(&out.okHist), latencyMs(&out.okSvc)
	return out
}

// addAll adds the counts of src to dst.
func addAll[K comparable](dst, src map[K]int64) {
	for k, v := range src {
		dst[k] += v
	}
}
