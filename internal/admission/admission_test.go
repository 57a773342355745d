package admission

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// run keeps the resource busy at rate rows/s for d: batches of batch rows
// admitted and completed every batch/rate.
func run(t *testing.T, c *Controller, clk *clock, rate float64, batch int, d time.Duration) {
	t.Helper()
	step := time.Duration(float64(batch) / rate * float64(time.Second))
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		require.NoError(t, c.Admit(batch))
		clk.advance(step)
		c.Done(batch, true)
	}
}

func TestAdmitsUntilMeasured(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := newController(time.Second, clk.now)
	for range 100_000 {
		require.NoError(t, c.Admit(1), "nothing measured yet: everything is admitted")
	}
	wait, rate := c.Estimate()
	assert.Zero(t, wait)
	assert.Zero(t, rate)
}

func TestRefusesPastTheBound(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := newController(500*time.Millisecond, clk.now)
	run(t, c, clk, 1000, 10, 2*time.Second)
	_, rate := c.Estimate()
	assert.InDelta(t, 1000, rate, 1, "the throughput is measured over busy time")

	// 1,000 rows/s and a 500 ms bound, of which half is filled: 250 rows
	// may wait.
	for range 250 {
		require.NoError(t, c.Admit(1))
	}
	require.ErrorIs(t, c.Admit(1), ErrOverloaded, "the 251st row would wait past half the bound")
	wait, _ := c.Estimate()
	assert.Equal(t, 250*time.Millisecond, wait)
	c.Done(100, true)
	require.NoError(t, c.Admit(100), "room again once rows are committed")
	require.ErrorIs(t, c.Admit(1), ErrOverloaded)
}

// Light load says nothing about capacity: the throughput is measured over
// the time the resource was busy, not over wall time, so a request now and
// then is not refused for the low arrival rate.
func TestLightLoadIsNotMistakenForLowCapacity(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := newController(100*time.Millisecond, clk.now)
	for range 50 { // one row every 100 ms, each committed in 5 ms
		require.NoError(t, c.Admit(1))
		clk.advance(5 * time.Millisecond)
		c.Done(1, true)
		clk.advance(95 * time.Millisecond)
	}
	_, rate := c.Estimate()
	assert.InDelta(t, 200, rate, 1, "one row per 5 ms of busy time")
	for range 9 {
		require.NoError(t, c.Admit(1), "9 rows at 200/s wait 45 ms: within half the bound")
	}
	require.ErrorIs(t, c.Admit(2), ErrOverloaded, "11 would wait 55 ms")
}

// A resource that stops committing is measured at zero and everything
// waiting behind it is refused; with nothing in flight one request is
// admitted, so a resource that recovers is measured again.
func TestStallAndRecovery(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	c := newController(time.Second, clk.now)
	run(t, c, clk, 1000, 10, time.Second)
	require.NoError(t, c.Admit(10))
	for range 20 { // 2 s without a commit
		clk.advance(100 * time.Millisecond)
		if c.Admit(1) == nil {
			c.Done(1, false) // admitted rows fail: not throughput
		}
	}
	require.ErrorIs(t, c.Admit(1), ErrOverloaded, "a stalled resource refuses")
	c.Done(10, false)
	require.NoError(t, c.Admit(10), "nothing in flight: admitted whatever the estimate")
	clk.advance(10 * time.Millisecond)
	c.Done(10, true)
	run(t, c, clk, 1000, 10, 2*time.Second)
	for range 450 {
		require.NoError(t, c.Admit(1), "measured again after recovery")
	}
}

func TestConcurrentUse(t *testing.T) {
	c := New(time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if c.Admit(2) == nil {
					c.Done(2, true)
				}
			}
		}()
	}
	wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Zero(t, c.inflight)
}
