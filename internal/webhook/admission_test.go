package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// blockingNext is a next consumer that holds every call until released, and
// reports each call's arrival on entered.
type blockingNext struct {
	entered chan struct{}
	release chan struct{}
}

func newBlockingNext(t *testing.T) (*blockingNext, consumer.Logs) {
	b := &blockingNext{entered: make(chan struct{}, 16), release: make(chan struct{})}
	next, err := consumer.NewLogs(func(context.Context, plog.Logs) error {
		b.entered <- struct{}{}
		<-b.release
		return nil
	})
	require.NoError(t, err)
	return b, next
}

// trackedBody records whether the handler read the request body.
type trackedBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

func gatedServer(t *testing.T, maxInFlight int, maxWait time.Duration, next consumer.Logs, tel *componenttest.Telemetry) http.Handler {
	t.Helper()
	cfg := NewDefaultConfig("127.0.0.1:0")
	cfg.Admission = AdmissionConfig{MaxInFlight: maxInFlight, MaxWait: maxWait}
	require.NoError(t, cfg.Validate())
	set := receivertest.NewNopSettings(testType)
	if tel != nil {
		set.TelemetrySettings = tel.NewTelemetrySettings()
	}
	s, err := NewServer(&cfg, set, testTelemetry(t, set), next, Route{Path: "/hook", Name: "hook", Handle: oneEvent})
	require.NoError(t, err)
	return s.Handler()
}

// send serves one request whose body records whether it was read.
func send(h http.Handler, body string) (*httptest.ResponseRecorder, *trackedBody) {
	tb := &trackedBody{r: strings.NewReader(body)}
	return sendBody(h, tb), tb
}

func sendBody(h http.Handler, tb *trackedBody) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/hook", tb)
	req.Header.Set("Content-Type", ContentTypeJSON)
	req.Header.Set("X-Token", "ok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// fill starts n requests that each take a slot and block in the next
// consumer until b.release is closed; wait for their answers with wg.
func fill(t *testing.T, h http.Handler, b *blockingNext, n int, wg *sync.WaitGroup) {
	t.Helper()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, _ := send(h, "held")
			assert.Equal(t, http.StatusOK, rec.Code)
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case <-b.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("held requests did not reach the next consumer")
		}
	}
}

// TestAdmissionGateRefusesUnread: with every slot held, further requests
// are answered 503 with Retry-After after about admission.max_wait, their
// bodies unread, and counted as 503 in consentry.webhook.requests.
func TestAdmissionGateRefusesUnread(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	b, next := newBlockingNext(t)
	const maxWait = 50 * time.Millisecond
	h := gatedServer(t, 2, maxWait, next, tel)
	var wg sync.WaitGroup
	fill(t, h, b, 2, &wg)

	for i := 0; i < 3; i++ {
		start := time.Now()
		rec, body := send(h, "e1")
		took := time.Since(start)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "5", rec.Header().Get("Retry-After"))
		assert.JSONEq(t, `{"code":503,"message":"the collector is overloaded; retry later"}`, rec.Body.String())
		assert.False(t, body.read.Load(), "a refused request's body must not be read")
		assert.GreaterOrEqual(t, took, maxWait, "refused before waiting admission.max_wait")
		assert.Less(t, took, maxWait+2*time.Second, "refusal must come about max_wait, not when a slot frees")
	}
	close(b.release)
	wg.Wait()

	assert.Equal(t, map[int64]int64{200: 2, 503: 3}, requestsByStatus(t, tel))
}

// TestAdmissionGateZeroWait: with max_wait 0 a request is refused at once.
func TestAdmissionGateZeroWait(t *testing.T) {
	b, next := newBlockingNext(t)
	h := gatedServer(t, 1, 0, next, nil)
	var wg sync.WaitGroup
	fill(t, h, b, 1, &wg)
	rec, body := send(h, "e1")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.False(t, body.read.Load())
	close(b.release)
	wg.Wait()
}

// TestAdmissionGateReleasedSlotAdmits: a request waiting for a slot is
// admitted when one is released, and its event delivered.
func TestAdmissionGateReleasedSlotAdmits(t *testing.T) {
	b, next := newBlockingNext(t)
	h := gatedServer(t, 1, 4*time.Second, next, nil)
	var wg sync.WaitGroup
	fill(t, h, b, 1, &wg)

	done := make(chan *httptest.ResponseRecorder, 1)
	waiting := &trackedBody{r: strings.NewReader("e2")}
	go func() { done <- sendBody(h, waiting) }()
	time.Sleep(20 * time.Millisecond)
	assert.False(t, waiting.read.Load(), "the waiting request was admitted past the bound")

	close(b.release) // the held request completes and frees its slot
	select {
	case rec := <-done:
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.True(t, waiting.read.Load())
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting request got no answer")
	}
	wg.Wait()
}

// TestAdmissionGateUnbounded: max_in_flight 0 admits every request.
func TestAdmissionGateUnbounded(t *testing.T) {
	b, next := newBlockingNext(t)
	h := gatedServer(t, 0, 0, next, nil)
	var wg sync.WaitGroup
	fill(t, h, b, 8, &wg)
	close(b.release)
	wg.Wait()
}

func TestAdmissionConfigValidate(t *testing.T) {
	cfg := NewDefaultConfig("localhost:1")
	assert.Positive(t, cfg.Admission.MaxInFlight)
	assert.Equal(t, DefaultAdmissionMaxWait, cfg.Admission.MaxWait)
	for _, bad := range []AdmissionConfig{
		{MaxInFlight: -1, MaxWait: time.Millisecond},
		{MaxInFlight: 1, MaxWait: -time.Millisecond},
		{MaxInFlight: 1, MaxWait: 5 * time.Second},
	} {
		cfg.Admission = bad
		assert.ErrorContains(t, cfg.Validate(), "admission.", "%+v", bad)
	}
	for _, ok := range []AdmissionConfig{{}, {MaxInFlight: 1, MaxWait: 4 * time.Second}} {
		cfg.Admission = ok
		assert.NoError(t, cfg.Validate(), "%+v", ok)
	}
}
