package consentledger

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

var (
	procID   = component.MustNewID("consent")
	routerID = component.MustNewID("consent_router")
)

func record() plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Attributes().PutStr(ccaas.AttrConsentDecision, "quarantine")
	lr.Attributes().PutEmptySlice(ccaas.AttrConsentReasons).AppendEmpty().SetStr("consent.missing")
	return ld
}

// decide is an evaluator that writes a fixed decision and reason.
func decide(decision, reason string) Evaluator {
	return EvaluatorFunc(func(_ context.Context, ld plog.Logs) error {
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		lr.Attributes().PutStr(ccaas.AttrConsentDecision, decision)
		r := lr.Attributes().PutEmptySlice(ccaas.AttrConsentReasons)
		if reason != "" {
			r.AppendEmpty().SetStr(reason)
		}
		return nil
	})
}

func TestReleaseNeedsBothRegistrations(t *testing.T) {
	var h Hub
	require.ErrorIs(t, h.Ready(), ErrNoEvaluator)
	_, err := h.Release(context.Background(), record(), false)
	require.ErrorIs(t, err, ErrNoEvaluator)
	unreg := h.RegisterEvaluator(procID, decide("forward", ""))
	_, err = h.Release(context.Background(), record(), false)
	require.ErrorIs(t, err, ErrNoForward)
	sink := new(consumertest.LogsSink)
	unfwd := h.RegisterForward(routerID, sink)
	h.RegisterForward(component.MustNewIDWithName("consent_router", "b"), sink)
	_, err = h.Release(context.Background(), record(), false)
	require.ErrorIs(t, err, ErrAmbiguous)
	require.ErrorIs(t, h.Ready(), ErrAmbiguous)
	unfwd()
	unreg()
	_, err = h.Release(context.Background(), record(), false)
	require.ErrorIs(t, err, ErrNoEvaluator, "unregistering removes the evaluator")
	assert.Zero(t, sink.LogRecordCount())
}

func TestRelease(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		eval          Evaluator
		dryRun        bool
		wantDecision  string
		wantReasons   []string
		wantForwarded bool
	}{
		{"now allowed", decide("forward", ""), false, "forward", nil, true},
		{"dry run forwards nothing", decide("forward", ""), true, "forward", nil, false},
		{"still quarantined", decide("quarantine", "consent.denied"), false, "quarantine", []string{"consent.denied"}, false},
		{"malformed decision stays", decide("Forward", "x"), false, "quarantine", []string{"x"}, false},
		{"evaluator leaves no decision", EvaluatorFunc(func(_ context.Context, ld plog.Logs) error {
			ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Remove(ccaas.AttrConsentDecision)
			return nil
		}), false, "quarantine", []string{"consent.missing"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Hub
			sink := new(consumertest.LogsSink)
			h.RegisterEvaluator(procID, tc.eval)
			h.RegisterForward(routerID, sink)
			o, err := h.Release(ctx, record(), tc.dryRun)
			require.NoError(t, err)
			assert.Equal(t, tc.wantDecision, o.Decision)
			assert.Equal(t, tc.wantReasons, o.Reasons)
			assert.Equal(t, tc.wantForwarded, o.Forwarded)
			if tc.wantForwarded {
				assert.Equal(t, 1, sink.LogRecordCount())
			} else {
				assert.Zero(t, sink.LogRecordCount())
			}
		})
	}
}

func TestReleaseErrors(t *testing.T) {
	ctx := context.Background()
	var h Hub
	h.RegisterEvaluator(procID, EvaluatorFunc(func(context.Context, plog.Logs) error { return errors.New("store down") }))
	h.RegisterForward(routerID, consumertest.NewErr(errors.New("exporter down")))
	_, err := h.Release(ctx, record(), false)
	require.EqualError(t, err, "store down")

	h.RegisterEvaluator(procID, decide("forward", ""))
	o, err := h.Release(ctx, record(), false)
	require.EqualError(t, err, "exporter down")
	assert.False(t, o.Forwarded)

	_, err = h.Release(ctx, plog.NewLogs(), false)
	require.Error(t, err, "an empty record is not released")
}

// blockingSink holds ConsumeLogs until released.
type blockingSink struct {
	consumertest.LogsSink
	entered, proceed chan struct{}
}

func (b *blockingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	close(b.entered)
	<-b.proceed
	return b.LogsSink.ConsumeLogs(ctx, ld)
}

// TestUnregisterWaitsForReleaseInFlight: the router's Shutdown must not
// return while a release is still handing a record to its pipeline.
func TestUnregisterWaitsForReleaseInFlight(t *testing.T) {
	var h Hub
	h.RegisterEvaluator(procID, decide("forward", ""))
	sink := &blockingSink{entered: make(chan struct{}), proceed: make(chan struct{})}
	unregister := h.RegisterForward(routerID, sink)
	done := make(chan error, 1)
	go func() {
		_, err := h.Release(context.Background(), record(), false)
		done <- err
	}()
	<-sink.entered
	unregistered := make(chan struct{})
	go func() { unregister(); close(unregistered) }()
	select {
	case <-unregistered:
		t.Fatal("unregister returned while a release was forwarding")
	case <-time.After(100 * time.Millisecond):
	}
	close(sink.proceed)
	require.NoError(t, <-done)
	<-unregistered
	assert.Equal(t, 1, sink.LogRecordCount())
}

// A stored record with several log records is forwarded only when every
// one of them may now flow: all or nothing.
func TestReleaseIsAllOrNothing(t *testing.T) {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range 3 {
		lrs.AppendEmpty().Attributes().PutStr(ccaas.AttrConsentDecision, "quarantine")
	}
	var h Hub
	sink := new(consumertest.LogsSink)
	h.RegisterForward(routerID, sink)
	h.RegisterEvaluator(procID, EvaluatorFunc(func(_ context.Context, ld plog.Logs) error {
		rs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		for i := 0; i < rs.Len(); i++ {
			d := "forward"
			if i == 1 {
				d = "quarantine"
				rs.At(i).Attributes().PutEmptySlice(ccaas.AttrConsentReasons).AppendEmpty().SetStr("consent.denied")
			}
			rs.At(i).Attributes().PutStr(ccaas.AttrConsentDecision, d)
		}
		return nil
	}))
	o, err := h.Release(context.Background(), ld, false)
	require.NoError(t, err)
	assert.Equal(t, "quarantine", o.Decision)
	assert.Equal(t, []string{"consent.denied"}, o.Reasons)
	assert.False(t, o.Forwarded)
	assert.Zero(t, sink.LogRecordCount())
}
