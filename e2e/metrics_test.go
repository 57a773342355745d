package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMetricsServedWithDuplicatesOnTwoReceivers: the Segment and Talkdesk
// receivers both have a route named webhook; once both have answered a
// vendor's retry as a duplicate, the collector's Prometheus endpoint still
// serves its metrics (consentry.webhook.duplicates carried only the route,
// and two series with the same labels made every scrape fail, found by the
// soak test).
func TestMetricsServedWithDuplicatesOnTwoReceivers(t *testing.T) {
	fwd := newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	c := startCollector(t, ledgerConfig, map[string]any{"Forward": fwd.url, "Policy": policy, "Ledger": sqliteBackend(t).block}, ledgerEnv...)
	seg := fixture(t, "segment", "webhook_track.json")
	td := []byte(strings.ReplaceAll(string(fixture(t, "talkdesk", "webhook_inbound_call_starts.json")), talkdeskAccount, localTalkdeskAcct))
	for range 2 {
		code, _, out := post(t, c.url("segment", "/segment/webhook"), seg, map[string]string{"X-Signature": segmentSign(seg)})
		require.Equal(t, http.StatusOK, code, out)
		code, _, out = post(t, c.url("talkdesk", "/talkdesk/webhook/inboundCallStarts"), td, map[string]string{"X-Consentry-Token": talkdeskToken})
		require.Equal(t, http.StatusOK, code, out)
	}
	metrics := c.metrics(t)
	assert.NotContains(t, metrics, "An error has occurred while serving metrics")
	assert.Equal(t, 1.0, metricSum(t, metrics, "consentry_webhook_duplicates", `receiver="segment"`))
	assert.Equal(t, 1.0, metricSum(t, metrics, "consentry_webhook_duplicates", `receiver="talkdesk"`))
}
