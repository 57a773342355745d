package consentprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentroute"
	"github.com/consentry/consentry/internal/policy"
	"github.com/consentry/consentry/processor/consentprocessor/internal/metadata"
)

// testHost is a collector's host of its own (not zero-sized, so that two
// are two keys of consentroute).
type testHost struct {
	component.Host
	n int
}

// routedHost wraps host in a host on which a consent_router has
// registered, as one following the processor would have by its Start.
func routedHost(t *testing.T, host component.Host) component.Host {
	h := &testHost{Host: host, n: 1}
	t.Cleanup(consentroute.Register(h, component.MustNewID("consent_router")))
	return h
}

const secretBody = "caller: my card number is 4111 1111 1111 1111"

// unroutedBatch is one event the example policy forwards and one it
// quarantines, each with a body that must not leak.
func unroutedBatch() plog.Logs {
	fwd := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-a", channel: "voice"}
	q := transcriptCA
	q.at = t0
	ld := logsOf(fwd, q)
	for _, rl := range ld.ResourceLogs().All() {
		rl.ScopeLogs().At(0).LogRecords().At(0).Body().SetStr(secretBody)
	}
	return ld
}

// runAlone runs one batch through a processor with nothing registered on
// its host and returns what it passed on (nil: nothing).
func runAlone(t *testing.T, cfg *Config, host component.Host) []plog.LogRecord {
	t.Helper()
	sink := new(consumertest.LogsSink)
	proc, _, err := newLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), host))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()
	require.NoError(t, proc.ConsumeLogs(context.Background(), unroutedBatch()), "a vendor is answered as usual")
	var out []plog.LogRecord
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, lr)
				}
			}
		}
	}
	return out
}

func decisionOf(lr plog.LogRecord) string { return strAttr(lr, ccaas.AttrConsentDecision) }

// TestAloneNeverPassesOnAQuarantinedBody: without a consent_router after
// it, the processor passes on no quarantined record's body nor personal
// attributes, unless unrouted: pass is chosen; forwarded records are
// untouched either way.
func TestAloneNeverPassesOnAQuarantinedBody(t *testing.T) {
	t.Run("default drop_body", func(t *testing.T) {
		cfg := exampleConfig()
		require.Equal(t, UnroutedDropBody, cfg.Unrouted, "fail closed unless told otherwise")
		recs := runAlone(t, cfg, &testHost{Host: componenttest.NewNopHost(), n: 2})
		require.Len(t, recs, 2, "drop_body keeps the record: its tags and counts")
		fwd, q := recs[0], recs[1]
		require.Equal(t, policy.DecisionForward, decisionOf(fwd))
		assert.Equal(t, secretBody, fwd.Body().Str(), "a forwarded record is untouched")
		assert.NotEmpty(t, strAttr(fwd, ccaas.AttrSubjectKey))
		assert.Empty(t, strAttr(fwd, ccaas.AttrConsentUnrouted))

		require.Equal(t, policy.DecisionQuarantine, decisionOf(q))
		assert.Equal(t, "", q.Body().AsString(), "no body")
		assert.NotContains(t, q.Body().AsString(), "4111")
		assert.Equal(t, UnroutedDropBody, strAttr(q, ccaas.AttrConsentUnrouted))
		assert.NotEmpty(t, sliceAttr(q, ccaas.AttrConsentReasons), "the reasons stay")
		assert.Equal(t, ccaas.EventTranscriptSegment, q.EventName())
		for k := range q.Attributes().All() {
			if k == ccaas.AttrConsentUnrouted || len(k) > 8 && k[:8] == "consent." {
				continue
			}
			assert.True(t, unroutedKept[k], "attribute %s of a quarantined record is passed on", k)
		}
		assert.Empty(t, strAttr(q, ccaas.AttrSubjectKey), "no subject")
		assert.Empty(t, strAttr(q, ccaas.AttrInteractionID), "no interaction")
		assert.Equal(t, "voice", strAttr(q, ccaas.AttrChannel), "what kind of event was withheld")
	})
	t.Run("drop", func(t *testing.T) {
		cfg := exampleConfig()
		cfg.Unrouted = UnroutedDrop
		recs := runAlone(t, cfg, &testHost{Host: componenttest.NewNopHost(), n: 3})
		require.Len(t, recs, 1, "the quarantined record is removed")
		assert.Equal(t, policy.DecisionForward, decisionOf(recs[0]))
		assert.Equal(t, secretBody, recs[0].Body().Str())
	})
	t.Run("uncomparable host counts as alone", func(t *testing.T) {
		h := struct {
			component.Host
			f []int
		}{componenttest.NewNopHost(), nil}
		consentroute.Register(h, component.MustNewID("consent_router"))()
		recs := runAlone(t, exampleConfig(), h)
		require.Len(t, recs, 2)
		assert.Empty(t, recs[1].Body().AsString())
	})
	t.Run("pass, chosen explicitly", func(t *testing.T) {
		cfg := exampleConfig()
		cfg.Unrouted = UnroutedPass
		recs := runAlone(t, cfg, &testHost{Host: componenttest.NewNopHost(), n: 4})
		require.Len(t, recs, 2)
		assert.Equal(t, secretBody, recs[1].Body().Str())
	})
}

// TestDropOfAWholeBatch: a batch of quarantined records only goes nowhere,
// and the caller (the receiver) is still answered without error.
func TestDropOfAWholeBatch(t *testing.T) {
	cfg := exampleConfig()
	cfg.Unrouted = UnroutedDrop
	sink := new(consumertest.LogsSink)
	proc, _, err := newLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), &testHost{Host: componenttest.NewNopHost(), n: 5}))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()
	q := transcriptCA
	q.at = t0
	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(q, q)))
	assert.Zero(t, sink.LogRecordCount())
}

// TestRoutedPassesEverything: with a consent_router registered on the
// collector's host, quarantined records reach the router whole.
func TestRoutedPassesEverything(t *testing.T) {
	recs := runAlone(t, exampleConfig(), routedHost(t, componenttest.NewNopHost()))
	require.Len(t, recs, 2)
	assert.Equal(t, policy.DecisionQuarantine, decisionOf(recs[1]))
	assert.Equal(t, secretBody, recs[1].Body().Str())
	assert.NotEmpty(t, strAttr(recs[1], ccaas.AttrSubjectKey))
}

func TestUnroutedValidation(t *testing.T) {
	cfg := exampleConfig()
	for _, v := range []string{UnroutedDropBody, UnroutedDrop, UnroutedPass} {
		cfg.Unrouted = v
		require.NoError(t, confmap.Validate(cfg))
	}
	cfg.Unrouted = "forward"
	require.ErrorContains(t, confmap.Validate(cfg), `unrouted must be "drop_body", "drop" or "pass", got "forward"`)
}
