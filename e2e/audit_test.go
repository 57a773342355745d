package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
)

// Tokens of the auditor flow, one per role.
const (
	auditorToken      = "e2e-auditor-token-0123456789"
	investigatorToken = "e2e-investigator-token-0123456789"
	custodianToken    = "e2e-custodian-token-0123456789"
)

// auditConfig is ledgerConfig with the auditor API served.
func auditConfig() string {
	api := fmt.Sprintf(`    api:
      http:
        endpoint: 127.0.0.1:{{.Ports.otlp}}
      subject_salt: ${env:E2E_SUBJECT_SALT}
      unauthenticated_log_window: 1s
      auth:
        tokens:
          - {identity: alice, role: auditor, tenants: ["*"], sha256: %s}
          - {identity: ivan, role: investigator, tenants: ["*"], sha256: %s}
          - {identity: carol, role: custodian, tenants: ["*"], sha256: %s}
`, hashToken(auditorToken), hashToken(investigatorToken), hashToken(custodianToken))
	return strings.Replace(ledgerConfig, "    keys:\n      - id: e2e\n", api+"    keys:\n      - id: e2e\n", 1)
}

// hashToken is what `consentry token hash` prints: the SHA-256 the config holds.
func hashToken(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// rest calls the auditor API and decodes its JSON answer into out (if not nil).
func rest(t *testing.T, method, url, token string, body any, out any) (int, string) {
	t.Helper()
	return restWith(t, http.DefaultClient, method, url, token, body, out)
}

// restWith is rest through client (e.g. one that trusts the listener's TLS certificate).
func restWith(t *testing.T, client *http.Client, method, url, token string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
	return resp.StatusCode, string(raw)
}

type auditRecord struct {
	ID            string   `json:"id"`
	Tenant        string   `json:"tenant"`
	Vendor        string   `json:"vendor"`
	EventID       string   `json:"event_id"`
	EventName     string   `json:"event_name"`
	SubjectKey    string   `json:"subject_key"`
	InteractionID string   `json:"interaction_id"`
	Reasons       []string `json:"reasons"`
	ReleasedAt    string   `json:"released_at"`
	Erased        bool     `json:"erased"`
}

// TestAuditorFlow drives the auditor API of the built collector over REST:
// list quarantined events, read one with a reason, record the caller's
// consent, release their records to the forward sink, verify the ledger,
// export an evidence bundle and verify it offline with `consentry bundle
// verify`, erase the subject (payloads unreadable, chain still valid), and
// find every call in the access log.
func TestAuditorFlow(t *testing.T) {
	forEachLedgerBackend(t, func(t *testing.T, b ledgerBackend) {
		fwd := newSink(t)
		policy, err := filepath.Abs("../config/policy.yaml")
		require.NoError(t, err)
		c := startCollector(t, auditConfig(), map[string]any{"Forward": fwd.url, "Policy": policy, "Ledger": b.block}, ledgerEnv...)
		api := c.url("otlp", "")

		// A call recorded in California: Genesys events the example policy
		// quarantines until the caller consents (all-party state).
		body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), localGenesysOrg)
		code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": genesysKey})
		require.Equal(t, http.StatusOK, code, out)
		forwardedBefore := fwd.count()

		code, _ = rest(t, http.MethodGet, api+"/v1/quarantine/records", "", nil, nil)
		require.Equal(t, http.StatusUnauthorized, code, "no token")
		code, _ = rest(t, http.MethodGet, api+"/openapi.json", "", nil, nil)
		require.Equal(t, http.StatusOK, code)

		// 1. List (metadata only).
		var list struct {
			Records []auditRecord `json:"records"`
		}
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?tenant="+localGenesysOrg, auditorToken, nil, &list)
		require.Equal(t, http.StatusOK, code, out)
		require.NotEmpty(t, list.Records)
		assert.NotContains(t, out, `"payload"`, "listing never returns payloads")
		assert.NotContains(t, out, `"payload_json"`, "listing never returns payloads")
		var target auditRecord
		for _, r := range list.Records {
			if r.SubjectKey != "" && strings.Contains(strings.Join(r.Reasons, ","), "consent_missing") {
				target = r
			}
		}
		require.NotEmpty(t, target.ID, "a record quarantined for missing consent: %s", out)
		var subjectRecords []auditRecord
		for _, r := range list.Records {
			if r.SubjectKey == target.SubjectKey {
				subjectRecords = append(subjectRecords, r)
			}
		}

		// 2. Read one decrypted: an investigator, with a reason.
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records/"+target.ID, investigatorToken, nil, nil)
		require.Equal(t, http.StatusBadRequest, code, "a read needs a reason: %s", out)
		code, _ = rest(t, http.MethodGet, api+"/v1/quarantine/records/"+target.ID+"?reason=DSAR%2042", auditorToken, nil, nil)
		require.Equal(t, http.StatusForbidden, code, "an auditor cannot read payloads")
		var read struct {
			PayloadJSON string `json:"payload_json"`
		}
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records/"+target.ID+"?reason=DSAR%2042", investigatorToken, nil, &read)
		require.Equal(t, http.StatusOK, code, out)
		assert.Contains(t, read.PayloadJSON, target.EventID)

		// 3. The caller consented at the start of the call (recorded by a custodian),
		// under the consent scope of the policy: the vendor tenant id alone is refused,
		// since the consent processor would never look consent up there.
		code, out = rest(t, http.MethodPost, api+"/v1/consents", custodianToken, map[string]any{
			"subject": map[string]string{"tenant": localGenesysOrg, "subject_key": target.SubjectKey},
			"status":  "granted", "purposes": []string{"collect.recording"}, "reason": "r",
		}, nil)
		require.Equal(t, http.StatusBadRequest, code, out)
		assert.Contains(t, out, `is \"genesys/`+localGenesysOrg+`\"`)
		scope := "genesys/" + localGenesysOrg
		var rec struct {
			SubjectKey string `json:"subject_key"`
		}
		code, out = rest(t, http.MethodPost, api+"/v1/consents", custodianToken, map[string]any{
			"subject":  map[string]string{"tenant": scope, "subject_key": target.SubjectKey},
			"status":   "granted",
			"purposes": []string{"collect.recording", "collect.transcription", "analytics.reporting", "functional.service.improve"},
			"at":       "2025-01-01T00:00:00Z",
			"reason":   "verbal consent on the recorded line, ticket 42",
		}, &rec)
		require.Equal(t, http.StatusOK, code, out)

		// 4. Release: a dry run first, then for real.
		var rel struct {
			Evaluated string `json:"evaluated"`
			Forwarded string `json:"forwarded"`
			Released  string `json:"released"`
			Outcomes  []struct {
				RecordID  string   `json:"record_id"`
				Decision  string   `json:"decision"`
				Reasons   []string `json:"reasons"`
				Forwarded bool     `json:"forwarded"`
			} `json:"outcomes"`
		}
		subj := map[string]string{"tenant": localGenesysOrg, "subject_key": target.SubjectKey}
		code, out = rest(t, http.MethodPost, api+"/v1/quarantine/records:release", custodianToken,
			map[string]any{"subject": subj, "dry_run": true, "reason": "consent recorded"}, &rel)
		require.Equal(t, http.StatusOK, code, out)
		require.Equal(t, forwardedBefore, fwd.count(), "a dry run forwards nothing")
		code, out = rest(t, http.MethodPost, api+"/v1/quarantine/records:release", custodianToken,
			map[string]any{"subject": subj, "reason": "consent recorded"}, &rel)
		require.Equal(t, http.StatusOK, code, out)
		require.NotEqual(t, "0", rel.Forwarded, "the consented records are released: %s", out)
		waitFor(t, "released records at the forward sink", func() bool { return fwd.count() > forwardedBefore })
		var releasedIDs []string
		for _, r := range fwd.records()[forwardedBefore:] {
			assert.Equal(t, "forward", attrStr(r.Record, ccaas.AttrConsentDecision))
			releasedIDs = append(releasedIDs, attrStr(r.Record, ccaas.AttrEventID))
		}
		for _, o := range rel.Outcomes {
			if o.Forwarded {
				assert.Equal(t, "forward", o.Decision)
			}
		}
		t.Logf("%s: released %v of %d records of the subject", b.name, releasedIDs, len(subjectRecords))
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records?subject_key="+target.SubjectKey, auditorToken, nil, &list)
		require.Equal(t, http.StatusOK, code, out)
		var marked int
		for _, r := range list.Records {
			if r.ReleasedAt != "" {
				marked++
			}
		}
		assert.Equal(t, len(releasedIDs), marked, "released records stay in the ledger, marked released: %s", out)

		// 5. Verify.
		var ver struct {
			OK        bool   `json:"ok"`
			PublicKey string `json:"public_key"`
		}
		code, out = rest(t, http.MethodPost, api+"/v1/ledger:verify", auditorToken, map[string]any{}, &ver)
		require.Equal(t, http.StatusOK, code, out)
		require.True(t, ver.OK, out)
		require.NotEmpty(t, ver.PublicKey)

		// 6. Export and verify offline.
		code, bundle := rest(t, http.MethodPost, api+"/v1/evidence:export", investigatorToken,
			map[string]any{"filter": map[string]string{"tenant": localGenesysOrg}, "reason": "regulator request 17"}, nil)
		require.Equal(t, http.StatusOK, code, bundle)
		bundleFile := filepath.Join(t.TempDir(), "bundle.ndjson")
		require.NoError(t, os.WriteFile(bundleFile, []byte(bundle), 0o600))
		cli := consentryCLI(t)
		verify := exec.Command(cli, "bundle", "verify", "--public-key", ver.PublicKey, bundleFile)
		vout, err := verify.CombinedOutput()
		require.NoError(t, err, "bundle verify:\n%s", vout)
		// Tampering with the bundle is caught offline.
		tampered := strings.Replace(bundle, target.EventID, target.EventID+"x", 1)
		require.NotEqual(t, bundle, tampered)
		require.NoError(t, os.WriteFile(bundleFile, []byte(tampered), 0o600))
		vout, err = exec.Command(cli, "bundle", "verify", "--public-key", ver.PublicKey, bundleFile).CombinedOutput()
		require.Error(t, err, "a tampered bundle must fail:\n%s", vout)

		// 7. Erase the subject: payloads unreadable, the chain still verifies.
		code, out = rest(t, http.MethodPost, api+"/v1/subjects:erase", custodianToken,
			map[string]any{"subject": subj, "reason": "erasure request 311"}, nil)
		require.Equal(t, http.StatusOK, code, out)
		code, out = rest(t, http.MethodGet, api+"/v1/quarantine/records/"+target.ID+"?reason=after%20erasure", investigatorToken, nil, nil)
		require.Equal(t, http.StatusGone, code, out)
		code, out = rest(t, http.MethodPost, api+"/v1/ledger:verify", auditorToken, map[string]any{}, &ver)
		require.Equal(t, http.StatusOK, code, out)
		require.True(t, ver.OK, "verify after erasure: %s", out)

		// 8. Every call is in the access log, the denied ones included
		// (unauthenticated calls aggregated per source and second here).
		var log struct {
			Entries []struct {
				Identity string `json:"identity"`
				Method   string `json:"method"`
				Reason   string `json:"reason"`
				Result   string `json:"result"`
			} `json:"entries"`
		}
		seen := map[string]bool{}
		waitFor(t, "the unauthenticated call in the access log", func() bool {
			code, out = rest(t, http.MethodGet, api+"/v1/access-log?page_size=100", auditorToken, nil, &log)
			require.Equal(t, http.StatusOK, code, out)
			for _, e := range log.Entries {
				kind := strings.FieldsFunc(e.Result, func(r rune) bool { return r == ' ' || r == ';' || r == ':' })[0]
				seen[e.Identity+" "+e.Method+" "+kind] = true
				if e.Method == "GetQuarantinedRecord" && e.Result == "ok" {
					assert.Equal(t, "DSAR 42", e.Reason)
				}
			}
			return seen["anonymous ListQuarantinedRecords denied"]
		})
		for _, want := range []string{"alice ListQuarantinedRecords ok", "alice GetQuarantinedRecord denied", "ivan GetQuarantinedRecord ok",
			"carol RecordConsent ok", "carol ReleaseRecords ok", "alice VerifyLedger ok", "ivan ExportEvidence ok", "carol EraseSubject ok"} {
			assert.True(t, seen[want], "access log lacks %q: %s", want, out)
		}
	})
}

// consentryCLI builds cmd/consentry once per test binary.
func consentryCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "consentry-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "consentry")
		out, err := exec.Command("go", "build", "-o", cliPath, "../cmd/consentry").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build ./cmd/consentry: %v\n%s", err, out)
		}
	})
	require.NoError(t, cliErr)
	return cliPath
}
