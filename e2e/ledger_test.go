package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
	"github.com/consentry/consentry/internal/ledger/postgres"
	"github.com/consentry/consentry/internal/ledger/sqlite"
	"github.com/consentry/consentry/internal/ledger/sqlstore"
)

// The tenants of config/policy.yaml's local section (make run's
// placeholders), so that the example policy decides.
const (
	localTwilioAccount  = "AC00000000000000000000000000000000"
	localTalkdeskAcct   = "local-talkdesk-account"
	localSegmentSource  = "local"
	e2eLedgerKey        = "3f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	e2eSubjectSalt      = "e2e-subject-salt-0123456789abcdef"
	ledgerPipelineBlock = `
processors:
  consent:
    policy_file: {{.Policy}}
    ledger: consent_ledger
connectors:
  consent_router:
    forward: [logs/forward]
    quarantine: [logs/quarantine]
    ledger: consent_ledger
exporters:
  otlp_http/forward:
    endpoint: {{.Forward}}
    compression: none
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}
  quarantine:
    ledger: consent_ledger
service:
  extensions: [healthcheckv2, consent_ledger]
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Ports.metrics}}
  pipelines:
    logs/in:
      receivers: [genesys, twilio, segment, talkdesk]
      processors: [consent]
      exporters: [consent_router]
    logs/forward:
      receivers: [consent_router]
      exporters: [otlp_http/forward]
    logs/quarantine:
      receivers: [consent_router]
      exporters: [quarantine]
`
)

// ledgerConfig: all four receivers, the example policy, the router and the
// quarantine exporter writing to the ledger described by {{.Ledger}}.
const ledgerConfig = `
extensions:
` + healthExtension + `  consent_ledger:
{{.Ledger}}
    keys:
      - id: e2e
        key: ${env:E2E_LEDGER_KEY}
receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    consent_attributes:
      RecordingConsent: recording
    tenants:
      - organization_id: ` + localGenesysOrg + `
        api_keys: ["` + genesysKey + `"]
        open_messaging_secrets: ["` + genesysSecret + `"]
  twilio:
    endpoint: 127.0.0.1:{{.Ports.twilio}}
    public_url: http://127.0.0.1:{{.Ports.twilio}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants:
      - account_sid: ` + localTwilioAccount + `
        auth_tokens: ["` + twilioToken + `"]
      # A tenant the policy does not know: its events are quarantined.
      - account_sid: ` + twilioAccount + `
        auth_tokens: ["` + twilioOld + `"]
  segment:
    endpoint: 127.0.0.1:{{.Ports.segment}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants:
      - source_id: ` + localSegmentSource + `
        write_keys: ["` + segmentWriteKey + `"]
        shared_secrets: ["` + segmentShared + `"]
  talkdesk:
    endpoint: 127.0.0.1:{{.Ports.talkdesk}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    token_header: X-Consentry-Token
    tenants:
      - account_id: ` + localTalkdeskAcct + `
        header_tokens: ["` + talkdeskToken + `"]
` + ledgerPipelineBlock

var ledgerEnv = []string{"E2E_LEDGER_KEY=" + e2eLedgerKey, "E2E_SUBJECT_SALT=" + e2eSubjectSalt}

// ledgerBackend is where a test's ledger lives.
type ledgerBackend struct {
	name   string
	block  string // the consent_ledger storage section, indented
	dir    string // SQLite: the data directory
	dsn    string // PostgreSQL
	schema string
}

func sqliteBackend(t *testing.T) ledgerBackend {
	dir := t.TempDir()
	return ledgerBackend{name: "sqlite", dir: dir,
		block: fmt.Sprintf("    sqlite:\n      path: %s\n", filepath.Join(dir, "ledger.db"))}
}

func postgresBackend(t *testing.T) ledgerBackend {
	dsn, schema := ledgertest.Postgres(t)
	return ledgerBackend{name: "postgres", dsn: dsn, schema: schema,
		block: fmt.Sprintf("    backend: postgres\n    writer_id: e2e-writer\n    postgres:\n      dsn: %q\n      schema: %s\n", dsn, schema)}
}

func forEachLedgerBackend(t *testing.T, fn func(t *testing.T, b ledgerBackend)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteBackend(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresBackend(t)) })
}

// open opens the ledger the collector wrote (after it stopped).
func (b ledgerBackend) open(t *testing.T) *ledger.Ledger {
	t.Helper()
	ctx := context.Background()
	var st *sqlstore.Store
	var err error
	opts := ledger.Options{KEKs: []ledger.KEK{{ID: "e2e", Key: mustKey(t)}}}
	if b.name == "sqlite" {
		st, err = sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(b.dir, "ledger.db")})
	} else {
		st, err = postgres.Open(ctx, postgres.Config{DSN: b.dsn, Schema: b.schema})
		opts.WriterID = "e2e-verifier"
	}
	require.NoError(t, err)
	l, err := ledger.Open(ctx, st, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	return l
}

func mustKey(t *testing.T) []byte {
	k, err := ledger.ParseKey(e2eLedgerKey)
	require.NoError(t, err)
	return k
}

// allRecords lists every record's metadata.
func allRecords(t *testing.T, l *ledger.Ledger) []ledger.RecordMeta {
	t.Helper()
	var out []ledger.RecordMeta
	p := ledger.Page{Size: 500}
	for {
		page, err := l.List(context.Background(), ledger.Filter{}, p)
		require.NoError(t, err)
		out = append(out, page.Records...)
		if page.NextToken == "" {
			return out
		}
		p.Token = page.NextToken
	}
}

// sendAllVendors posts a realistic set of signed events of every vendor and
// returns how many events were accepted.
func sendAllVendors(t *testing.T, c *collector) {
	t.Helper()
	ok := func(what string, code int, out string) {
		t.Helper()
		require.Equal(t, http.StatusOK, code, "%s: %s", what, out)
	}
	// Genesys: EventBridge (phone numbers), Open Messaging (message text).
	body := withOrg(fixture(t, "genesys", "eventbridge_batch.json"), localGenesysOrg)
	code, _, out := post(t, c.url("genesys", "/genesys/eventbridge"), body, map[string]string{"X-API-Key": genesysKey})
	ok("genesys eventbridge", code, out)
	body = withOrg(fixture(t, "genesys", "notification_snapshot.json"), localGenesysOrg)
	code, _, out = post(t, c.url("genesys", "/genesys/notifications"), body, map[string]string{"X-API-Key": genesysKey})
	ok("genesys notification", code, out)
	for _, name := range []string{"openmessaging_inbound_text.json", "openmessaging_outbound_text.json"} {
		om := fixture(t, "genesys", name)
		code, _, out = post(t, c.url("genesys", "/genesys/openmessaging"), om, map[string]string{"X-Hub-Signature-256": hubSignature(genesysSecret, om)})
		ok("genesys "+name, code, out)
	}
	// Twilio: Event Streams, a voice status callback, a Conversations message.
	twilioBody := func(name string) []byte {
		return []byte(strings.ReplaceAll(string(fixture(t, "twilio", name)), twilioAccount, localTwilioAccount))
	}
	code, _, out = postTwilioEvents(t, c, twilioBody("eventstreams_batch.json"), twilioToken)
	ok("twilio eventstreams", code, out)
	for path, name := range map[string]string{
		"/twilio/voice/status":    "voice_status_inbound_completed.form",
		"/twilio/conversations":   "conversations_message_added.form",
		"/twilio/taskrouter":      "taskrouter_task_created.form",
		"/twilio/voice/recording": "voice_recording_completed.form",
	} {
		code, _, out = postTwilioForm(t, c, path, twilioBody(name), twilioToken)
		require.Contains(t, []int{http.StatusOK, http.StatusNoContent}, code, "twilio %s: %s", name, out)
	}
	// A message of a Twilio account that the policy does not know: fail closed.
	code, _, out = postTwilioForm(t, c, "/twilio/conversations", fixture(t, "twilio", "conversations_message_added.form"), twilioOld)
	ok("twilio conversations (unknown tenant)", code, out)
	// Segment: webhook destination and the tracking API.
	for _, name := range []string{"webhook_identify.json", "webhook_track.json"} {
		b := fixture(t, "segment", name)
		code, _, out = post(t, c.url("segment", "/segment/webhook"), b, map[string]string{"X-Signature": segmentSign(b)})
		ok("segment "+name, code, out)
	}
	tracking := bytes.ReplaceAll(fixture(t, "segment", "tracking_batch.json"), []byte("test-write-key-current"), []byte(segmentWriteKey))
	code, _, out = post(t, c.url("segment", "/v1/batch"), tracking,
		map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(segmentWriteKey+":"))})
	ok("segment tracking batch", code, out)
	// Talkdesk: HTTP Notifier automations.
	tok := map[string]string{"X-Consentry-Token": talkdeskToken}
	for trigger, name := range map[string]string{
		"inboundCallStarts": "webhook_inbound_call_starts.json",
		"inboundCallEnds":   "webhook_inbound_call_ends.json",
		"contactUpdated":    "webhook_contact_updated.json",
	} {
		b := []byte(strings.ReplaceAll(string(fixture(t, "talkdesk", name)), talkdeskAccount, localTalkdeskAcct))
		code, _, out = post(t, c.url("talkdesk", "/talkdesk/webhook/"+trigger), b, tok)
		ok("talkdesk "+name, code, out)
	}
}

// The needles: personal data in the events above, which must never be in
// the database in the clear.
var piiNeedles = []string{
	"+14155550123", "4155550123", // phone numbers (E.164 and national)
	"+12125550199", "2125550199",
	"jane.doe@example.com", "Jane.Doe@Example.COM", "Sam.Roe@Example.org", // e-mail addresses
	"change my delivery address", "I would like to change my booking", "I+would+like+to+change+my+booking", // message texts
}

func TestLedgerEndToEnd(t *testing.T) {
	forEachLedgerBackend(t, func(t *testing.T, b ledgerBackend) {
		fwd := newSink(t)
		policy, err := filepath.Abs("../config/policy.yaml")
		require.NoError(t, err)
		c := startCollector(t, ledgerConfig, map[string]any{"Forward": fwd.url, "Policy": policy, "Ledger": b.block}, ledgerEnv...)
		sendAllVendors(t, c)
		metrics := c.metrics(t)
		c.stop(t)

		l := b.open(t)
		recs := allRecords(t, l)
		t.Logf("%s: %d forwarded, %d quarantined", b.name, fwd.count(), len(recs))

		// Forwarded records carry their consent tags.
		require.NotZero(t, fwd.count(), "the example policy forwards some of these events")
		for _, r := range fwd.records() {
			assert.Equal(t, "forward", attrStr(r.Record, ccaas.AttrConsentDecision))
			assert.NotEmpty(t, attrStr(r.Record, ccaas.AttrConsentStatus))
			assert.NotEmpty(t, attrStr(r.Record, ccaas.AttrConsentPolicyHash))
		}
		// Quarantined ones are in the ledger, of every vendor, whole.
		vendors := map[string]int{}
		var found = map[string]bool{}
		for _, m := range recs {
			vendors[m.Vendor]++
			assert.NotEmpty(t, m.Reasons, "record %s has reasons", m.ID)
			sr, err := l.Get(context.Background(), m.ID)
			require.NoError(t, err)
			ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(sr.Payload)
			require.NoError(t, err)
			require.Equal(t, 1, ld.LogRecordCount())
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			assert.Equal(t, "quarantine", attrStr(lr, ccaas.AttrConsentDecision))
			assert.Equal(t, m.EventID, attrStr(lr, ccaas.AttrEventID))
			tenant, _ := ld.ResourceLogs().At(0).Resource().Attributes().Get(ccaas.AttrTenantID)
			assert.Equal(t, m.Tenant, tenant.AsString(), "the resource is stored with the record")
			plain := string(sr.Payload)
			for _, n := range piiNeedles {
				if strings.Contains(plain, n) {
					found[n] = true
				}
			}
		}
		for _, v := range []string{"genesys", "twilio", "segment", "talkdesk"} {
			assert.NotZero(t, vendors[v], "the example policy quarantines some %s events", v)
		}
		// Every event is in exactly one place: the router's counts match.
		assert.EqualValues(t, fwd.count(), metricSum(t, metrics, "consentry_router_records", `route="forward"`))
		assert.EqualValues(t, len(recs), metricSum(t, metrics, "consentry_router_records", `route="quarantine"`))
		assert.EqualValues(t, len(recs), metricSum(t, metrics, "consentry_quarantine_records", `duplicate="false"`))
		// The searches below mean something only for needles that were stored.
		var stored []string
		for _, n := range piiNeedles {
			if found[n] {
				stored = append(stored, n)
			}
		}
		require.NotEmpty(t, stored)
		t.Logf("personal data stored (encrypted) in the ledger: %q", stored)
		assert.True(t, found["I+would+like+to+change+my+booking"] || found["I would like to change my booking"], "a message text was quarantined")
		// The search works: the tenant id, plaintext metadata by design, is found.
		control := localTalkdeskAcct
		where := b.findInDB(t, append([]string{control}, stored...))
		require.Contains(t, where, control, "the database search must find plaintext metadata")
		delete(where, control)
		assert.Empty(t, where, "personal data found in the clear")

		rep, err := l.Verify(context.Background())
		require.NoError(t, err)
		require.True(t, rep.OK, "verify: %+v", rep.Problems)
		require.EqualValues(t, len(recs), rep.Records)

		// Alter one byte of one stored record: verify says which.
		target := recs[len(recs)/2]
		b.flipOneByte(t, l, target.ID)
		rep, err = l.Verify(context.Background())
		require.NoError(t, err)
		require.False(t, rep.OK, "an altered byte must be detected")
		var named bool
		for _, p := range rep.Problems {
			named = named || strings.Contains(fmt.Sprint(p), target.ID)
		}
		assert.True(t, named, "the problem names the altered record: %+v", rep.Problems)
		_, err = l.Get(context.Background(), target.ID)
		assert.Error(t, err, "an altered ciphertext does not decrypt")
	})
}

// findInDB searches everything the database holds (SQLite: every file in
// its directory, WAL included; PostgreSQL: every column of every row of
// every table) for each needle, ignoring case, and says where it was found.
func (b ledgerBackend) findInDB(t *testing.T, needles []string) map[string]string {
	t.Helper()
	found := map[string]string{}
	search := func(where string, data []byte) {
		data = bytes.ToLower(data)
		for _, n := range needles {
			if _, ok := found[n]; !ok && bytes.Contains(data, bytes.ToLower([]byte(n))) {
				found[n] = where
			}
		}
	}
	if b.name == "sqlite" {
		files, err := filepath.Glob(filepath.Join(b.dir, "*"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			search(filepath.Base(f), data)
		}
		return found
	}
	db, err := sql.Open("pgx", b.dsn)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, forEachValue(db, b.schema, func(where string, data []byte) {
		search(strings.TrimPrefix(where, b.schema+"."), data)
	}))
	return found
}

// flipOneByte changes one byte of a record's ciphertext in the database.
func (b ledgerBackend) flipOneByte(t *testing.T, l *ledger.Ledger, id string) {
	t.Helper()
	db := l.Store().WriteDB()
	var rid int64
	var ct []byte
	require.NoError(t, db.QueryRow(`SELECT p.rid, p.ciphertext FROM payloads p JOIN records r ON r.rid = p.rid WHERE r.id = $1`, id).Scan(&rid, &ct))
	ct[len(ct)/2] ^= 0x01
	_, err := db.Exec(`UPDATE payloads SET ciphertext = $1 WHERE rid = $2`, ct, rid)
	require.NoError(t, err)
}

// metricSum adds up the samples of a Prometheus metric whose labels contain
// match.
func metricSum(t *testing.T, metrics, name, match string) float64 {
	t.Helper()
	var sum float64
	var seen bool
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, match) {
			continue
		}
		f := strings.Fields(line)
		var v float64
		_, err := fmt.Sscan(f[len(f)-1], &v)
		require.NoError(t, err, line)
		sum += v
		seen = true
	}
	require.True(t, seen, "metric %s{%s} not found", name, match)
	return sum
}
