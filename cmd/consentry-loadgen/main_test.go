package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consentry/consentry/cmd/consentry-loadgen/loadgen"
)

var testEnv = map[string]string{
	"CONSENTRY_GENESYS_SECRET":        "main-test-genesys-key",
	"CONSENTRY_TWILIO_AUTH_TOKEN":     "main-test-twilio-token",
	"CONSENTRY_SEGMENT_SHARED_SECRET": "main-test-segment-secret",
	"CONSENTRY_TALKDESK_TOKEN":        "main-test-talkdesk-token",
}

func getenv(k string) string { return testEnv[k] }

func TestParseVendors(t *testing.T) {
	got, err := parseVendors("genesys, twilio=2.5,segment=0")
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"genesys": 1, "twilio": 2.5, "segment": 0}, got)
	for _, bad := range []string{"", "genesys=x", "genesys=-1", "genesys,genesys"} {
		_, err := parseVendors(bad)
		assert.Error(t, err, bad)
	}
}

func TestRunAgainstAServer(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-Twilio-Signature") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-rate", "0", "-n", "50", "-connections", "4", "-json",
		"-env-file", filepath.Join(t.TempDir(), "none.env"),
		"-genesys", srv.URL, "-twilio", srv.URL, "-segment", srv.URL, "-talkdesk", srv.URL}, getenv, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var res loadgen.Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &res), out.String())
	assert.EqualValues(t, 50, res.Sent)
	assert.EqualValues(t, 50, hits.Load())
	assert.EqualValues(t, 50, res.Statuses[200]+res.Statuses[204])
	for _, secret := range testEnv {
		assert.NotContains(t, out.String()+errOut.String(), secret)
	}

	out.Reset()
	code = run(context.Background(), []string{"-rate", "0", "-n", "5", "-vendors", "segment",
		"-env-file", filepath.Join(t.TempDir(), "none.env"), "-segment", srv.URL}, getenv, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "sent      5 events")
	assert.Contains(t, out.String(), "p99.9")
}

func TestUsageErrors(t *testing.T) {
	none := filepath.Join(t.TempDir(), "none.env")
	for name, args := range map[string][]string{
		"remote target":  {"-genesys", "http://192.0.2.1:7401", "-env-file", none},
		"unknown vendor": {"-vendors", "avaya", "-env-file", none},
		"stray argument": {"extra"},
		"no bound":       {"-duration", "0", "-env-file", none},
		"bad mix":        {"-forward", "1.5", "-env-file", none},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, getenv, &out, &errOut), name)
		assert.NotEmpty(t, errOut.String(), name)
	}
	var out, errOut bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, getenv, &out, &errOut))
	assert.Contains(t, errOut.String(), "-rate")

	// Missing secrets are named, never shown.
	errOut.Reset()
	assert.Equal(t, 2, run(context.Background(), []string{"-env-file", none}, func(string) string { return "" }, &out, &errOut))
	assert.Contains(t, errOut.String(), "CONSENTRY_GENESYS_SECRET")
}

func TestEnvFileIsRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "local.env")
	var lines []string
	for k, v := range testEnv {
		lines = append(lines, k+"="+v)
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-n", "3", "-rate", "0", "-env-file", path,
		"-genesys", srv.URL, "-twilio", srv.URL, "-segment", srv.URL, "-talkdesk", srv.URL},
		func(string) string { return "" }, &out, &errOut)
	assert.Equal(t, 0, code, errOut.String())
}
