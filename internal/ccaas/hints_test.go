package ccaas

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func lookupIn(m map[string]any) func(string) (any, bool) {
	return func(k string) (any, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestNoticeMapping(t *testing.T) {
	m := NoticeMapping{ID: "NoticeId", Version: "NoticeVersion", Offset: "NoticeOffset", OffsetUnit: "ms"}
	assert.NoError(t, m.Validate())
	for name, tc := range map[string]struct {
		fields map[string]any
		want   map[string]any
	}{
		"all":            {map[string]any{"NoticeId": "rec", "NoticeVersion": json.Number("2"), "NoticeOffset": "4500"}, map[string]any{AttrConsentNoticeID: "rec", AttrConsentNoticeVersion: "2", AttrConsentNoticeOffset: 4.5}},
		"number offset":  {map[string]any{"NoticeId": "rec", "NoticeOffset": json.Number("12000")}, map[string]any{AttrConsentNoticeID: "rec", AttrConsentNoticeOffset: 12.0}},
		"no id":          {map[string]any{"NoticeVersion": "2", "NoticeOffset": "1"}, map[string]any{}},
		"bad offset":     {map[string]any{"NoticeId": "rec", "NoticeOffset": "soon"}, map[string]any{AttrConsentNoticeID: "rec", AttrConsentNoticeOffset: "soon"}},
		"object offset":  {map[string]any{"NoticeId": "rec", "NoticeOffset": map[string]any{}}, map[string]any{AttrConsentNoticeID: "rec", AttrConsentUnreadable: []any{"notice"}}},
		"object id":      {map[string]any{"NoticeId": []any{"rec"}}, map[string]any{AttrConsentUnreadable: []any{"notice"}}},
		"empty id":       {map[string]any{"NoticeId": ""}, map[string]any{AttrConsentUnreadable: []any{"notice"}}},
		"version absent": {map[string]any{"NoticeId": "rec"}, map[string]any{AttrConsentNoticeID: "rec"}},
	} {
		attrs := pcommon.NewMap()
		m.Apply(attrs, lookupIn(tc.fields))
		assert.Equal(t, tc.want, attrs.AsRaw(), name)
	}
	for _, bad := range []NoticeMapping{{Version: "v"}, {Offset: "o"}, {ID: "i", OffsetUnit: "min"}} {
		assert.Error(t, bad.Validate(), "%+v", bad)
	}
}

func TestLocationMappingAndHints(t *testing.T) {
	m := LocationMapping{Customer: []string{"State", "BillingState"}, Agent: []string{"AgentSite"}, Business: []string{"Line"}}
	attrs := pcommon.NewMap()
	m.Apply(attrs, lookupIn(map[string]any{"State": "California", "BillingState": "NV", "AgentSite": "US-TX", "Line": "somewhere", "Other": "CA"}))
	SetBusinessNumber(attrs, "tel:+1 (212) 555-0199")
	SetBusinessNumber(attrs, "sip:queue@example.com") // not a number: ignored
	AddVendorFieldHint(attrs, PartyCustomer, "us", "ca")
	AddVendorFieldHint(attrs, PartyBusiness, "XX", "ca")              // not a country: ignored
	AddJurisdictionHint(attrs, "US-CA", PartyCustomer, HintAttribute) // once
	assert.Equal(t, map[string]any{
		AttrJurisdictionHints: []any{"US-CA@customer.attribute", "US-NV@customer.attribute", "unknown@business.attribute",
			"US-TX@agent.attribute", "US-NY@business.e164", "US-CA@customer.vendor_field"},
		AttrBusinessNumber: "+12125550199",
	}, attrs.AsRaw())
}
