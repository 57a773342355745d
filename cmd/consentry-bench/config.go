package main

import (
	"bytes"
	"text/template"
)

// configData fills collectorConfig.
type configData struct {
	Ports      map[string]int
	Policy     string // absolute path of the consent policy
	Sink       string // forward sink base URL
	QSink      string // quarantine stand-in sink base URL (no ledger)
	Ledger     string // SQLite ledger path ("" = no ledger)
	LedgerKey  string // hex KEK
	Baseline   bool   // stock OTLP/HTTP receiver -> the same exporter
	SyncExport bool   // forward exporter without a queue: 2xx only once the sink has the event
	MaxWait    string // the quarantine exporter's admission.max_wait (set by renderConfig)
	// Postgres puts the ledger on PostgreSQL (DSN from the environment's
	// CONSENTRY_LEDGER_PG_DSN) in schema PGSchema instead of SQLite.
	Postgres bool
	PGSchema string
	// WriterID names the collector's hash chain ("": the default).
	WriterID string
	// TwilioPublicURL is the twilio receiver's public_url ("": its own
	// address); replicas behind one address share it.
	TwilioPublicURL string
}

// LedgerOn reports whether the collector has the consent ledger.
func (d configData) LedgerOn() bool { return d.Ledger != "" || d.Postgres }

// collectorConfig is the distribution's configuration per scenario. The
// receivers are set up as in config/local.yaml; secrets come from the
// environment the bench gives the process. The forward exporter is the same
// in every scenario and in the baseline.
var collectorConfig = template.Must(template.New("config").Option("missingkey=error").Parse(`
extensions:
  healthcheckv2:
    use_v2: true
    component_health:
      include_recoverable_errors: true
      recovery_duration: 30s
    http:
      endpoint: 127.0.0.1:{{.Ports.health}}
  pprof:
    endpoint: 127.0.0.1:{{.Ports.pprof}}
{{- if .LedgerOn}}
  consent_ledger:
{{- if .Postgres}}
    backend: postgres
    postgres:
      dsn: ${env:CONSENTRY_LEDGER_PG_DSN}
      schema: {{.PGSchema}}
{{- else}}
    sqlite:
      path: {{.Ledger}}
{{- end}}
{{- if .WriterID}}
    writer_id: {{.WriterID}}
{{- end}}
    keys:
      - id: bench
        key: ${env:CONSENTRY_LEDGER_KEY}
{{- end}}

receivers:
{{- if .Baseline}}
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{{.Ports.otlp}}
{{- else}}
  genesys:
    endpoint: 127.0.0.1:{{.Ports.genesys}}
    subject_salt: ${env:CONSENTRY_SUBJECT_SALT}
    api_key_header: X-API-Key
    consent_attributes:
      RecordingConsent: recording
      ConsentAnalytics: analytics
    tenants:
      - organization_id: ${env:CONSENTRY_GENESYS_ORG_ID}
        api_keys: ["${env:CONSENTRY_GENESYS_SECRET}"]
  twilio:
    endpoint: 127.0.0.1:{{.Ports.twilio}}
    public_url: {{if .TwilioPublicURL}}{{.TwilioPublicURL}}{{else}}http://127.0.0.1:{{.Ports.twilio}}{{end}}
    subject_salt: ${env:CONSENTRY_SUBJECT_SALT}
    consent_attributes:
      recording_consent: recording
      consent.analytics: analytics
    tenants:
      - account_sid: ${env:CONSENTRY_TWILIO_ACCOUNT_SID}
        auth_tokens: ["${env:CONSENTRY_TWILIO_AUTH_TOKEN}"]
  segment:
    endpoint: 127.0.0.1:{{.Ports.segment}}
    subject_salt: ${env:CONSENTRY_SUBJECT_SALT}
    batch_auth_header: X-Consentry-Token
    tenants:
      - source_id: local
        shared_secrets: ["${env:CONSENTRY_SEGMENT_SHARED_SECRET}"]
        batch_auth_secrets: ["${env:CONSENTRY_SEGMENT_SHARED_SECRET}"]
        write_keys: ["${env:CONSENTRY_SEGMENT_WRITE_KEY}"]
  talkdesk:
    endpoint: 127.0.0.1:{{.Ports.talkdesk}}
    subject_salt: ${env:CONSENTRY_SUBJECT_SALT}
    token_header: X-Consentry-Token
    consent_fields:
      RecordingConsent: recording
    tenants:
      - account_id: ${env:CONSENTRY_TALKDESK_ACCOUNT_ID}
        header_tokens: ["${env:CONSENTRY_TALKDESK_TOKEN}"]

processors:
  consent:
    policy_file: {{.Policy}}
{{- if .LedgerOn}}
    ledger: consent_ledger
{{- end}}

connectors:
  consent_router:
    forward: [logs/forward]
    quarantine: [logs/quarantine]
{{- end}}

exporters:
  otlp_http/forward:
    endpoint: {{.Sink}}
    compression: none
    retry_on_failure:
      enabled: false
{{- if .SyncExport}}
    sending_queue:
      enabled: false
{{- else}}
    sending_queue:
      enabled: true
      num_consumers: 4
      queue_size: 100000
      sizer: items
      block_on_overflow: true
      batch:
        flush_timeout: 20ms
        min_size: 1000
        max_size: 5000
{{- end}}
{{- if not .Baseline}}
{{- if .LedgerOn}}
  quarantine:
    ledger: consent_ledger
    admission:
      max_wait: {{.MaxWait}}
{{- else}}
  otlp_http/quarantine:
    endpoint: {{.QSink}}
    compression: none
    retry_on_failure:
      enabled: false
    sending_queue:
      enabled: false
{{- end}}
{{- end}}

service:
  extensions: [healthcheckv2, pprof{{if .LedgerOn}}, consent_ledger{{end}}]
  telemetry:
    logs:
      level: warn
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.Ports.metrics}}
  pipelines:
{{- if .Baseline}}
    logs:
      receivers: [otlp]
      exporters: [otlp_http/forward]
{{- else}}
    logs/in:
      receivers: [genesys, twilio, segment, talkdesk]
      processors: [consent]
      exporters: [consent_router]
    logs/forward:
      receivers: [consent_router]
      exporters: [otlp_http/forward]
    logs/quarantine:
      receivers: [consent_router]
      exporters: [{{if .LedgerOn}}quarantine{{else}}otlp_http/quarantine{{end}}]
{{- end}}
`))

func renderConfig(d configData) ([]byte, error) {
	d.MaxWait = overloadBound.String()
	var b bytes.Buffer
	if err := collectorConfig.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
