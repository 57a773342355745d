package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/nodetest"
)

// The console's browser test: Debian's chromium, driven by playwright-core
// (pinned in e2e/consoleclient/package.json, installed there by npm ci).
const (
	chromiumPath = "/usr/bin/chromium"
	consoleAdmin = "e2e-console-admin-token-0123456789"
	// The caller of the Genesys fixture's recorded call (California).
	consolePhone = "+14155550123"
)

var consoleClientDir, _ = filepath.Abs("consoleclient")

// requireChromium skips loudly without Debian's chromium (fails under CI,
// where .ci/run installs it).
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required for the console's browser test (apt-get install chromium): %v", err)
		}
		t.Skipf("SKIPPED: %s not installed (apt-get install -y chromium), the console's browser test cannot run: %v", chromiumPath, err)
	}
}

// consoleConfig is auditConfig with TLS on the REST listener, the console
// on, and an admin token; with mtls, client certificates signed by the
// test's CA are required, and "auditor.console.example" is an auditor.
func consoleConfig(pki consolePKI, mtls bool) string {
	tlsBlock := fmt.Sprintf("        tls:\n          cert_file: %s\n          key_file: %s\n", pki.certFile, pki.keyFile)
	if mtls {
		tlsBlock += fmt.Sprintf("          client_ca_file: %s\n", pki.caFile)
	}
	cfg := strings.Replace(auditConfig(), "      http:\n        endpoint: 127.0.0.1:{{.Ports.otlp}}\n",
		"      http:\n        endpoint: 127.0.0.1:{{.Ports.otlp}}\n"+tlsBlock+"      console: true\n", 1)
	auth := fmt.Sprintf("        tokens:\n          - {identity: ada, role: admin, tenants: [\"*\"], sha256: %s}\n", hashToken(consoleAdmin))
	if mtls {
		auth = "        client_certs:\n          - {subject: auditor.console.example, role: auditor, tenants: [\"*\"]}\n" + auth
	}
	return strings.Replace(cfg, "        tokens:\n", auth, 1)
}

// consolePKI is a CA, the listener's certificate for 127.0.0.1 and a
// client certificate for auditor.console.example, all signed by it, in
// PEM files.
type consolePKI struct {
	caFile, certFile, keyFile, clientCert, clientKey string
	pool                                             *x509.CertPool
	client                                           tls.Certificate
}

func newConsolePKI(t *testing.T) consolePKI {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "console test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	pki := consolePKI{caFile: write("ca.crt", "CERTIFICATE", caDER), pool: x509.NewCertPool()}
	pki.pool.AddCert(ca)
	leaf := func(serial int64, name string, usage x509.ExtKeyUsage, ip net.IP) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		return write(name+".crt", "CERTIFICATE", der), write(name+".key", "PRIVATE KEY", kder)
	}
	pki.certFile, pki.keyFile = leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, net.ParseIP("127.0.0.1"))
	pki.clientCert, pki.clientKey = leaf(3, "auditor.console.example", x509.ExtKeyUsageClientAuth, nil)
	pki.client, err = tls.LoadX509KeyPair(pki.clientCert, pki.clientKey)
	require.NoError(t, err)
	return pki
}

// consoleRun is what e2e/consoleclient/console.js saw.
type consoleRun struct {
	Steps []struct {
		Name string `json:"name"`
		MS   int    `json:"ms"`
	} `json:"steps"`
	Blocked        []string `json:"blocked"`
	Errors         []string `json:"errors"`
	OverviewText   string   `json:"overviewText"`
	ByEvent        string   `json:"byEvent"`
	Listed         int      `json:"listed"`
	Decisions      []string `json:"decisions"`
	RecordID       string   `json:"recordId"`
	RecordSubject  string   `json:"recordSubject"`
	RecordWords    string   `json:"recordWords"`
	ReasonsTable   string   `json:"reasonsTable"`
	Payload        string   `json:"payload"`
	DecisionDetail string   `json:"decisionDetail"`
	ConsentMessage string   `json:"consentMessage"`
	ConsentList    string   `json:"consentList"`
	Purged         string   `json:"purged"`
	SubjectKey     string   `json:"subjectKey"`
	SubjectRecords []string `json:"subjectRecords"`
	Consents       int      `json:"subjectConsents"`
	Timeline       string   `json:"timeline"`
	DSAR           bundle   `json:"dsar"`
	DryRun         string   `json:"dryRun"`
	Released       string   `json:"released"`
	Erased         string   `json:"erased"`
	AfterErasure   string   `json:"afterErasure"`
	Verify         string   `json:"verify"`
	PublicKey      string   `json:"publicKey"`
	Export         bundle   `json:"export"`
	Health         string   `json:"health"`
	AccessRows     int      `json:"accessRows"`
	RefusedRead    string   `json:"refusedRead"`
	RefusedRelease string   `json:"refusedRelease"`
	RefusedSignIn  string   `json:"refusedSignIn"`
	RefusedLookup  string   `json:"refusedLookup"`
	RecordsCSV     csvFile  `json:"recordsCSV"`
	AccessCSV      csvFile  `json:"accessCSV"`
	VerifyType     string   `json:"verifyContentType"`
	Who            string   `json:"who"`
	SubjectHash    string   `json:"subjectHash"`
}

type csvFile struct {
	Header string `json:"header"`
	Rows   int    `json:"rows"`
	Last   string `json:"last"`
}

type bundle struct {
	File    string `json:"file"`
	Lines   int    `json:"lines"`
	Records int    `json:"records"`
}

// TestConsoleInChromium drives the auditor console of the built collector
// (served under the REST listener's TLS) in a real Chromium: sign in with
// a token, filter records, open one and read its payload with a reason,
// look the subject up by phone number and export its evidence, record
// consent by phone number, dry-run and release, erase, verify, export; an
// auditor sees a payload read, a release and a search by phone refused. The browser reaches
// nothing but the console's origin. Then every step is checked in the
// access log. CONSENTRY_CONSOLE_SCREENSHOTS=dir (relative to the
// repository) writes a screenshot of each view there (docs/console/ holds
// the committed ones).
func TestConsoleInChromium(t *testing.T) {
	requireChromium(t)
	node := nodetest.Require(t, consoleClientDir, filepath.Join("node_modules", "playwright-core", "package.json"),
		"drive the auditor console in chromium")

	fwd := newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	pki := newConsolePKI(t)
	c := startCollector(t, consoleConfig(pki, false),
		map[string]any{"Forward": fwd.url, "Policy": policy, "Ledger": sqliteBackend(t).block}, ledgerEnv...)
	api := fmt.Sprintf("https://127.0.0.1:%d", c.ports["otlp"])
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12}}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	call := func(method, path, token string, body any, out any) (int, string) {
		t.Helper()
		return restWith(t, client, method, api+path, token, body, out)
	}

	// The console's files need no credentials; the API still does.
	code, page := call(http.MethodGet, "/console/", "", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "app.js")
	code, _ = call(http.MethodGet, "/v1/quarantine/records", "", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code)

	// Quarantined records: a call recorded in California without consent.
	body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), localGenesysOrg)
	code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": genesysKey})
	require.Equal(t, http.StatusOK, code, out)
	forwardedBefore := fwd.count()

	shots := os.Getenv("CONSENTRY_CONSOLE_SCREENSHOTS")
	if shots != "" {
		if !filepath.IsAbs(shots) {
			// Relative to the repository (the test runs in e2e/).
			shots = filepath.Join("..", shots)
		}
		shots, err = filepath.Abs(shots)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(shots, 0o755))
	}
	run := runConsoleJS(t, node, "CONSOLE_URL="+api+"/console/", "ADMIN_TOKEN="+consoleAdmin, "AUDITOR_TOKEN="+auditorToken,
		"TENANT="+localGenesysOrg, "PHONE="+consolePhone, "SCREENSHOTS="+shots)

	// What the browser showed.
	assert.Contains(t, run.OverviewText, "Quarantined and released over time")
	assert.Contains(t, run.ByEvent, "ccaas.analytics.sentiment", "the over-time chart by event names the events")
	assert.NotEmpty(t, run.Decisions)
	for _, d := range run.Decisions {
		assert.Contains(t, d, "Held back: ", "each row's decision in words")
	}
	assert.Contains(t, run.RecordWords, "no record of it", "consent_missing in plain language: %s", run.RecordWords)
	assert.True(t, strings.HasPrefix(run.RecordsCSV.Header, "id,tenant,vendor,"), "the records as CSV: %+v", run.RecordsCSV)
	assert.Equal(t, run.Listed, run.RecordsCSV.Rows, "the CSV has the listing's records, every page")
	assert.Contains(t, run.AccessCSV.Header, "identity")
	assert.GreaterOrEqual(t, run.AccessCSV.Rows, run.AccessRows)
	assert.NotContains(t, run.AccessCSV.Last, "# error")
	assert.Equal(t, "application/x-ndjson", strings.Split(run.VerifyType, ";")[0], "verification streamed with its progress")
	assert.Contains(t, run.ReasonsTable, "consent_missing")
	assert.Contains(t, run.ReasonsTable, "holds the event")
	assert.Contains(t, run.Payload, "resourceLogs", "the decrypted payload as OTLP/JSON")
	assert.Contains(t, run.DecisionDetail, "Jurisdictions")
	assert.Contains(t, run.DecisionDetail, "US-CA", "the jurisdictions the processor wrote: %s", run.DecisionDetail)
	assert.Regexp(t, `Policy hash\s*\S{8,}`, run.DecisionDetail)
	assert.Contains(t, run.ConsentMessage, "Consent recorded")
	assert.Contains(t, run.ConsentList, "api (ada)", "the consent listed by phone number, as recorded in the browser")
	assert.Contains(t, run.Purged, "Purged 0 payload(s)", "nothing in this ledger is 30 days old")

	// The subject found by phone number is the record's subject, with all of
	// its records, and only its records.
	require.NotEmpty(t, run.SubjectKey)
	assert.Equal(t, run.RecordSubject, run.SubjectKey, "the phone number's subject is the opened record's")
	var bySubject struct {
		Records []auditRecord `json:"records"`
	}
	code, out = call(http.MethodGet, "/v1/quarantine/records?subject_key="+run.SubjectKey, auditorToken, nil, &bySubject)
	require.Equal(t, http.StatusOK, code, out)
	require.NotEmpty(t, run.SubjectRecords)
	assert.Len(t, run.SubjectRecords, len(bySubject.Records))
	for _, k := range run.SubjectRecords {
		assert.Equal(t, run.SubjectKey, k)
	}
	var consents struct {
		Consents []struct {
			Source string `json:"source"`
		} `json:"consents"`
	}
	code, out = call(http.MethodGet, "/v1/consents?tenant=genesys/"+localGenesysOrg+"&subject_key="+run.SubjectKey, auditorToken, nil, &consents)
	require.Equal(t, http.StatusOK, code, out)
	assert.Len(t, consents.Consents, run.Consents+1, "every consent record of the subject at the lookup, and the one recorded after it: %s", out)
	assert.Contains(t, out, `"source":"api"`, "the consent recorded in the browser")
	assert.NotContains(t, run.SubjectHash, "4155550123", "a phone number never goes into the URL (nor the browser's history)")
	assert.Contains(t, run.Timeline, "Consent granted")
	assert.Equal(t, len(bySubject.Records), run.DSAR.Records, "the DSAR bundle holds the subject's records")

	assert.Contains(t, run.DryRun, "Dry run")
	assert.Contains(t, run.Released, "Released")
	waitFor(t, "released records at the forward sink", func() bool { return fwd.count() > forwardedBefore })
	assert.Contains(t, run.Erased, "Erased subject "+run.SubjectKey)
	assert.Contains(t, run.AfterErasure, "410")
	assert.Contains(t, run.Verify, "Verified")
	assert.Len(t, run.PublicKey, 64)
	assert.Positive(t, run.Export.Records)
	assert.Contains(t, run.Health, "Verified")
	assert.Positive(t, run.AccessRows)
	assert.Contains(t, run.RefusedRead, "403")
	assert.Contains(t, run.RefusedRelease, "403")
	assert.Contains(t, run.RefusedSignIn, "401")
	assert.Contains(t, run.RefusedLookup, "403", "an auditor may not search by phone number")

	// The evidence downloaded in the browser verifies offline.
	cli := consentryCLI(t)
	for _, b := range []bundle{run.DSAR, run.Export} {
		vout, err := exec.Command(cli, "bundle", "verify", "--public-key", run.PublicKey, b.File).CombinedOutput()
		assert.NoError(t, err, "bundle verify %s:\n%s", b.File, vout)
	}

	// Every step is in the access log, as the API's own calls: the console
	// has no way around it. Raw phone numbers never are.
	var log struct {
		Entries []struct {
			Identity string `json:"identity"`
			Method   string `json:"method"`
			Target   string `json:"target"`
			Reason   string `json:"reason"`
			Result   string `json:"result"`
		} `json:"entries"`
	}
	code, out = call(http.MethodGet, "/v1/access-log?page_size=1000", auditorToken, nil, &log)
	require.Equal(t, http.StatusOK, code, out)
	seen := map[string]bool{}
	redacted := 0
	for _, e := range log.Entries {
		if strings.Contains(e.Target, `"raw_identifier":"[redacted]"`) {
			redacted++
		}
		kind := strings.FieldsFunc(e.Result, func(r rune) bool { return r == ' ' || r == ';' || r == ':' })[0]
		seen[e.Identity+" "+e.Method+" "+kind] = true
		if e.Method == "GetQuarantinedRecord" && e.Identity == "ada" && e.Result == "ok" {
			assert.Equal(t, "DSAR 42 via the console", e.Reason)
			assert.Contains(t, e.Target, run.RecordID)
		}
		assert.NotContains(t, e.Target+e.Result+e.Reason, "4155550123", "a raw phone number in the access log: %+v", e)
	}
	for _, want := range []string{
		"ada ListQuarantinedRecords ok", "ada GetStats ok", "ada GetQuarantinedRecord ok", "ada RecordConsent ok", "ada ListConsents ok",
		"ada ExportEvidence ok", "ada ReleaseRecords ok", "ada EraseSubject ok", "ada GetQuarantinedRecord error",
		"ada VerifyLedger ok", "ada ListAccessLog ok", "ada Purge ok",
		"alice ListQuarantinedRecords ok", "alice GetQuarantinedRecord denied", "alice ReleaseRecords denied", "alice ListQuarantinedRecords denied",
	} {
		assert.True(t, seen[want], "access log lacks %q", want)
	}
	assert.GreaterOrEqual(t, redacted, 4, "the phone number searches, consent, release and erasure, logged redacted")
	// The refused sign-in is counted with the unauthenticated calls.
	waitFor(t, "the refused sign-in in the access log", func() bool {
		code, out = call(http.MethodGet, "/v1/access-log?identity=unknown-token:"+hashToken("not-a-token-of-anyone")[:8], auditorToken, nil, &log)
		return code == http.StatusOK && len(log.Entries) > 0
	})
}

// runConsoleJS runs e2e/consoleclient/console.js with env and returns what
// it saw; it fails the test if the script failed, if the page reached
// another origin, or if the page logged an error (a CSP violation, a
// script error).
func runConsoleJS(t *testing.T, node string, env ...string) consoleRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.js")
	cmd.Dir = consoleClientDir
	cmd.Env = append(append(os.Environ(), "CHROMIUM="+chromiumPath, "DOWNLOADS="+t.TempDir(), "HOME="+t.TempDir()), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	var run consoleRun
	if stdout.Len() > 0 {
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &run), stdout.String())
	}
	for _, s := range run.Steps {
		t.Logf("console step %-52q %5d ms", s.Name, s.MS)
	}
	require.NoError(t, runErr, "console.js:\n%s", stderr.String())
	t.Logf("browser run: %s", time.Since(start).Round(time.Millisecond))
	assert.Empty(t, run.Blocked, "the console reached outside its origin")
	assert.Empty(t, run.Errors, "errors in the page (a CSP violation, a script error)")
	return run
}

// TestConsoleClientCertificateInChromium signs in to the console with a
// client certificate (mTLS, no token): the browser presents it, the API
// maps it to an auditor, and the access log names that identity.
func TestConsoleClientCertificateInChromium(t *testing.T) {
	requireChromium(t)
	node := nodetest.Require(t, consoleClientDir, filepath.Join("node_modules", "playwright-core", "package.json"),
		"drive the auditor console in chromium")
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	pki := newConsolePKI(t)
	c := startCollector(t, consoleConfig(pki, true),
		map[string]any{"Forward": newSink(t).url, "Policy": policy, "Ledger": sqliteBackend(t).block}, ledgerEnv...)
	api := fmt.Sprintf("https://127.0.0.1:%d", c.ports["otlp"])

	run := runConsoleJS(t, node, "CONSOLE_URL="+api+"/console/", "CLIENT_CERT="+pki.clientCert, "CLIENT_KEY="+pki.clientKey)
	assert.Equal(t, "client certificate", run.Who)

	// Without a certificate the listener refuses the connection.
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12}}, Timeout: 10 * time.Second}
	t.Cleanup(plain.CloseIdleConnections)
	if resp, err := plain.Get(api + "/console/"); err == nil {
		resp.Body.Close()
		t.Fatalf("a caller without a client certificate got %d", resp.StatusCode)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client},
		MinVersion: tls.VersionTLS12}}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	var log struct {
		Entries []struct {
			Method string `json:"method"`
			Result string `json:"result"`
		} `json:"entries"`
	}
	code, out := restWith(t, client, http.MethodGet, api+"/v1/access-log?identity=auditor.console.example", "", nil, &log)
	require.Equal(t, http.StatusOK, code, out)
	methods := map[string]bool{}
	for _, e := range log.Entries {
		methods[e.Method+" "+e.Result] = true
	}
	assert.True(t, methods["ListQuarantinedRecords ok"], "the console's calls under the certificate's identity: %s", out)
	assert.True(t, methods["GetStats ok"], "the console's calls under the certificate's identity: %s", out)
}
