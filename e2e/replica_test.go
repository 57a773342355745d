package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/internal/ccaas"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/ledger/ledgertest"
	"github.com/consentry/consentry/internal/subject"
)

// replicaConfig is one of several collectors behind a load balancer,
// sharing one PostgreSQL ledger: the Genesys receiver, the example policy,
// the router, the quarantine exporter and the auditor API.
const replicaConfig = `
extensions:
` + healthExtension + `  consent_ledger:
    backend: postgres
    writer_id: {{.Writer}}
    postgres:
      dsn: {{.DSN}}
      schema: {{.Schema}}
    keys:
      - id: e2e
        key: ${env:E2E_LEDGER_KEY}
    api:
      http:
        endpoint: 127.0.0.1:{{.Ports.otlp}}
      auth:
        tokens:
          - {identity: staff, role: admin, tenants: ["*"], sha256: ` + "{{.StaffHash}}" + `}
receivers:
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ${env:E2E_SUBJECT_SALT}
    tenants:
      - organization_id: ` + localGenesysOrg + `
        api_keys: ["` + genesysKey + `"]
` + genesysLedgerPipelines

// genesysLedgerPipelines: the Genesys receiver's events through the example
// policy and the router, forwarded to {{.Forward}} or quarantined in the
// ledger; metrics on {{.Ports.metrics}}.
const genesysLedgerPipelines = `processors:
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
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Ports.metrics}}
  pipelines:
    logs/in:
      receivers: [genesys]
      processors: [consent]
      exporters: [consent_router]
    logs/forward:
      receivers: [consent_router]
      exporters: [otlp_http/forward]
    logs/quarantine:
      receivers: [consent_router]
      exporters: [quarantine]
`

// genesysCallStart is an EventBridge customer.start of a call from phone.
func genesysCallStart(id, conversation, phone string, at time.Time) []byte {
	return mustJSON(map[string]any{
		"version": "0", "id": id, "detail-type": "v2.detail.events.conversation.{id}.customer.start",
		"source": "aws.partner/genesys.com/cloud/" + localGenesysOrg + "/consentry", "account": "123456789012",
		"time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []any{},
		"detail": map[string]any{
			"topicName": "v2.detail.events.conversation." + conversation + ".customer.start", "version": "2",
			"eventBody": map[string]any{
				"conversationId": conversation, "participantId": "p-" + conversation, "sessionId": "s-" + conversation,
				"mediaType": "VOICE", "provider": "Edge", "eventTime": at.UnixMilli(), "direction": "INBOUND",
				"ani": "tel:" + phone, "dnis": "tel:+18005550100",
			},
		},
	})
}

// genesysTranscript is an EventBridge transcription event with one
// utterance: it names the conversation, not the caller.
func genesysTranscript(id, conversation, words string, at time.Time) []byte {
	return mustJSON(map[string]any{
		"version": "0", "id": id, "detail-type": "v2.conversations.{id}.transcription",
		"source": "aws.partner/genesys.com/cloud/" + localGenesysOrg + "/consentry", "account": "123456789012",
		"time": at.UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []any{},
		"detail": map[string]any{
			"topicName": "v2.conversations." + conversation + ".transcription", "version": "2",
			"eventBody": map[string]any{
				"eventTime": at.UTC().Format(time.RFC3339Nano), "organizationId": localGenesysOrg,
				"conversationId": conversation, "communicationId": "c-" + conversation,
				"transcripts": []any{map[string]any{
					"utteranceId": "u-" + id, "isFinal": true, "channel": "EXTERNAL",
					"alternatives": []any{map[string]any{"confidence": 0.97, "offsetMs": 100, "durationMs": 900, "transcript": words}},
				}},
			},
		},
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// balancer sends to replicas round robin, like a load balancer, and
// retries a failed attempt (connection refused, 503) on the next replica
// until one acknowledges with a 2xx or the deadline passes.
type balancer struct {
	urls     []string
	next     atomic.Int64
	client   *http.Client
	failures atomic.Int64
	mu       sync.Mutex
	odd      []string
}

func (b *balancer) send(body []byte, deadline time.Time) bool {
	for time.Now().Before(deadline) {
		url := b.urls[int(b.next.Add(1))%len(b.urls)]
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", genesysKey)
		resp, err := b.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
			if resp.StatusCode != http.StatusServiceUnavailable {
				b.mu.Lock()
				b.odd = append(b.odd, fmt.Sprintf("%s: status %d", url, resp.StatusCode))
				b.mu.Unlock()
			}
		}
		b.failures.Add(1)
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestReplicas runs three collectors sharing one PostgreSQL ledger behind
// a round-robin balancer. The events of each call are spread over the
// replicas: every record, forwarded or quarantined, carries its call's
// subject, whichever replica saw the call start. One replica is killed
// with SIGKILL mid-run: nothing acknowledged is lost. A consent withdrawal
// recorded through replica A's auditor API is honoured by replica C within
// the documented bound (1 s), though C had the grant cached. The shared
// ledger verifies.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("replica test skipped in -short mode")
	}
	dsn, schema := ledgertest.Postgres(t)
	fwd := newSink(t)
	policy, err := filepath.Abs("../config/policy.yaml")
	require.NoError(t, err)
	var cs []*collector
	for _, w := range []string{"replica-a", "replica-b", "replica-c"} {
		cs = append(cs, startCollector(t, replicaConfig, map[string]any{
			"Forward": fwd.url, "Policy": policy, "Writer": w, "DSN": fmt.Sprintf("%q", dsn), "Schema": schema,
			"StaffHash": hashToken(staffToken),
		}, ledgerEnv...))
	}
	var urls []string
	for _, c := range cs {
		urls = append(urls, c.url("genesys", "/genesys/eventbridge"))
	}
	lb := &balancer{urls: urls, client: &http.Client{Timeout: 10 * time.Second}}
	keyer, err := subject.NewKeyer([]byte(e2eSubjectSalt))
	require.NoError(t, err)

	// 1. Calls whose events are spread round robin; replica B dies mid-run.
	const calls, segments, workers = 30, 4, 6
	type call struct {
		conversation, phone string
		events              []string // EventBridge ids acknowledged
	}
	all := make([]*call, calls)
	for i := range all {
		all[i] = &call{conversation: fmt.Sprintf("8d1c9f4e-0000-4c6d-9e0f-%012d", i), phone: fmt.Sprintf("+14155550%03d", 100+i)}
	}
	var done atomic.Int64
	var gaveUp atomic.Int64
	deadline := time.Now().Add(2 * time.Minute)
	jobs := make(chan *call)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				at := time.Now()
				id := "start-" + c.conversation
				if !lb.send(genesysCallStart(id, c.conversation, c.phone, at), deadline) {
					gaveUp.Add(1)
					continue
				}
				c.events = append(c.events, id)
				for s := range segments {
					id := fmt.Sprintf("seg-%s-%d", c.conversation, s)
					if !lb.send(genesysTranscript(id, c.conversation, "words of segment "+fmt.Sprint(s), at.Add(time.Duration(s+1)*time.Second)), deadline) {
						gaveUp.Add(1)
						break
					}
					c.events = append(c.events, id)
				}
				done.Add(1)
			}
		}()
	}
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for done.Load() < calls/3 {
			time.Sleep(5 * time.Millisecond)
		}
		_ = cs[1].cmd.Process.Kill()
		<-cs[1].done
		cs[1].done <- nil // the cleanup's stop sees it exited
	}()
	for _, c := range all {
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	<-killed
	require.Zero(t, gaveUp.Load(), "every event was eventually acknowledged by a replica")
	lb.mu.Lock()
	require.Empty(t, lb.odd, "only 503s and refused connections while a replica dies")
	lb.mu.Unlock()
	require.NotZero(t, lb.failures.Load(), "the kill happened under load")

	// Every acknowledged event is at the sink or in the ledger, and every
	// record of a call carries the call's subject.
	l := openReplicaLedger(t, dsn, schema)
	bySubjectOf := map[string]string{} // conversation -> subject key
	for _, c := range all {
		bySubjectOf[c.conversation] = keyer.Key(subject.IDTypePhone, c.phone)
	}
	found := map[string]bool{}
	check := func(where, eventID, conversation, subj string) {
		envelope, _, _ := strings.Cut(eventID, ":")
		found[envelope] = true
		want, ok := bySubjectOf[conversation]
		if !assert.True(t, ok, "%s: a record of an unknown conversation %q", where, conversation) {
			return
		}
		assert.Equal(t, want, subj, "%s: record %s of call %s", where, eventID, conversation)
	}
	for _, r := range fwd.records() {
		check("forwarded", attrStr(r.Record, ccaas.AttrEventID), attrStr(r.Record, ccaas.AttrInteractionID), attrStr(r.Record, ccaas.AttrSubjectKey))
	}
	var quarantined int
	for _, m := range allRecords(t, l) {
		quarantined++
		check("quarantined", m.EventID, m.InteractionID, m.SubjectKey)
	}
	var acked int
	for _, c := range all {
		for _, id := range c.events {
			acked++
			assert.True(t, found[id], "acknowledged event %s is neither at the sink nor in the ledger", id)
		}
	}
	t.Logf("%d events acknowledged, %d attempts failed while replica B died, %d forwarded records, %d quarantined",
		acked, lb.failures.Load(), len(fwd.records()), quarantined)
	require.Equal(t, calls*(1+segments), acked)
	require.NotZero(t, quarantined, "the example policy quarantines transcripts of an all-party state without consent")

	// 2. A grant and then a withdrawal recorded through replica A reach
	// replica C within the documented bound.
	a, c := cs[0], cs[2]
	caller := all[0]
	subj := bySubjectOf[caller.conversation]
	purposes := []string{"collect.recording", "collect.transcription", "analytics.reporting", "functional.service.improve"}
	consent := func(status string, at time.Time) {
		t.Helper()
		code, out := rest(t, http.MethodPost, a.url("otlp", "/v1/consents"), staffToken, map[string]any{
			"subject": map[string]string{"tenant": "genesys/" + localGenesysOrg, "subject_key": subj},
			"status":  status, "purposes": purposes, "at": at.UTC().Format(time.RFC3339Nano), "reason": "e2e " + status,
		}, nil)
		require.Equal(t, http.StatusOK, code, out)
	}
	sendTo := func(col *collector, n int) string {
		t.Helper()
		id := fmt.Sprintf("after-%s-%d-%d", caller.conversation, time.Now().UnixNano(), n)
		code, _, out := post(t, col.url("genesys", "/genesys/eventbridge"), genesysTranscript(id, caller.conversation, "after", time.Now()), map[string]string{"X-API-Key": genesysKey})
		require.Equal(t, http.StatusOK, code, out)
		return id
	}
	// decisionOf waits for the decision on the transcript id; for a
	// quarantined one it also returns its ledger metadata.
	decisionOf := func(id string) (string, ledger.RecordMeta) {
		t.Helper()
		var d string
		var meta ledger.RecordMeta
		waitFor(t, "the decision on "+id, func() bool {
			for _, r := range fwd.records() {
				if strings.HasPrefix(attrStr(r.Record, ccaas.AttrEventID), id) {
					d = ccaas.DecisionForward
					return true
				}
			}
			p, err := l.List(context.Background(), ledger.Filter{InteractionID: caller.conversation}, ledger.Page{Size: 1000})
			require.NoError(t, err)
			for _, m := range p.Records {
				if strings.HasPrefix(m.EventID, id) {
					d, meta = ccaas.DecisionQuarantine, m
					return true
				}
			}
			return false
		})
		return d, meta
	}
	// honoured sends the call's transcripts to C until C decides want,
	// and returns how long after since that was. A consent change
	// recorded through A reaches C by notification, after A has answered:
	// until it arrives, C decides with what it cached (a grant, or "no
	// records" from the calls above). Every transcript is joined to the
	// caller's subject meanwhile: only the consent is stale.
	sent := 0
	honoured := func(want, what string, since time.Time) time.Duration {
		t.Helper()
		first := sent
		for {
			sent++
			d, meta := decisionOf(sendTo(c, sent))
			if d == want {
				took := time.Since(since)
				t.Logf("replica C honoured the %s recorded through replica A after %v (%d transcript(s))", what, took, sent-first)
				return took
			}
			if d == ccaas.DecisionQuarantine {
				require.Equal(t, subj, meta.SubjectKey, "a transcript quarantined before the %s arrived is still joined to its subject (reasons %v)", what, meta.Reasons)
			}
			require.Less(t, time.Since(since), 10*time.Second, "C still decides %s 10 s after the %s (its cache.ttl is 30 s, cache.negative_ttl 10 s: no notification arrived)", d, what)
		}
	}
	consent("granted", time.Now().Add(-time.Hour))
	took := honoured(ccaas.DecisionForward, "grant", time.Now())
	assert.LessOrEqual(t, took, time.Second, "the documented bound: a consent change reaches every replica within 1 s")
	sent++
	d, _ := decisionOf(sendTo(c, sent))
	require.Equal(t, ccaas.DecisionForward, d, "C keeps forwarding with the grant, from its cache")
	consent("withdrawn", time.Now())
	took = honoured(ccaas.DecisionQuarantine, "withdrawal", time.Now())
	assert.LessOrEqual(t, took, time.Second, "the documented bound: a withdrawal reaches every replica within 1 s")

	// 3. The shared ledger verifies, through any replica.
	var ver struct {
		OK      bool `json:"ok"`
		Writers []struct {
			WriterID string `json:"writer_id"`
		} `json:"writers"`
	}
	code, out := rest(t, http.MethodPost, c.url("otlp", "/v1/ledger:verify"), staffToken, map[string]any{"checkpoint": true}, &ver)
	require.Equal(t, http.StatusOK, code, out)
	assert.True(t, ver.OK, out)
	assert.Len(t, ver.Writers, 3, "one chain per replica, the killed one's included: %s", out)
	rep, err := l.Verify(context.Background())
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep.Problems)
}

// openReplicaLedger opens the shared ledger as a fourth writer, to read it.
func openReplicaLedger(t *testing.T, dsn, schema string) *ledger.Ledger {
	b := ledgerBackend{name: "postgres", dsn: dsn, schema: schema}
	return b.open(t)
}
