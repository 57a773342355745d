package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMakeRunScript runs scripts/run-local.sh (what `make run` runs) as a
// new user would: it must generate the secrets into data/local.env (0600),
// say where each vendor posts, serve on the BRIEF.md ports, accept an event
// signed with the generated secret, and reuse the secrets on a second run.
func TestMakeRunScript(t *testing.T) {
	for _, port := range []int{7401, 7480, 7481, 13133, 8888} {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("port %d is busy; the local configuration needs it", port)
			}
			t.Skipf("port %d is busy (a local collector running?); skipping", port)
		} else {
			ln.Close()
		}
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	run := func() (stdout string, env map[string]string) {
		t.Helper()
		cmd := exec.Command("../scripts/run-local.sh")
		cmd.Env = append(minimalEnv(), "BINARY="+binary, "CONSENTRY_DATA_DIR="+dataDir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		cmd.Stderr = io.Discard
		require.NoError(t, cmd.Start())
		defer func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			_ = cmd.Wait()
		}()
		var banner strings.Builder
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			banner.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Stop with Ctrl-C") {
				break
			}
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get("http://127.0.0.1:13133/status")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			require.True(t, time.Now().Before(deadline), "collector did not become healthy; output:\n%s", banner.String())
			time.Sleep(100 * time.Millisecond)
		}
		env = readEnvFile(t, filepath.Join(dataDir, "local.env"))
		code, _, body := post(t, "http://127.0.0.1:7401/genesys/eventbridge",
			withOrg(fixture(t, "genesys", "eventbridge_customer_start.json"), env["CONSENTRY_GENESYS_ORG_ID"]),
			map[string]string{"X-API-Key": env["CONSENTRY_GENESYS_SECRET"]})
		assert.Equal(t, http.StatusOK, code, body)
		code, _, _ = post(t, "http://127.0.0.1:7401/genesys/eventbridge", fixture(t, "genesys", "eventbridge_customer_start.json"), map[string]string{"X-API-Key": "guess"})
		assert.Equal(t, http.StatusUnauthorized, code)
		// The auditor API answers the generated token, and only it.
		for token, want := range map[string]int{env["CONSENTRY_AUDIT_TOKEN"]: http.StatusOK, "guess": http.StatusUnauthorized} {
			req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:7480/v1/quarantine/records", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, want, resp.StatusCode)
		}
		// The console is on: its page is served beside the API.
		resp, err := http.Get("http://127.0.0.1:7480/console/")
		require.NoError(t, err)
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Contains(t, string(page), "Consentry")
		_, err = os.Stat(filepath.Join(dataDir, "ledger.db"))
		assert.NoError(t, err, "the ledger lives in the data directory")
		return banner.String(), env
	}

	out1, env1 := run()
	assert.Contains(t, out1, "http://127.0.0.1:7401/genesys/eventbridge")
	assert.Contains(t, out1, "http://127.0.0.1:7401/genesys/openmessaging")
	assert.Contains(t, out1, "Data directory:")
	assert.Contains(t, out1, "http://127.0.0.1:7480/console/", "make run says where the console is")
	assert.Contains(t, out1, "generated now: CONSENTRY_GENESYS_SECRET")
	for _, name := range []string{"CONSENTRY_GENESYS_SECRET", "CONSENTRY_TWILIO_AUTH_TOKEN", "CONSENTRY_SEGMENT_SHARED_SECRET",
		"CONSENTRY_SEGMENT_WRITE_KEY", "CONSENTRY_TALKDESK_TOKEN", "CONSENTRY_LEDGER_KEY", "CONSENTRY_SUBJECT_SALT", "CONSENTRY_AUDIT_TOKEN"} {
		assert.NotEmpty(t, env1[name], name)
		assert.NotContains(t, out1, env1[name], "the banner must not print secret values")
	}
	st, err := os.Stat(filepath.Join(dataDir, "local.env"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	out2, env2 := run()
	assert.NotContains(t, out2, "generated now")
	assert.Equal(t, env1, env2, "later runs reuse the generated secrets")
}

func minimalEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONSENTRY_") {
			env = append(env, kv)
		}
	}
	return env
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		env[k] = v
	}
	return env
}

func withOrg(body []byte, org string) []byte {
	return []byte(strings.ReplaceAll(string(body), genesysOrg, org))
}
