package twilioreceiver

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
)

// TestTaskAttributesNoticeAndPlaces: a Studio flow's TaskAttributes carry a
// played notice and a CRM state; the called number is the business's.
func TestTaskAttributesNoticeAndPlaces(t *testing.T) {
	cfg := testConfig()
	cfg.NoticeAttributes = ccaas.NoticeMapping{ID: "notice.id", Version: "notice.version", Offset: "notice.played_after_ms", OffsetUnit: "ms"}
	cfg.LocationAttributes = ccaas.LocationMapping{Customer: []string{"crm.state"}, Agent: []string{"site"}}
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	ta, err := json.Marshal(map[string]any{
		"from": "+14155550123", "to": "+12125550199", "direction": "inbound", "channelType": "voice", "call_sid": "CA1",
		"caller_state": "CA", "caller_country": "US", "called_state": "NY", "called_country": "US",
		"notice": map[string]any{"id": "rec-notice", "version": "2", "played_after_ms": 3200},
		"crm":    map[string]any{"state": "Nevada"}, "site": "US-TX",
		"recording_consent": map[string]any{"unexpected": true},
	})
	require.NoError(t, err)
	form := url.Values{"AccountSid": {testAccount}, "EventType": {"task.created"}, "Sid": {"EV0123456789abcdef0123456789abcdef"}, "TaskSid": {"WT1"},
		"ResourceType": {"Task"}, "TaskAttributes": {string(ta)}, "TimestampMs": {"1741107731123"}}
	ld, err := d.Decode("taskrouter", []byte(form.Encode()), testAccount)
	require.NoError(t, err)
	lr := records(ld)[0]
	assert.Equal(t, "rec-notice", attr(lr, ccaas.AttrConsentNoticeID))
	assert.Equal(t, "2", attr(lr, ccaas.AttrConsentNoticeVersion))
	v, _ := lr.Attributes().Get(ccaas.AttrConsentNoticeOffset)
	assert.InDelta(t, 3.2, v.Double(), 1e-9)
	assert.Equal(t, "+12125550199", attr(lr, ccaas.AttrBusinessNumber))
	hints := ccaas.Strings(lr.Attributes(), ccaas.AttrJurisdictionHints)
	for _, h := range []string{"US-CA@customer.vendor_field", "US-NY@business.vendor_field", "US-NY@business.e164",
		"US-NV@customer.attribute", "US-TX@agent.attribute", "US-CA@customer.e164"} {
		assert.Contains(t, hints, h)
	}
	assert.Equal(t, []string{"signal:recording"}, ccaas.Strings(lr.Attributes(), ccaas.AttrConsentUnreadable),
		"a mapped consent attribute holding an object is unreadable, not absent")
}
