package configcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const base = `
connectors:
  consent_router:
    forward: [logs/forward]
    quarantine: [logs/quarantine]
exporters:
  quarantine:
    ledger: consent_ledger
  debug: {}
  otlp_http:
    endpoint: https://collector.example.org
service:
  pipelines:
    logs:
      receivers: [genesys]
      processors: [memory_limiter, consent]
      exporters: [consent_router]
    logs/forward:
      receivers: [consent_router]
      processors: [batch]
      exporters: [otlp_http]
    logs/quarantine:
      receivers: [consent_router]
      exporters: [quarantine]
`

func check(t *testing.T, doc string) error {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	return Pipelines(raw)
}

// TestConfigThatBreaksPromisesIsRefused: a batch processor or a sending
// queue before the quarantine exporter (a vendor's 2xx for an event a crash
// loses), and a quarantine pipeline that does not end in the quarantine
// exporter (quarantined records leaving the ledger), are refused, each
// with the setting to change.
func TestConfigThatBreaksPromisesIsRefused(t *testing.T) {
	if err := check(t, base); err != nil {
		t.Fatalf("the reference configuration (a batch processor on the forward path only): %v", err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"batch in the quarantine pipeline", "    logs/quarantine:\n      receivers: [consent_router]\n", "    logs/quarantine:\n      receivers: [consent_router]\n      processors: [batch]\n",
			"service::pipelines::logs/quarantine: the batch processor"},
		{"named batch before the router", "processors: [memory_limiter, consent]", "processors: [memory_limiter, batch/big, consent]",
			"service::pipelines::logs: the batch/big processor"},
		{"quarantine pipeline ending in debug", "      exporters: [quarantine]\n", "      exporters: [debug]\n",
			"does not end in the quarantine exporter alone (exporter debug in logs/quarantine)"},
		{"quarantine pipeline with a second exporter", "      exporters: [quarantine]\n", "      exporters: [quarantine, otlp_http]\n",
			"exporter otlp_http in logs/quarantine"},
		{"another quarantine route", "    quarantine: [logs/quarantine]", "    quarantine: [logs/quarantine, logs/forward]",
			"service::pipelines::logs/forward: the consent_router connector routes quarantined records to it"},
		{"consent processor exported beside the router", "      processors: [memory_limiter, consent]\n      exporters: [consent_router]\n", "      processors: [memory_limiter, consent]\n      exporters: [consent_router, debug]\n",
			"service::pipelines::logs: the consent processor's records are exported to debug beside or instead of a consent_router"},
		{"consent processor in a second pipeline without the router", "    logs/forward:\n", "    logs/other:\n      receivers: [genesys]\n      processors: [consent/b]\n      exporters: [otlp_http]\n    logs/forward:\n",
			"service::pipelines::logs/other: the consent/b processor's records are exported to otlp_http"},
		{"sending queue on the quarantine exporter", "    ledger: consent_ledger\n", "    ledger: consent_ledger\n    sending_queue:\n      storage: file_storage\n",
			"exporters::quarantine::sending_queue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(base, c.from, c.to, 1)
			if doc == base {
				t.Fatal("the case changes nothing")
			}
			err := check(t, doc)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	// Through a second connector, still only to the quarantine exporter.
	chained := strings.Replace(base, "    logs/quarantine:\n      receivers: [consent_router]\n      exporters: [quarantine]\n",
		"    logs/quarantine:\n      receivers: [consent_router]\n      exporters: [forward/q]\n    logs/q2:\n      receivers: [forward/q]\n      exporters: [quarantine]\n", 1)
	chained = strings.Replace(chained, "connectors:\n", "connectors:\n  forward/q: {}\n", 1)
	if err := check(t, chained); err != nil {
		t.Fatalf("quarantine through a forward connector: %v", err)
	}
	// A connector that also feeds a pipeline leaving the ledger leaks.
	leaky := strings.Replace(chained, "    logs/q2:\n", "    logs/x:\n      receivers: [forward/q]\n      exporters: [debug]\n    logs/q2:\n", 1)
	if err := check(t, leaky); err == nil || !strings.Contains(err.Error(), "exporter debug in logs/x") {
		t.Fatalf("a connector feeding a pipeline that leaves the ledger: %v", err)
	}
	// A consent processor set to pass its records on whole, explicitly, is
	// the operator's choice.
	passed := strings.Replace(base, "      exporters: [consent_router]\n", "      exporters: [consent_router, debug]\n", 1)
	passed = strings.Replace(passed, "exporters:\n  quarantine:", "processors:\n  consent:\n    unrouted: pass\nexporters:\n  quarantine:", 1)
	if err := check(t, passed); err != nil {
		t.Fatalf("unrouted: pass set explicitly: %v", err)
	}
	queueOff := strings.Replace(base, "    ledger: consent_ledger\n", "    ledger: consent_ledger\n    sending_queue:\n      enabled: false\n", 1)
	if err := check(t, queueOff); err != nil {
		t.Fatalf("a disabled sending queue: %v", err)
	}
}

// TestShippedConfigsPass: the configurations the repository ships keep the
// promises.
func TestShippedConfigsPass(t *testing.T) {
	files, _ := filepath.Glob("../../config/*.yaml")
	deployed, _ := filepath.Glob("../../deploy/*.yaml")
	files = append(files, deployed...)
	if len(files) == 0 {
		t.Fatal("no configurations found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := yaml.Unmarshal(b, &raw); err != nil {
			continue // not a collector configuration (policy.yaml)
		}
		if _, ok := raw["service"]; !ok {
			continue
		}
		if err := Pipelines(raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
