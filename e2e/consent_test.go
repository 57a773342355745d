package e2e

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
)

// The local example policy's Genesys tenant (config/policy.yaml).
const localGenesysOrg = "00000000-0000-4000-8000-000000000000"

// Receiver -> consent processor -> consent_router in the built binary: every
// record is tagged, forward records reach the forward sink and everything
// else the quarantine sink (a stand-in until the quarantine exporter lands).
var consentConfig = `
extensions:
` + healthExtension + `receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: e2e-subject-salt-0123456789abcdef
    consent_attributes:
      RecordingConsent: recording
    tenants:
      - organization_id: ` + localGenesysOrg + `
        api_keys: ["` + genesysKey + `"]
` + routedPipelines("genesys")

// routedPipelines is the tail of a configuration whose receivers feed the
// consent processor (with the policy file {{.Policy}}) and the router, with
// forward and quarantine records going to the sinks {{.Forward}} and
// {{.Quarantine}}.
func routedPipelines(receivers string) string {
	return `processors:
  consent:
    policy_file: {{.Policy}}
connectors:
  consent_router:
    forward: [logs/forward]
    quarantine: [logs/quarantine]
exporters:
  otlp_http/forward:
    endpoint: {{.Forward}}
    compression: none
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
  otlp_http/quarantine:
    endpoint: {{.Quarantine}}
    compression: none
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
service:
  extensions: [healthcheckv2]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs/in:
      receivers: [` + receivers + `]
      processors: [consent]
      exporters: [consent_router]
    logs/forward:
      receivers: [consent_router]
      exporters: [otlp_http/forward]
    logs/quarantine:
      receivers: [consent_router]
      exporters: [otlp_http/quarantine]
`
}

// startRouted starts a collector with a routedPipelines configuration and
// the example policy, and returns it with its forward and quarantine sinks.
func startRouted(t *testing.T, config string) (*collector, *sink, *sink) {
	t.Helper()
	fwd, q := newSink(t), newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	c := startCollector(t, config, map[string]any{"Forward": fwd.url, "Quarantine": q.url, "Policy": policy})
	return c, fwd, q
}

func TestConsentTaggingAndRouting(t *testing.T) {
	c, fwd, q := startRouted(t, consentConfig)

	body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), localGenesysOrg)
	code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": genesysKey})
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, 8, fwd.count()+q.count(), "every event reaches exactly one route")

	for route, s := range map[string]*sink{"forward": fwd, "quarantine": q} {
		for _, r := range s.records() {
			assert.Equal(t, route, attrStr(r.Record, ccaas.AttrConsentDecision), "%s in the %s sink", r.Record.EventName(), route)
			assert.NotEmpty(t, attrStr(r.Record, ccaas.AttrConsentStatus))
			assert.NotEmpty(t, attrStr(r.Record, ccaas.AttrConsentPolicyHash))
		}
	}
	// The unknown topic has no purpose in the policy: it must not flow.
	for _, r := range fwd.records() {
		assert.NotEqual(t, ccaas.EventVendor, r.Record.EventName(), "an unknown vendor event was forwarded")
	}
	assert.NotZero(t, q.count(), "the batch holds events the example policy quarantines")
}
