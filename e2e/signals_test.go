package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
)

// signalsPolicy: a Genesys contact center whose IVR plays a recording
// notice that must come within 10 s of the call's start, and a website
// tracked with Segment whose events also reach ad platforms (a third
// party).
const signalsPolicy = `
processors:
  - id: genesys
    role: processor
    art28_agreement: true
    touches: {vendors: [genesys]}
  - id: segment
    role: service_provider
    art28_agreement: true
    touches: {vendors: [segment]}
  - id: ad-platforms
    role: third_party
    secondary_uses: [advertising]
    touches: {vendors: [segment], events: [ccaas.analytics.track]}
tenants:
  - vendor: genesys
    id: ` + localGenesysOrg + `
    contract_purposes: [essential.service]
    notice: {id: privacy, version: "1", processors: [genesys]}
    played_notices:
      - id: rec-notice
        version: "2"
        purposes: [collect.recording]
        max_offset: 10s
  - vendor: segment
    id: web
    consent_scope: shop
    contract_purposes: [essential.service]
    notice: {id: privacy, version: "1", processors: [segment, ad-platforms]}
purposes:
  ccaas.interaction.started: [essential.service.operations.support]
  ccaas.interaction.attributes_updated: [essential.service.operations.support]
  ccaas.recording.available: [collect.recording]
  ccaas.recording.updated: [collect.recording]
  ccaas.analytics.track: [analytics.reporting]
consent_sources:
  segment:
    categories:
      Analytics: [analytics]
      Advertising: [marketing.advertising]
`

const signalsWriteKey = "e2e-signals-write-key"

// signalsReceivers: Genesys with the IVR's notice participant data mapped,
// and Segment's tracking API for the website.
const signalsReceivers = `
receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: e2e-subject-salt-0123456789abcdef
    notice_attributes:
      id: NoticeId
      version: NoticeVersion
      offset: NoticeOffsetMs
      offset_unit: ms
    tenants:
      - organization_id: ` + localGenesysOrg + `
        api_keys: ["` + genesysKey + `"]
  segment:
    endpoint: 127.0.0.1:{{.Ports.segment}}
    subject_salt: e2e-subject-salt-0123456789abcdef
    tenants:
      - source_id: web
        write_keys: ["` + signalsWriteKey + `"]
`

// signalsConfig: the receivers, the consent processor and the router to a
// forward sink; quarantined records go to a second sink, or, when
// {{.Ledger}} is set, to the consent ledger, which is then also the consent
// store and serves the auditor API for recording consent.
var signalsConfig = `
extensions:
` + healthExtension + `{{- if .Ledger}}
  consent_ledger:
{{.Ledger}}
    api:
      http:
        endpoint: 127.0.0.1:{{.Ports.otlp}}
      auth:
        tokens:
          - {identity: alice, role: auditor, tenants: ["*"], sha256: ` + hashToken(auditorToken) + `}
          - {identity: carol, role: custodian, tenants: ["*"], sha256: ` + hashToken(custodianToken) + `}
    keys:
      - id: e2e
        key: ${env:E2E_LEDGER_KEY}
{{- end}}
` + signalsReceivers + `
processors:
  consent:
    policy_file: {{.Policy}}
{{- if .Ledger}}
    ledger: consent_ledger
{{- end}}
connectors:
  consent_router:
    forward: [logs/forward]
    quarantine: [logs/quarantine]
{{- if .Ledger}}
    ledger: consent_ledger
{{- end}}
exporters:
  otlp_http/forward:
    endpoint: {{.Forward}}
    compression: none
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
{{- if .Ledger}}
  quarantine:
    ledger: consent_ledger
{{- else}}
  otlp_http/quarantine:
    endpoint: {{.Quarantine}}
    compression: none
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
{{- end}}
service:
  extensions: [healthcheckv2{{if .Ledger}}, consent_ledger{{end}}]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs/in:
      receivers: [genesys, segment]
      processors: [consent]
      exporters: [consent_router]
    logs/forward:
      receivers: [consent_router]
      exporters: [otlp_http/forward]
    logs/quarantine:
      receivers: [consent_router]
      exporters: [{{if .Ledger}}quarantine{{else}}otlp_http/quarantine{{end}}]
`

func writeSignalsPolicy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(signalsPolicy), 0o600))
	return path
}

// iabGPP returns a GPP string @iabgpp/cmpapi wrote (internal/gpp's test
// vectors), by vector name ("usva/only_SaleOptOut").
func iabGPP(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "gpp", "testdata", "iab-gpp-vectors.json"))
	require.NoError(t, err)
	var f struct {
		US []struct {
			Name string `json:"name"`
			GPP  string `json:"gpp"`
		} `json:"us"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	for _, v := range f.US {
		if v.Name == name {
			return v.GPP
		}
	}
	t.Fatalf("no IAB vector %q", name)
	return ""
}

// track posts one Segment track call to the tracking API.
func track(t *testing.T, c *collector, user, messageID string, at time.Time, consent map[string]any, headers map[string]string) {
	t.Helper()
	ev := map[string]any{
		"type": "track", "event": "Product Viewed", "userId": user, "messageId": messageID,
		"timestamp": at.UTC().Format(time.RFC3339Nano),
		"context":   map[string]any{"consent": consent},
	}
	body, err := json.Marshal(ev)
	require.NoError(t, err)
	h := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(signalsWriteKey+":"))}
	for k, v := range headers {
		h[k] = v
	}
	code, _, out := post(t, c.url("segment", "/v1/track"), body, h)
	require.Equal(t, http.StatusOK, code, out)
}

// consented: the website's consent object with every category granted.
func consented(extra map[string]any) map[string]any {
	m := map[string]any{"categoryPreferences": map[string]any{"Analytics": true, "Advertising": true}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// recordOf waits for the record of a Segment messageId in one of the sinks
// and returns it with the sink's route.
func recordOf(t *testing.T, sinks map[string]*sink, messageID string) (string, plog.LogRecord) {
	t.Helper()
	var route string
	var rec plog.LogRecord
	waitFor(t, "the record of "+messageID, func() bool {
		for r, s := range sinks {
			for _, sr := range s.records() {
				if attrStr(sr.Record, ccaas.AttrEventID) == messageID {
					route, rec = r, sr.Record
					return true
				}
			}
		}
		return false
	})
	return route, rec
}

func reasonsOf(lr plog.LogRecord) []string {
	return ccaas.Strings(lr.Attributes(), ccaas.AttrConsentReasons)
}

// TestGPPStateOptOutQuarantinesThirdPartyEvents: an opt-out of sale in a
// GPP state section other than usnat and usca (and in a US Privacy string)
// quarantines a website event bound for ad platforms, although every
// consent category is granted; the same strings without an opt-out let it
// flow.
func TestGPPStateOptOutQuarantinesThirdPartyEvents(t *testing.T) {
	fwd, q := newSink(t), newSink(t)
	c := startCollector(t, signalsConfig, map[string]any{"Forward": fwd.url, "Quarantine": q.url, "Policy": writeSignalsPolicy(t), "Ledger": ""})
	sinks := map[string]*sink{"forward": fwd, "quarantine": q}
	now := time.Now()
	for i, tc := range []struct {
		name     string
		consent  map[string]any
		route    string
		evidence string
	}{
		{"Virginia sale opt-out", map[string]any{"gppString": iabGPP(t, "usva/only_SaleOptOut")}, "quarantine", "gpp:usva=sale"},
		{"Texas targeted advertising opt-out", map[string]any{"gppString": iabGPP(t, "ustx/only_TargetedAdvertisingOptOut")}, "quarantine", "gpp:ustx=targeted_advertising"},
		{"Rhode Island sale opt-out", map[string]any{"gppString": iabGPP(t, "usri/only_SaleOptOut")}, "quarantine", "gpp:usri=sale"},
		{"US Privacy string", map[string]any{"usPrivacy": "1YYN"}, "quarantine", "usp=sale"},
		{"Virginia, no opt-out", map[string]any{"gppString": iabGPP(t, "usva/did_not_opt_out")}, "forward", ""},
		{"Minnesota, no opt-out", map[string]any{"gppString": iabGPP(t, "usmn/did_not_opt_out")}, "forward", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("gpp-%d", i)
			track(t, c, "visitor-"+id, id, now, consented(tc.consent), nil)
			route, rec := recordOf(t, sinks, id)
			assert.Equal(t, tc.route, route, "reasons %v", reasonsOf(rec))
			if tc.route == "quarantine" {
				assert.Contains(t, reasonsOf(rec), "opt_out_sale_sharing")
				assert.Contains(t, ccaas.Strings(rec.Attributes(), ccaas.AttrConsentEvidence), tc.evidence)
				assert.Contains(t, ccaas.Strings(rec.Attributes(), ccaas.AttrConsentProcessors), "ad-platforms")
			}
		})
	}
}

// genesysEvent builds one EventBridge event of the local organization.
func genesysEvent(detailType, topic string, body map[string]any, at time.Time) map[string]any {
	body["eventTime"] = at.UnixMilli()
	return map[string]any{
		"version": "0", "id": fmt.Sprintf("%s-%d", strings.ReplaceAll(topic, ".", "-"), at.UnixNano()), "detail-type": detailType,
		"source": "aws.partner/genesys.com/cloud/" + localGenesysOrg + "/consentry", "account": "123456789012",
		"time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []any{},
		"detail": map[string]any{"topicName": topic, "version": "2", "eventBody": body, "metadata": map[string]any{},
			"timestamp": at.UTC().Format(time.RFC3339Nano)},
	}
}

// TestLateNoticeDoesNotCount: a call from a California number (all-party
// consent) whose IVR played the recording notice 4 s after the call's
// start has its recording forwarded (implied consent); the same notice
// played 45 s in does not count, and the recording stays quarantined.
func TestLateNoticeDoesNotCount(t *testing.T) {
	fwd, q := newSink(t), newSink(t)
	c := startCollector(t, signalsConfig, map[string]any{"Forward": fwd.url, "Quarantine": q.url, "Policy": writeSignalsPolicy(t), "Ledger": ""})
	sinks := map[string]*sink{"forward": fwd, "quarantine": q}
	start := time.Now().Add(-time.Minute)
	for _, tc := range []struct {
		conv, offsetMs, route string
	}{
		{"0d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e01", "4000", "forward"},
		{"0d1c9f4e-8a7b-4c6d-9e0f-1a2b3c4d5e02", "45000", "quarantine"},
	} {
		t.Run("notice at "+tc.offsetMs+" ms", func(t *testing.T) {
			events := []map[string]any{
				genesysEvent("v2.detail.events.conversation.{id}.customer.start", "v2.detail.events.conversation."+tc.conv+".customer.start",
					map[string]any{"conversationId": tc.conv, "participantId": "p-" + tc.conv, "mediaType": "VOICE", "direction": "INBOUND",
						"ani": "tel:+14155550123", "dnis": "tel:+18005550100"}, start),
				genesysEvent("v2.detail.events.conversation.{id}.attributes", "v2.detail.events.conversation."+tc.conv+".attributes",
					map[string]any{"conversationId": tc.conv, "participantId": "p-" + tc.conv,
						"attributes": map[string]any{"NoticeId": "rec-notice", "NoticeVersion": "2", "NoticeOffsetMs": tc.offsetMs}},
					start.Add(5*time.Second)),
				genesysEvent("v2.users.{id}.conversations.{id}.recordings", "v2.users.5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b.conversations."+tc.conv+".recordings",
					map[string]any{"id": "rec-" + tc.conv, "conversationId": tc.conv, "fileState": "AVAILABLE",
						"mediaUris": []any{map[string]any{"channelId": "0", "mediaUri": "https://api.mypurecloud.com/recordings/r.opus"}}},
					start.Add(2*time.Minute)),
			}
			for _, ev := range events {
				body, err := json.Marshal([]any{ev})
				require.NoError(t, err)
				code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": genesysKey})
				require.Equal(t, http.StatusOK, code, out)
			}
			var recording plog.LogRecord
			var route string
			waitFor(t, "the recording", func() bool {
				for r, s := range sinks {
					for _, sr := range s.records() {
						if sr.Record.EventName() == ccaas.EventRecordingAvailable && attrStr(sr.Record, ccaas.AttrInteractionID) == tc.conv {
							route, recording = r, sr.Record
							return true
						}
					}
				}
				return false
			})
			assert.Equal(t, tc.route, route, "reasons %v", reasonsOf(recording))
			assert.Contains(t, reasonsOf(recording), "all_party_jurisdiction")
			if tc.route == "forward" {
				assert.Contains(t, reasonsOf(recording), "implied_consent")
			} else {
				assert.Contains(t, reasonsOf(recording), "consent_missing")
				// The notice was seen, and why it did not count is on record.
				var noticed bool
				for _, s := range sinks {
					for _, sr := range s.records() {
						if attrStr(sr.Record, ccaas.AttrInteractionID) == tc.conv && sr.Record.EventName() == ccaas.EventInteractionAttributes {
							noticed = true
							assert.Contains(t, reasonsOf(sr.Record), "notice_late")
							assert.Contains(t, ccaas.Strings(sr.Record.Attributes(), ccaas.AttrConsentEvidence), "notice:rec-notice@2=late")
						}
					}
				}
				assert.True(t, noticed)
			}
		})
	}
}

// subjectOf finds, through the auditor API, the subject key of the
// quarantined Segment record with the given event id.
func subjectOf(t *testing.T, api, eventID string) string {
	t.Helper()
	var list struct {
		Records []auditRecord `json:"records"`
	}
	var key string
	waitFor(t, "quarantined record "+eventID, func() bool {
		code, _ := rest(t, http.MethodGet, api+"/v1/quarantine/records?tenant=web", auditorToken, nil, &list)
		for _, r := range list.Records {
			if code == http.StatusOK && r.EventID == eventID {
				key = r.SubjectKey
				return true
			}
		}
		return false
	})
	require.NotEmpty(t, key)
	return key
}

// recordConsent records consent through the auditor API.
func recordConsent(t *testing.T, api string, body map[string]any) {
	t.Helper()
	code, out := rest(t, http.MethodPost, api+"/v1/consents", custodianToken, body, nil)
	require.Equal(t, http.StatusOK, code, out)
}

// TestConsentThroughTheAPIAfterSignals, against the consent ledger:
//   - a visitor whose browser sends Sec-GPC: 1 is opted out of sale and
//     sharing; opted back in through the API, their next event (GPC still
//     on) is forwarded to the ad platforms;
//   - a withdrawal recorded through the API blocks an event dated before
//     it that had consent at its time and is forwarded after it.
func TestConsentThroughTheAPIAfterSignals(t *testing.T) {
	fwd := newSink(t)
	b := sqliteBackend(t)
	c := startCollector(t, signalsConfig, map[string]any{"Forward": fwd.url, "Policy": writeSignalsPolicy(t), "Ledger": b.block}, ledgerEnv...)
	api := c.url("otlp", "")
	gpc := map[string]string{"Sec-GPC": "1"}
	forwarded := func(id string) (plog.LogRecord, bool) {
		for _, sr := range fwd.records() {
			if attrStr(sr.Record, ccaas.AttrEventID) == id {
				return sr.Record, true
			}
		}
		return plog.LogRecord{}, false
	}

	t.Run("opt-in after GPC", func(t *testing.T) {
		now := time.Now()
		track(t, c, "gpc-visitor", "gpc-1", now.Add(-time.Minute), consented(nil), gpc)
		key := subjectOf(t, api, "gpc-1")
		_, ok := forwarded("gpc-1")
		assert.False(t, ok, "the opted-out event did not flow")

		recordConsent(t, api, map[string]any{"subject": map[string]any{"tenant": "shop", "subject_key": key},
			"status": "opted_in", "reason": "the customer opted back in to sharing on the phone"})
		track(t, c, "gpc-visitor", "gpc-2", time.Now(), consented(nil), gpc)
		var rec plog.LogRecord
		waitFor(t, "the event after the opt-in", func() bool { rec, ok = forwarded("gpc-2"); return ok })
		assert.Equal(t, "forward", attrStr(rec, ccaas.AttrConsentDecision))
		assert.Contains(t, reasonsOf(rec), "opt_in_overrides_signal")
	})

	t.Run("withdrawal before forwarding", func(t *testing.T) {
		now := time.Now()
		// The visitor consented (on a form, recorded two hours ago); an
		// event of an hour ago flows.
		track(t, c, "withdrawing-visitor", "wd-probe", now.Add(-time.Minute), map[string]any{}, nil)
		key := subjectOf(t, api, "wd-probe") // quarantined: an empty consent object grants nothing
		recordConsent(t, api, map[string]any{"subject": map[string]any{"tenant": "shop", "subject_key": key}, "status": "granted",
			"purposes": []string{"analytics", "marketing.advertising"}, "at": now.Add(-2 * time.Hour).UTC().Format(time.RFC3339),
			"reason": "signed form"})
		track(t, c, "withdrawing-visitor", "wd-1", now.Add(-time.Hour), nil, nil)
		waitFor(t, "the consented event", func() bool { _, ok := forwarded("wd-1"); return ok })

		// The visitor withdraws now. An event dated an hour ago (before the
		// withdrawal) that arrives afterwards is not forwarded.
		recordConsent(t, api, map[string]any{"subject": map[string]any{"tenant": "shop", "subject_key": key}, "status": "withdrawn",
			"purposes": []string{"analytics"}, "reason": "the visitor withdrew consent"})
		track(t, c, "withdrawing-visitor", "wd-2", now.Add(-time.Hour), nil, nil)
		subjectOf(t, api, "wd-2")
		_, ok := forwarded("wd-2")
		assert.False(t, ok, "an event dated before the withdrawal was forwarded after it")
		var list struct {
			Records []auditRecord `json:"records"`
		}
		code, out := rest(t, http.MethodGet, api+"/v1/quarantine/records?tenant=web", auditorToken, nil, &list)
		require.Equal(t, http.StatusOK, code, out)
		for _, r := range list.Records {
			if r.EventID == "wd-2" {
				assert.Contains(t, r.Reasons, "withdrawal_after_event")
				assert.Contains(t, r.Reasons, "consent_denied")
			}
		}
	})
}
