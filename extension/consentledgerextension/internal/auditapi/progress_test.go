package auditapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestVerifyOutlivesWriteTimeout: a verification longer than the REST
// server's write timeout completes: streamed as NDJSON progress lines then
// the result (Accept: application/x-ndjson), or as the plain answer.
func TestVerifyOutlivesWriteTimeout(t *testing.T) {
	e := newEnvWith(t, backends[0], func(o *Options) {
		o.ProgressEvery = 50 * time.Millisecond
		o.Auth = testAuth()
		o.Auth.Tokens = append(o.Auth.Tokens, tenantAuth().Tokens...)
	})
	appendRecords(t, e.l, "t1", "s-1", 3)
	// Every page the verification checks takes 150 ms: at least 4 pages
	// (chain, records, consent, access log) against a 300 ms timeout.
	e.svc.verifyPause = func() { time.Sleep(150 * time.Millisecond) }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := e.svc.HTTPHandler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	post := func(token, accept string) (*http.Response, []string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+verifyPath, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+token)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("verify (%s): %v", accept, err)
		}
		defer resp.Body.Close()
		var lines []string
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("verify (%s): reading the answer: %v", accept, err)
		}
		return resp, lines
	}

	start := time.Now()
	resp, lines := post(roleTokens["auditor"], "application/x-ndjson")
	if took := time.Since(start); took < srv.Config.WriteTimeout {
		t.Fatalf("the verification took %s, not longer than the write timeout: the test shows nothing", took)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" || len(lines) < 2 {
		t.Fatalf("stream: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), lines)
	}
	var sawCounts bool
	for _, l := range lines[:len(lines)-1] {
		var p struct {
			Progress *struct {
				Phase   string `json:"phase"`
				Checked int64  `json:"checked"`
				Elapsed string `json:"elapsed"`
			} `json:"progress"`
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil || p.Progress == nil || p.Progress.Elapsed == "" {
			t.Fatalf("progress line %q: %v", l, err)
		}
		sawCounts = sawCounts || p.Progress.Checked > 0 && (p.Progress.Phase == "chain" || p.Progress.Phase == "rows")
	}
	if !sawCounts {
		t.Errorf("no progress line says how far it came: %q", lines)
	}
	var last struct {
		Result *struct {
			OK bool `json:"ok"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Result == nil || !last.Result.OK {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}

	// The plain answer too.
	resp, lines = post(roleTokens["investigator"], "")
	if resp.StatusCode != http.StatusOK || len(lines) != 1 || !strings.Contains(lines[0], `"ok":true`) {
		t.Fatalf("plain verify: %d %q", resp.StatusCode, lines)
	}
	// A caller limited to some tenants sees the phase, not the ledger's size.
	resp, lines = post(tenantToken("auditor", "acme"), "application/x-ndjson")
	if resp.StatusCode != http.StatusOK || len(lines) < 2 || strings.Contains(strings.Join(lines[:len(lines)-1], ""), "checked") {
		t.Fatalf("limited caller's stream: %d %q", resp.StatusCode, lines)
	}
	// Refused before any progress: the usual answer.
	e.svc.verifyPause = nil
	if resp, lines = post("not-a-token", "application/x-ndjson"); resp.StatusCode != http.StatusUnauthorized || len(lines) != 1 || !strings.Contains(lines[0], `"code":16`) {
		t.Fatalf("unauthenticated: %d %q", resp.StatusCode, lines)
	}
}

// TestVerifyStreamQuick: a verification done before the first progress
// line is still NDJSON, its one line the result.
func TestVerifyStreamQuick(t *testing.T) {
	r := newRESTEnv(t, Options{DenialWindow: time.Hour, ProgressEvery: time.Hour})
	req, _ := http.NewRequest(http.MethodPost, r.url+verifyPath, strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+roleTokens["auditor"])
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lines []string
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" || len(lines) != 1 || !strings.HasPrefix(lines[0], `{"result":{"ok":true`) {
		t.Fatalf("%d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), lines)
	}
}

// TestDeadlineWriterOutlivesWriteTimeout: an answer written in parts (an
// evidence export, a CSV export) through deadlineWriter completes though
// it takes longer than the server's write timeout; the same answer
// written directly is cut off (the control).
func TestDeadlineWriterOutlivesWriteTimeout(t *testing.T) {
	serve := func(wrap bool) (int, error) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			out := w
			if wrap {
				out = newDeadlineWriter(w)
			}
			for range 4 {
				time.Sleep(150 * time.Millisecond)
				_, _ = out.Write([]byte(strings.Repeat("x", 64<<10) + "\n"))
				_ = http.NewResponseController(out).Flush()
			}
		}))
		srv.Config.WriteTimeout = 300 * time.Millisecond
		srv.Start()
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n := 0
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			n++
		}
		return n, sc.Err()
	}
	if n, err := serve(true); err != nil || n != 4 {
		t.Fatalf("through deadlineWriter: %d lines, %v; want all 4", n, err)
	}
	if n, err := serve(false); err == nil && n == 4 {
		t.Fatal("written directly, the answer outlived the write timeout too: the test shows nothing")
	}
}
