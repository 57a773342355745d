// Package e2e drives the built otelcol-consentry binary: it starts the
// collector on free loopback ports with a test configuration, sends vendor
// webhooks, and asserts on status codes and on what reaches an OTLP/HTTP
// sink that the test itself runs.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.uber.org/goleak"
)

var binary string

// healthExtension is the health check every test configuration starts
// with (under extensions): healthcheckv2 driven by component status, on
// the port the harness polls.
const healthExtension = `  healthcheckv2:
    use_v2: true
    component_health:
      include_recoverable_errors: true
      recovery_duration: 30s
    http:
      endpoint: 127.0.0.1:{{.Ports.health}}
`

func TestMain(m *testing.M) {
	binary = os.Getenv("CONSENTRY_BINARY")
	if binary == "" {
		// Build as a user would; make skips the build when nothing changed.
		cmd := exec.Command("make", "-C", "..", "build")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building the distribution failed:", err)
			os.Exit(1)
		}
		abs, _ := filepath.Abs("../_build/otelcol-consentry")
		binary = abs
	}
	if _, err := os.Stat(binary); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: no collector binary:", err)
		os.Exit(1)
	}
	// No test may leave a goroutine running (a sender, a sink, a scraper).
	goleak.VerifyTestMain(m)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// sink is an OTLP/HTTP logs endpoint that records what it receives and can
// be told to refuse with a status code.
type sink struct {
	srv     *http.Server
	url     string
	mu      sync.Mutex
	logs    []plog.Logs
	refuse  atomic.Int32 // status to answer with; 0 = accept
	reqs    atomic.Int64
	arrived chan struct{}
}

func newSink(t testing.TB) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{url: "http://" + ln.Addr().String(), arrived: make(chan struct{}, 1024)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/logs", func(w http.ResponseWriter, r *http.Request) {
		s.reqs.Add(1)
		if code := s.refuse.Load(); code != 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "refused by test", int(code))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.logs = append(s.logs, req.Logs())
		s.mu.Unlock()
		select {
		case s.arrived <- struct{}{}:
		default:
		}
		out, _ := plogotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// records returns every log record received so far, flattened, with its
// resource attributes.
type sinkRecord struct {
	Resource map[string]any
	Record   plog.LogRecord
}

func (s *sink) records() []sinkRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sinkRecord
	for _, ld := range s.logs {
		for _, rl := range ld.ResourceLogs().All() {
			res := rl.Resource().Attributes().AsRaw()
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, sinkRecord{Resource: res, Record: lr})
				}
			}
		}
	}
	return out
}

func (s *sink) count() int { return len(s.records()) }

// collector is a running otelcol-consentry process.
type collector struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	ports  map[string]int
	done   chan error
	health string
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// startCollector renders the config template with free ports, the sink's
// URL and the given values, starts the binary and waits until it is healthy.
func startCollector(t *testing.T, configTemplate string, vars map[string]any, env ...string) *collector {
	t.Helper()
	// vars["Ports"], when given, keeps the ports of an earlier start (a restart).
	ports, _ := vars["Ports"].(map[string]int)
	if ports == nil {
		ports = map[string]int{}
		for _, name := range []string{"genesys", "twilio", "segment", "talkdesk", "otlp", "health", "metrics"} {
			ports[name] = freePort(t)
		}
	}
	data := map[string]any{}
	for k, v := range vars {
		data[k] = v
	}
	data["Ports"] = ports
	path := renderConfig(t, configTemplate, data)
	dir := filepath.Dir(path)
	if rendered, err := os.ReadFile(path); err == nil {
		searchDataAtCleanup(t, string(rendered))
	}
	lb := &lockedBuffer{}
	args := []string{"--config", path}
	if !strings.Contains(configTemplate, "telemetry:") {
		// The collector's own metrics would listen on the fixed port 8888,
		// which concurrent collectors (other tests, other checkouts) share.
		quiet := filepath.Join(dir, "no-metrics.yaml")
		if err := os.WriteFile(quiet, []byte("service:\n  telemetry:\n    metrics:\n      level: none\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", quiet)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lb, lb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &collector{cmd: cmd, logs: &lb.Buffer, ports: ports, done: make(chan error, 1),
		health: fmt.Sprintf("http://127.0.0.1:%d/status", ports["health"])}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			lb.mu.Lock()
			t.Logf("collector output:\n%s", lb.String())
			lb.mu.Unlock()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-c.done:
			lb.mu.Lock()
			out := lb.String()
			lb.mu.Unlock() // the cleanup takes it again
			t.Fatalf("collector exited during start (%v):\n%s", err, out)
		default:
		}
		if resp, err := http.Get(c.health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("collector did not become healthy within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// renderConfig renders a configuration template with vars (Ports
// included) into a file of its own and returns the file's path.
func renderConfig(t *testing.T, configTemplate string, vars map[string]any) string {
	t.Helper()
	var cfg bytes.Buffer
	if err := template.Must(template.New("cfg").Option("missingkey=error").Parse(configTemplate)).Execute(&cfg, vars); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, cfg.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (c *collector) url(receiver, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.ports[receiver], path)
}

func (c *collector) stop(t *testing.T) {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Error("collector did not stop within 20s of SIGINT")
	}
}

// post sends a JSON body with headers and returns status, headers and body.
func post(t *testing.T, url string, body []byte, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func attrStr(lr plog.LogRecord, key string) string {
	v, ok := lr.Attributes().Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

func contains(haystack, needle string) bool { return strings.Contains(haystack, needle) }

// fixture reads a vendor receiver's test fixture.
func fixture(t *testing.T, vendor, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "receiver", vendor+"receiver", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// metrics scrapes the collector's Prometheus endpoint.
func (c *collector) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", c.ports["metrics"]))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)
