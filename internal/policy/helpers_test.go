package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// basePolicy is a small policy the unit tests start from.
const basePolicy = `
processors:
  - id: vendor
    name: The vendor
    role: processor
    touches: {vendors: [genesys]}
  - id: vendor-ai
    name: The vendor's AI
    role: processor
    secondary_uses: [train_ai_system]
    tcf_vendor_id: 42
    touches: {vendors: [genesys], events: [ccaas.transcript.segment]}
  - id: web
    name: Web analytics
    role: service_provider
    tcf_vendor_id: 7
    touches: {vendors: [segment]}
  - id: ads
    name: Ads
    role: third_party
    touches: {vendors: [segment], tenants: [shop], events: [ccaas.analytics.track]}
tenants:
  - vendor: genesys
    id: org
    contract_purposes: [essential.service, collect.recording]
    notice: {id: notice, version: "3", processors: [vendor, vendor-ai]}
    played_notices:
      - id: rec-prompt
        purposes: [collect.recording]
      - id: ai-prompt
        purposes: [collect.transcription, analytics.reporting, train_ai_system]
        processors: [vendor, vendor-ai]
  - vendor: genesys
    id: hotline
    sensitive: true
    contract_purposes: [essential.service]
    notice: {id: hotline, processors: [vendor]}
    played_notices:
      - id: rec-prompt
        purposes: [collect.recording]
  - vendor: segment
    id: shop
    contract_purposes: [essential.service]
    notice: {id: shop, processors: [web, ads]}
purposes:
  ccaas.interaction.started: [essential.service.operations.support]
  ccaas.recording.available: [collect.recording]
  ccaas.transcript.segment: [collect.transcription, analytics.reporting]
  ccaas.analytics.track: [analytics.reporting]
  ccaas.consent.updated: [essential.legal_obligation]
consent_sources:
  genesys:
    signals:
      recording: {purposes: [collect.recording]}
      everything:
        purposes: [collect.transcription, analytics.reporting, train_ai_system]
        scope: subject
  segment:
    categories:
      Analytics: [analytics]
      Stats: [analytics.reporting]
`

// parse decodes YAML the way the collector does (confmap).
func parse(t testing.TB, src string) *Config {
	t.Helper()
	cfg, err := parseErr(src)
	require.NoError(t, err)
	return cfg
}

func parseErr(src string) (*Config, error) {
	r, err := confmap.NewRetrievedFromYAML([]byte(src))
	if err != nil {
		return nil, err
	}
	conf, err := r.AsConf()
	if err != nil {
		return nil, err
	}
	return FromConf(conf)
}

func compile(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Compile(parse(t, src))
	require.NoError(t, err)
	return p
}

// edit applies a textual replacement to basePolicy, failing if it does not
// apply.
func edit(t testing.TB, pairs ...string) string {
	t.Helper()
	s := basePolicy
	for i := 0; i < len(pairs); i += 2 {
		require.Contains(t, s, pairs[i])
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// view builds a record view; attrs are raw attribute values.
func view(vendor, tenant, event string, attrs map[string]any) *View {
	m := pcommon.NewMap()
	if err := m.FromRaw(attrs); err != nil {
		panic(err)
	}
	return &View{Vendor: vendor, Tenant: tenant, EventName: event, EventID: "ev-1", Subject: "sk1_subject",
		InteractionID: "conv-1", Channel: "voice", Country: "US", Region: "US-TX", Time: t0, Attrs: m}
}

func has(d *Decision, r Reason) bool {
	for _, x := range d.Reasons {
		if x == r {
			return true
		}
	}
	return false
}

// tcfString encodes a minimal TCF v2.2 core string with the given purpose
// consents and vendor consents (bit field).
func tcfString(serviceSpecific bool, purposes []int, vendors []int) string {
	var bits []byte
	put := func(v uint64, n int) {
		for i := n - 1; i >= 0; i-- {
			bits = append(bits, byte(v>>uint(i)&1))
		}
	}
	b := func(v bool) uint64 {
		if v {
			return 1
		}
		return 0
	}
	put(2, 6)                  // Version
	put(17_000_000_000, 36)    // Created
	put(17_000_000_000, 36)    // LastUpdated
	put(10, 12)                // CmpId
	put(1, 12)                 // CmpVersion
	put(1, 6)                  // ConsentScreen
	put(4, 6)                  // E
	put(13, 6)                 // N
	put(100, 12)               // VendorListVersion
	put(4, 6)                  // TcfPolicyVersion
	put(b(serviceSpecific), 1) // IsServiceSpecific
	put(0, 1)                  // UseNonStandardTexts
	put(0, 12)                 // SpecialFeatureOptIns
	var pc uint64
	for _, p := range purposes {
		pc |= 1 << (24 - p)
	}
	put(pc, 24) // PurposesConsent
	put(0, 24)  // PurposesLITransparency
	put(0, 1)   // PurposeOneTreatment
	put(3, 6)   // D
	put(4, 6)   // E
	maxV := 0
	for _, v := range vendors {
		maxV = max(maxV, v)
	}
	put(uint64(maxV), 16) // MaxVendorId
	put(0, 1)             // bit field
	for id := 1; id <= maxV; id++ {
		in := false
		for _, v := range vendors {
			in = in || v == id
		}
		put(b(in), 1)
	}
	put(0, 16) // LI MaxVendorId
	put(0, 1)
	put(0, 12) // NumPubRestrictions
	return b64(bits)
}
