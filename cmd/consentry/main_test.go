package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consentry runs the command in-process.
func consentry(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// unsetEnv clears variables for the test (restored afterwards).
func unsetEnv(t *testing.T, names ...string) {
	for _, n := range names {
		t.Setenv(n, "")
		require.NoError(t, os.Unsetenv(n))
	}
}

var receiverEnv = []string{"CONSENTRY_SUBJECT_SALT", "CONSENTRY_GENESYS_ORG_ID", "CONSENTRY_GENESYS_SECRET",
	"CONSENTRY_TWILIO_AUTH_TOKEN", "CONSENTRY_SEGMENT_SHARED_SECRET", "CONSENTRY_SEGMENT_WRITE_KEY",
	"CONSENTRY_TALKDESK_TOKEN", "CONSENTRY_LEDGER_KEY", "CONSENTRY_TWILIO_ACCOUNT_SID"}

func TestUsage(t *testing.T) {
	code, out, _ := consentry(t)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, out, "consentry policy check")
	code, _, errOut := consentry(t, "policy", "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `unknown command "policy frobnicate"`)
	code, _, _ = consentry(t, "policy", "check")
	assert.Equal(t, exitUsage, code, "--config is required")
	code, _, _ = consentry(t, "--help")
	assert.Equal(t, exitOK, code)
}

func TestCheckWithoutReceiverSecrets(t *testing.T) {
	unsetEnv(t, receiverEnv...)
	code, out, errOut := consentry(t, "policy", "check", "--config", "testdata/collector.yaml")
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Regexp(t, `^ok   consent: \.\./\.\./config/policy\.yaml, policy sha256:[0-9a-f]{32} \(8 processors, \d+ tenants`, out)
	assert.NotContains(t, out, "warning")

	code, out, errOut = consentry(t, "policy", "check", "--strict", "--config", "testdata/collector.yaml")
	assert.Equal(t, exitOK, code, "the example policy has no warnings: "+out+errOut)
}

// The repository's local configuration wires the consent processor and
// must pass with no secrets set. Paths in it are relative to the
// repository root.
func TestCheckLocalConfig(t *testing.T) {
	unsetEnv(t, receiverEnv...)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	t.Chdir(root)
	code, out, errOut := consentry(t, "policy", "check", "--config", "config/local.yaml")
	require.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "consent: config/policy.yaml", "config/local.yaml must run the consent processor with the example policy")
}

func TestCheckReportsEveryProblem(t *testing.T) {
	code, out, errOut := consentry(t, "policy", "check", "--config", "testdata/invalid.yaml")
	assert.Equal(t, exitInvalid, code)
	for _, want := range []string{
		"FAIL consent\n",
		`processors[0] (genesys): role "vendor" is not processor, service_provider, contractor or third_party`,
		`tenants[0] (genesys/org).notice.processors[1]: unknown processor "genesys-ai"`,
		`purposes["ccaas.interaction.started"][0]: unknown data use "essential.servce" (did you mean "essential.service"?)`,
		"FAIL consent/nopolicy\n",
		"set policy (inline) or policy_file",
		"FAIL consent/typo\n",
		"relaod_interval",
	} {
		assert.Contains(t, out, want)
	}
	assert.Contains(t, errOut, "3 of 3 consent processor(s) failed")
}

func TestCheckSeveralProcessorsAndFileReferences(t *testing.T) {
	unsetEnv(t, "CONSENTRY_TEST_TALKDESK_ACCOUNT", "CONSENTRY_GENESYS_ORG_ID", "CONSENTRY_TWILIO_ACCOUNT_SID")
	code, out, errOut := consentry(t, "policy", "check", "--config", "testdata/two-processors.yaml")
	assert.Equal(t, exitOK, code, out+errOut)
	assert.Contains(t, out, "ok   consent/example: ../../config/policy.yaml")
	assert.Contains(t, out, "ok   consent/inline: inline policy")
	assert.Contains(t, out, `warning: purposes["ccaas.transcript.segmnt"]: "ccaas.transcript.segmnt" is not an event name the receivers write (did you mean "ccaas.transcript.segment"?)`)

	code, out, _ = consentry(t, "policy", "check", "--strict", "--config", "testdata/two-processors.yaml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, "FAIL consent/inline")
}

func TestCheckWithoutConsentProcessor(t *testing.T) {
	code, _, errOut := consentry(t, "policy", "check", "--config", "testdata/no-consent.yaml")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "no consent processor")

	code, _, errOut = consentry(t, "policy", "check", "--config", "testdata/missing.yaml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "missing.yaml")
}

func TestExplainGenesysWebhook(t *testing.T) {
	code, out, errOut := consentry(t, "policy", "explain", "--config", "testdata/collector.yaml", "--vendor", "genesys", "testdata/events/genesys_hotline_start.json")
	require.Equal(t, exitOK, code, errOut)
	for _, want := range []string{
		"Record 1 of 1: ccaas.interaction.started (genesys, tenant 3f8c2b6e-1d4a-4e7b-9c2f-8a6d5e4b3c21, event 8a3f1c2e-0b4d-4e6f-9a1b-2c3d4e5f6a7b)",
		"  decision:       QUARANTINE\n",
		"[!] processor_undisclosed",
		"genesys (NOT in the notice)",
		"  notice:         hotline-privacy@2023-11\n",
	} {
		assert.Contains(t, out, want)
	}
}

func TestExplainSequenceLearnsConsentAndInteractions(t *testing.T) {
	unsetEnv(t, "CONSENTRY_GENESYS_ORG_ID")
	code, out, errOut := consentry(t, "policy", "explain", "--config", "testdata/collector.yaml", "--vendor", "genesys",
		"--route", "notifications", "--tenant", "00000000-0000-4000-8000-000000000000", "--output", "json",
		"testdata/events/genesys_local_transcript.json")
	require.Equal(t, exitOK, code, errOut)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got, 3)
	assert.Equal(t, "ccaas.interaction.started", got[0]["event_name"])
	assert.Equal(t, "forward", got[0]["consent.decision"])
	assert.Contains(t, got[1]["consent.reasons"], "consent_recorded", "the IVR's RecordingConsent is recorded")
	// The transcript carries only the conversation id: subject and
	// location come from the interaction; Genesys AI's own use still needs
	// consent the caller did not give.
	assert.Equal(t, "ccaas.transcript.segment", got[2]["event_name"])
	assert.Equal(t, "quarantine", got[2]["consent.decision"])
	assert.Contains(t, got[2]["consent.reasons"], "from_interaction")
	assert.Equal(t, []any{"US-CA@customer.e164"}, got[2]["consent.jurisdictions"])
	for _, k := range []string{"consent.status", "consent.decision", "consent.reasons", "consent.purposes", "consent.jurisdictions",
		"consent.all_party_required", "consent.processors", "consent.disclosed_processors", "consent.undisclosed_processors",
		"consent.notice.id", "consent.evidence", "consent.policy.hash"} {
		assert.Contains(t, got[2], k)
	}
	// What the receiver extracted, the timestamps and every jurisdiction
	// with its source, for privacy engineers.
	attrs, ok := got[0]["attributes"].(map[string]any)
	require.True(t, ok, "attributes: %v", got[0]["attributes"])
	for _, k := range []string{"ccaas.subject.key", "ccaas.interaction.id", "ccaas.channel", "ccaas.jurisdiction.region",
		"ccaas.jurisdiction.source", "ccaas.jurisdiction.hints", "ccaas.vendor", "ccaas.tenant.id", "ccaas.event.type"} {
		assert.Contains(t, attrs, k)
	}
	assert.Equal(t, []any{"US-CA@customer.e164"}, attrs["ccaas.jurisdiction.hints"])
	assert.NotContains(t, attrs, "consent.decision", "consent.* are listed on their own")
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT`, got[0]["timestamp"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT`, got[0]["observed_timestamp"])
	assert.Equal(t, []any{map[string]any{"code": "US-CA", "party": "customer", "source": "e164"}}, got[2]["jurisdictions"])
}

func TestExplainOTLP(t *testing.T) {
	code, out, errOut := consentry(t, "policy", "explain", "testdata/events/otlp_talkdesk_transcript.json", "--config", "testdata/collector.yaml", "--output", "json")
	require.Equal(t, exitOK, code, errOut)
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got, 1)
	assert.Equal(t, "quarantine", got[0]["consent.decision"], "an upstream consent.decision is replaced")
	assert.Contains(t, got[0]["consent.reasons"], "secondary_use")
	assert.Contains(t, got[0]["consent.reasons"], "all_party_jurisdiction")
	assert.Equal(t, true, got[0]["consent.all_party_required"])
}

func TestExplainErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"testdata/events/genesys_hotline_start.json"}, exitInvalid, "say which vendor's webhook body it is with --vendor (genesys, segment, talkdesk, twilio)"},
		{[]string{"--vendor", "acme", "testdata/events/genesys_hotline_start.json"}, exitInvalid, `no decoder for vendor "acme"`},
		{[]string{"--vendor", "genesys", "--route", "pigeon", "testdata/events/genesys_hotline_start.json"}, exitInvalid, `unknown genesys route "pigeon"`},
		{[]string{"--processor", "consent/other", "--vendor", "genesys", "testdata/events/genesys_hotline_start.json"}, exitUsage, `no processor "consent/other"`},
		{[]string{"--vendor", "genesys", "testdata/events/nope.json"}, exitUsage, "nope.json"},
		{[]string{"--output", "yaml", "testdata/events/genesys_hotline_start.json"}, exitUsage, "Usage"},
	} {
		code, _, errOut := consentry(t, append([]string{"policy", "explain", "--config", "testdata/collector.yaml"}, tc.args...)...)
		assert.Equal(t, tc.code, code, tc.args)
		assert.Contains(t, errOut, tc.want)
	}
	code, _, errOut := consentry(t, "policy", "explain", "--config", "testdata/two-processors.yaml", "--vendor", "genesys", "testdata/events/genesys_hotline_start.json")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "several consent processors (consent/example, consent/inline): choose one with --processor")
}

// Every vendor receiver's decoder is wired: a fixture of each turns into
// records with a decision.
func TestExplainEveryVendor(t *testing.T) {
	for _, tc := range []struct{ vendor, route, fixture, event string }{
		{"twilio", "voice_status", "../../receiver/twilioreceiver/testdata/fixtures/voice_status_inbound_completed.form", "ccaas.interaction.ended"},
		{"twilio", "eventstreams", "../../receiver/twilioreceiver/testdata/fixtures/eventstreams_batch.json", "(twilio, tenant "},
		{"segment", "track", "../../receiver/segmentreceiver/testdata/fixtures/tracking_track.json", "ccaas.analytics.track (segment"},
		{"talkdesk", "webhook/inboundCallEnds", "../../receiver/talkdeskreceiver/testdata/fixtures/webhook_inbound_call_ends.json", "ccaas.interaction.ended (talkdesk"},
	} {
		t.Run(tc.vendor+"/"+tc.route, func(t *testing.T) {
			code, out, errOut := consentry(t, "policy", "explain", "--config", "testdata/collector.yaml",
				"--vendor", tc.vendor, "--route", tc.route, tc.fixture)
			require.Equal(t, exitOK, code, errOut)
			assert.Contains(t, out, tc.event)
			assert.Contains(t, out, "decision:")
		})
	}
}
