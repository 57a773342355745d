// Package admission refuses work that would wait too long: a Controller in
// front of a serial resource (the consent ledger's group commit) tracks the
// rows in flight and the resource's observed throughput, estimates how long
// a new request would wait for its commit (rows ahead of it / throughput),
// and refuses the request at once with ErrOverloaded when that exceeds a
// bound. The receivers answer such a refusal 503 with Retry-After, so an
// overloaded collector sheds load in microseconds instead of queueing
// requests past the vendors' 5 s timeout (docs/design/admission-control.md).
package admission

import (
	"errors"
	"sync"
	"time"
)

// ErrOverloaded is the refusal: the estimated wait exceeds the bound. It is
// retryable (the receivers answer 503 with Retry-After); nothing of the
// refused request was stored.
var ErrOverloaded = errors.New("overloaded: the estimated wait for the commit exceeds the admission bound")

const (
	// window is the wall time over which completions are counted before
	// they are folded into the throughput estimate.
	window = 100 * time.Millisecond
	// minBusy is the busy time a window needs to be folded: a window in
	// which the resource was almost idle says nothing about its capacity,
	// so it stays open until it has seen enough work.
	minBusy = 20 * time.Millisecond
	// alpha is the weight of a new window in the moving average: about the
	// last second of busy time counts.
	alpha = 0.25
	// headroom is the share of the bound that admission fills. The
	// estimate is a forecast: the writer's throughput varies from one
	// window to the next, and on a loaded machine an admitted request also
	// waits for a CPU before and after its commit. Measured (the exporter's
	// overload test), admitted requests waited up to 1.3-1.4 times the
	// estimate at p99; filling half the bound keeps their p99 within it.
	// Throughput does not suffer: at 5,000 rows/s and a 1 s bound, 2,500
	// rows may still queue, far more than a group commit takes.
	headroom = 0.5
)

// Controller is the admission state of one resource. Its methods are safe
// for concurrent use.
type Controller struct {
	bound time.Duration
	now   func() time.Time

	mu          sync.Mutex
	inflight    int64         // rows admitted and not yet done
	busySince   time.Time     // when inflight last became non-zero
	busy        time.Duration // busy time in the current window
	done        int64         // rows completed in the current window
	windowStart time.Time
	rate        float64 // rows per busy second (moving average)
	measured    bool    // rate holds at least one window
}

// New returns a controller that refuses when the estimated wait exceeds
// bound.
func New(bound time.Duration) *Controller {
	return newController(bound, time.Now)
}

func newController(bound time.Duration, now func() time.Time) *Controller {
	return &Controller{bound: bound, now: now, windowStart: now()}
}

// Admit reserves n rows, or refuses with ErrOverloaded when the rows
// already in flight plus n would, at the measured throughput, take longer
// than the bound (less its headroom) to commit. With nothing in flight it always admits: there
// is nothing to wait behind, and a resource that failed or stalled is
// measured again from the next request. Every admitted reservation must be
// ended with Done.
func (c *Controller) Admit(n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.fold(now)
	// rows / rate > bound × headroom, written so that a measured rate of
	// 0 (a stalled resource) refuses too.
	if c.inflight > 0 && c.measured && float64(c.inflight+int64(n)) > headroom*c.bound.Seconds()*c.rate {
		return ErrOverloaded
	}
	if c.inflight == 0 {
		c.busySince = now
	}
	c.inflight += int64(n)
	return nil
}

// Done ends a reservation of n rows; committed says whether they were
// stored (a failure is not throughput).
func (c *Controller) Done(n int, committed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if committed {
		c.done += int64(n)
	}
	c.inflight -= int64(n)
	if c.inflight <= 0 {
		c.inflight = 0
		c.busy += now.Sub(c.busySince)
		c.busySince = now
	}
	c.fold(now)
}

// fold closes the current window into the moving average when it is due.
func (c *Controller) fold(now time.Time) {
	if now.Sub(c.windowStart) < window {
		return
	}
	busy := c.busy
	if c.inflight > 0 {
		busy += now.Sub(c.busySince)
	}
	if busy < minBusy {
		return
	}
	sample := float64(c.done) / busy.Seconds()
	if !c.measured {
		c.rate, c.measured = sample, true
	} else {
		c.rate = alpha*sample + (1-alpha)*c.rate
	}
	c.done, c.busy, c.windowStart = 0, 0, now
	if c.inflight > 0 {
		c.busySince = now
	}
}

// Estimate is the wait the next row would have (rows in flight over the
// measured throughput), and the throughput in rows per second; both 0
// before the first measurement, the wait the longest duration once the
// measured throughput is 0.
func (c *Controller) Estimate() (wait time.Duration, rate float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.measured {
		return 0, 0
	}
	if c.rate <= 0 {
		return time.Duration(1<<63 - 1), 0
	}
	return time.Duration(float64(c.inflight) / c.rate * float64(time.Second)), c.rate
}
