package talkdeskreceiver

import (
	"testing"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUSStateOfAddress(t *testing.T) {
	for in, want := range map[string]string{
		"123 Main St, San Francisco, CA 94105": "US-CA",
		"1 Elm St, Austin, TX 78701-1234":      "US-TX",
		"9 Oak Ave, Reno, nv 89501, USA":       "US-NV",
		"200 Bay St, Toronto, ON M5J 2J1":      "",
		"Somewhere without a ZIP, CA":          "",
		"10 Downing Street, London SW1A 2AA":   "",
		"PO Box 5, Springfield, ZZ 12345":      "",
		"":                                     "",
	} {
		assert.Equal(t, want, usStateOfAddress(in), in)
	}
}

// TestNoticeAndPlaces: a notifier template carrying the played notice, the
// business line and an address; a mapped consent field holding an object.
func TestNoticeAndPlaces(t *testing.T) {
	cfg := testConfig(t)
	cfg.NoticeFields = ccaas.NoticeMapping{ID: "notice_id", Offset: "notice_offset"}
	cfg.LocationFields = ccaas.LocationMapping{Agent: []string{"agent_state"}}
	d, err := NewDecoder(cfg)
	require.NoError(t, err)
	body := `{"event":"call_finished","call_id":"c-1","account_id":"` + testAccount + `","contact_phone_number":"+14155550123",
		"talkdesk_phone_number":"+14845348611","contact_address":"9 Oak Ave, Reno, NV 89501","agent_state":"Texas",
		"notice_id":"rec-notice","notice_offset":"7","RecordingConsent":{"value":"yes"}}`
	ld, err := d.Decode("webhook/inboundCallEnds", []byte(body), "")
	require.NoError(t, err)
	lr := records(ld)[0]
	assert.Equal(t, "rec-notice", attr(lr, ccaas.AttrConsentNoticeID))
	off, ok := lr.Attributes().Get(ccaas.AttrConsentNoticeOffset)
	require.True(t, ok)
	assert.Equal(t, 7.0, off.Double())
	assert.Equal(t, "+14845348611", attr(lr, ccaas.AttrBusinessNumber))
	assert.ElementsMatch(t, []string{"US-CA@customer.e164", "US-PA@business.e164", "US-NV@customer.address", "US-TX@agent.attribute"},
		ccaas.Strings(lr.Attributes(), ccaas.AttrJurisdictionHints))
	assert.Equal(t, []string{"signal:recording"}, ccaas.Strings(lr.Attributes(), ccaas.AttrConsentUnreadable))
}
