package segmentreceiver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/consentry/consentry/internal/goldenlogs"
	"github.com/consentry/consentry/internal/webhook"
	"github.com/consentry/consentry/receiver/segmentreceiver/internal/metadata"
)

// TestTrackingStampsLikeSegment sends what analytics-ios sent for a captured
// event, at the moment Segment received it, and gets Segment's own stamps:
// the record's time and body are those of the delivery Segment made
// (testdata/fixtures/SOURCES.md).
func TestTrackingStampsLikeSegment(t *testing.T) {
	r, err := newReceiver(testConfig(), receivertest.NewNopSettings(metadata.Type), new(consumertest.LogsSink))
	require.NoError(t, err)
	var delivered map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "webhook_captured_track.json"), &delivered))

	body := fixture(t, "tracking_ios_batch.json")
	req := &webhook.Request{
		HTTP:     httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body)),
		Body:     body,
		Received: at(t, delivered["receivedAt"].(string)),
	}
	ld, err := r.live.Load().handleTracking(routeBatch, "", req)
	require.NoError(t, err)
	recs := goldenlogs.Records(ld)
	require.Len(t, recs, 1)
	lr := recs[0]
	assert.Equal(t, at(t, delivered["timestamp"].(string)), lr.Timestamp().AsTime().UTC(), "Segment's skew-corrected time")
	got := lr.Body().Map().AsRaw()
	for _, k := range []string{"timestamp", "originalTimestamp", "sentAt", "receivedAt", "messageId"} {
		assert.Equal(t, delivered[k], got[k], k)
	}
	assert.Equal(t, delivered["messageId"], goldenlogs.Attr(lr, "ccaas.event.id"), "one id whichever way the event comes")
}

// TestActionsMethods: a Webhooks (Actions) mapping may send with PUT or
// PATCH; each is the same delivery as a POST.
func TestActionsMethods(t *testing.T) {
	h := startReceiver(t, testConfig(), new(consumertest.LogsSink))
	for i, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch} {
		ev := []byte(`{"type":"track","event":"Plan Changed","userId":"u-` + m + `","messageId":"actions-` + m + `","timestamp":"2024-05-02T10:00:00Z"}`)
		resp, out := h.sendMethod(m, PathWebhook, ev, signed(testShared, ev))
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		assert.Equal(t, i+1, h.sink.LogRecordCount(), m)
	}
	ev := []byte(`{"type":"track","event":"Plan Changed","userId":"u","messageId":"actions-bad"}`)
	resp, _ := h.sendMethod(http.MethodPut, PathWebhook, ev, signed("wrong-secret-0123456789", ev))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "PUT is signed like POST")
}
