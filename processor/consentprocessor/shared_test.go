package consentprocessor

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
)

// replicas starts n processors, each with its own ledger client, sharing
// one interaction memory (as replicas sharing a PostgreSQL ledger do).
func replicas(t *testing.T, n int, shared *consentledgertest.Interactions, mod func(*Config)) []*harness {
	id := component.MustNewID("consent_ledger")
	shared.SetNow(func() time.Time { return t0 }) // the test events' time
	var out []*harness
	for range n {
		l := consentledgertest.New()
		l.ShareInteractions(shared)
		require.NoError(t, l.Start(t.Context(), nil))
		cfg := exampleConfig()
		cfg.Ledger = consentledger.NewID(id)
		if mod != nil {
			mod(cfg)
		}
		out = append(out, startProcessor(t, cfg, l.Host(id)))
	}
	return out
}

// TestSharedInteractions: the records of one interaction spread over
// three replicas all carry the interaction's subject, whichever replica
// saw the interaction start; a replica asks the shared memory once per
// unknown interaction, not per record; what a replica recalls it keeps.
func TestSharedInteractions(t *testing.T) {
	shared := consentledgertest.NewInteractions()
	rs := replicas(t, 3, shared, nil)
	start := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-rr", channel: "voice"}
	want := keyer.Key("phone", phoneTX)
	got := rs[0].decide(start)
	require.Equal(t, want, strAttr(got[0], ccaas.AttrSubjectKey))
	for i := range 9 {
		r := rs[(i+1)%3]
		e := event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventTranscriptSegment, interaction: "conv-rr", channel: "voice",
			id: "seg-" + string(rune('a'+i)), at: t0.Add(time.Duration(i+1) * time.Second)}
		got := r.decide(e)
		assert.Equal(t, want, strAttr(got[0], ccaas.AttrSubjectKey), "record %d on replica %d", i, (i+1)%3)
	}
	assert.Equal(t, 2, shared.Recalls, "each other replica asked once")
	assert.Equal(t, 1, shared.Remembers, "the interaction was written once (by the replica that saw it start)")

	// The same interaction id of another tenant is another interaction.
	other := rs[1].decide(event{vendor: "genesys", tenant: tenantHotline, name: ccaas.EventTranscriptSegment, interaction: "conv-rr", channel: "voice"})
	assert.Empty(t, strAttr(other[0], ccaas.AttrSubjectKey))
}

// TestSharedInteractionsMissAndFailure: a record that reaches a replica
// before its interaction's start is remembered anywhere is decided without
// a subject, and that replica does not ask again before shared_miss_ttl;
// after it, it joins. A shared memory that fails leaves records undecided
// by subject (quarantined by the policy), never fails the batch.
func TestSharedInteractionsMissAndFailure(t *testing.T) {
	shared := consentledgertest.NewInteractions()
	rs := replicas(t, 2, shared, func(c *Config) { c.Interactions.SharedMissTTL = 30 * time.Second })
	seg := func(i int, at time.Duration) event {
		return event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventTranscriptSegment, interaction: "conv-race", channel: "voice",
			id: "race-" + string(rune('a'+i)), at: t0.Add(at)}
	}
	early := rs[1].decide(seg(0, 0))
	assert.Empty(t, strAttr(early[0], ccaas.AttrSubjectKey))
	rs[0].decide(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneCA, interaction: "conv-race", channel: "voice"})
	again := rs[1].decide(seg(1, time.Second))
	assert.Empty(t, strAttr(again[0], ccaas.AttrSubjectKey), "within shared_miss_ttl the replica does not ask again")
	assert.Equal(t, 1, shared.Recalls)
	// Records carry the receive time; past the miss TTL the replica asks.
	late := rs[1].decide(seg(2, time.Minute))
	assert.Equal(t, keyer.Key("phone", phoneCA), strAttr(late[0], ccaas.AttrSubjectKey))

	shared.Fail(errors.New("database gone"))
	r := rs[1].decide(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventTranscriptSegment, interaction: "conv-unknown", channel: "voice"})
	assert.Empty(t, strAttr(r[0], ccaas.AttrSubjectKey))
	assert.Equal(t, ccaas.DecisionQuarantine, strAttr(r[0], ccaas.AttrConsentDecision))
	assert.EqualValues(t, 1, rs[1].cp.eval.shared.failures.Load())
	rs[0].decide(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneCA, interaction: "conv-2", channel: "voice"})
	assert.EqualValues(t, 1, rs[0].cp.eval.shared.failures.Load(), "a failed write is counted, the batch goes on")
}

// TestSharedInteractionsOff: interactions.shared: false keeps the memory
// to the replica.
func TestSharedInteractionsOff(t *testing.T) {
	shared := consentledgertest.NewInteractions()
	rs := replicas(t, 2, shared, func(c *Config) { c.Interactions.Shared = false })
	rs[0].decide(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventInteractionStarted, phone: phoneTX, interaction: "conv-x", channel: "voice"})
	got := rs[1].decide(event{vendor: "genesys", tenant: tenantLocal, name: ccaas.EventTranscriptSegment, interaction: "conv-x", channel: "voice"})
	assert.Empty(t, strAttr(got[0], ccaas.AttrSubjectKey))
	assert.Zero(t, shared.Recalls+shared.Remembers)
}
