package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/consentry/consentry/connector/consentrouterconnector"
	"github.com/consentry/consentry/exporter/quarantineexporter"
	"github.com/consentry/consentry/internal/policy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestReasonsCoverEveryCode: every reason code a record can carry has a
// plain-language explanation and a rule, with the policy's blocking flag,
// and the table names no code that nothing writes.
func TestReasonsCoverEveryCode(t *testing.T) {
	known := map[string]bool{}
	for _, r := range policy.Reasons {
		code := string(r.Code)
		known[code] = true
		x, ok := Reasons[code]
		if !assert.True(t, ok, "policy reason %q has no entry in the console's reason table", code) {
			continue
		}
		assert.Equal(t, r.Blocking, x.Blocking, "%s: blocking", code)
		assert.Equal(t, r.Code.Blocking(), x.Blocking, "%s: blocking", code)
	}
	for _, code := range []string{consentrouterconnector.ReasonInvalidDecision, quarantineexporter.ReasonMissingIdentity, quarantineexporter.ReasonNoReasons} {
		known[code] = true
		x, ok := Reasons[code]
		if assert.True(t, ok, "%q has no entry in the console's reason table", code) {
			assert.True(t, x.Blocking, "%s: a record quarantined by the pipeline itself is held", code)
		}
	}
	for code, x := range Reasons {
		assert.True(t, known[code], "%q is in the console's table but no component writes it", code)
		assert.NotEmpty(t, x.Plain, code)
		assert.NotEmpty(t, x.Rule, code)
		assert.True(t, strings.HasSuffix(x.Plain, "."), "%s: a sentence", code)
	}
	// Every code documented in docs/policy.md is covered too.
	doc, err := os.ReadFile("../../../../docs/policy.md")
	require.NoError(t, err)
	rows := regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\| (yes|) \\|").FindAllStringSubmatch(string(doc), -1)
	require.NotEmpty(t, rows)
	for _, m := range rows {
		if x, ok := Reasons[m[1]]; assert.True(t, ok, "docs/policy.md documents %q", m[1]) {
			assert.Equal(t, m[2] == "yes", x.Blocking, "%s: blocking in docs/policy.md", m[1])
		}
	}
}

func TestMount(t *testing.T) {
	apiCalls := 0
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiCalls++
		w.WriteHeader(http.StatusTeapot)
	})
	srv := httptest.NewServer(Mount(api))
	defer srv.Close()
	get := func(method, path string) (*http.Response, string) {
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}

	for path, ct := range map[string]string{"/console/": "text/html", "/console/index.html": "text/html",
		"/console/app.js": "text/javascript", "/console/app.css": "text/css", "/console/reasons.json": "application/json"} {
		resp, body := get(http.MethodGet, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), ct), "%s: %s", path, resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'", path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		assert.NotEmpty(t, body)
	}
	_, body := get(http.MethodGet, "/console/reasons.json")
	var table map[string]Explanation
	require.NoError(t, json.Unmarshal([]byte(body), &table))
	assert.Equal(t, Reasons, table)

	// Nothing but the page loads from elsewhere: no remote script, style or font.
	for _, f := range []string{"/console/", "/console/app.js", "/console/app.css"} {
		_, body := get(http.MethodGet, f)
		assert.NotRegexp(t, `(?i)(src|href)\s*=\s*["']?(https?:)?//`, body, f)
		assert.NotContains(t, body, "@import", f)
		assert.NotContains(t, body, "<script>", f, "no inline script (the CSP forbids it)")
	}
	// The token lives in sessionStorage only.
	_, js := get(http.MethodGet, "/console/app.js")
	assert.NotContains(t, js, "localStorage")
	assert.NotContains(t, js, "document.cookie")
	assert.NotContains(t, js, "innerHTML", "text is set as text, never parsed as HTML")

	resp, _ := get(http.MethodGet, "/console")
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "/console/", resp.Header.Get("Location"))
	resp, _ = get(http.MethodGet, "/console/nothing.js")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(http.MethodPost, "/console/")
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, body = get(http.MethodHead, "/console/app.js")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
	assert.Zero(t, apiCalls, "console paths never reach the API")

	// Everything else is the API's.
	for _, p := range []string{"/v1/quarantine/records", "/openapi.json", "/consoles", "/"} {
		resp, _ := get(http.MethodGet, p)
		assert.Equal(t, http.StatusTeapot, resp.StatusCode, p)
	}
	assert.Equal(t, 4, apiCalls)
}
