// Package tenanttest helps the tests of the components that read tenants
// files.
package tenanttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ExampleFile is config/tenants.yaml, from a component's directory.
const ExampleFile = "../../config/tenants.yaml"

// ExampleIDs are the tenants of ExampleFile, by vendor.
var ExampleIDs = map[string]string{
	"genesys":  "7a1f0c52-9d3e-4b8a-a6f1-2c9e8d7b6a50",
	"twilio":   "AC7d2e9f4a1b3c5d7e9f0a2b4c6d8e0f1a",
	"segment":  "src_example_clinic_web",
	"talkdesk": "5f0e4d3c2b1a09f8e7d6c5b4",
}

// SetExampleEnv sets the secrets ExampleFile references, for the test.
func SetExampleEnv(t testing.TB) {
	for k, v := range map[string]string{
		"EXAMPLE_UTILITY_SUBJECT_SALT":     "example-utility-subject-salt-0123",
		"EXAMPLE_UTILITY_GENESYS_API_KEY":  "example-utility-genesys-key-0123",
		"EXAMPLE_CLINIC_TWILIO_TOKEN":      "example-clinic-twilio-token-0123",
		"EXAMPLE_CLINIC_SEGMENT_WRITE_KEY": "example-clinic-segment-key-0123",
		"EXAMPLE_OUTFITTER_TALKDESK_TOKEN": "example-outfitter-talkdesk-0123",
	} {
		t.Setenv(k, v)
	}
}

// WriteMany writes a tenants file of n tenants of vendor into dir and
// returns its path: tenant i has the id ID(vendor, i), the credential
// credKey: [${env:TENANTTEST_SECRET_<i>}] (set for the test to
// Secret(i)), and a notice naming the vendor's processor.
func WriteMany(tb testing.TB, dir, vendor, credKey string, n int) string {
	var b strings.Builder
	b.WriteString("tenants:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - vendor: %s\n    id: %s\n    credentials: {%s: [\"${env:TENANTTEST_SECRET_%d}\"]}\n    notice: {id: notice-%d, processors: [%s]}\n",
			vendor, ID(vendor, i), credKey, i, i, vendor)
		tb.Setenv(fmt.Sprintf("TENANTTEST_SECRET_%d", i), Secret(i))
	}
	path := filepath.Join(dir, "tenants.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// ID is the id of WriteMany's tenant i.
func ID(vendor string, i int) string { return fmt.Sprintf("%s-tenant-%06d", vendor, i) }

// Secret is the credential of WriteMany's tenant i.
func Secret(i int) string { return fmt.Sprintf("tenanttest-secret-%06d", i) }

// Misspelt writes a tenants file whose one tenant of vendor holds a secret
// under a misspelt credential key, key+"_typo", which a receiver must
// refuse; it returns the file and the secret, which no error may quote.
func Misspelt(tb testing.TB, vendor, key string) (path, secret string) {
	secret = "a-secret-under-a-misspelt-key-0123"
	path = filepath.Join(tb.TempDir(), "tenants.yaml")
	content := fmt.Sprintf("tenants: [{vendor: %s, id: x, credentials: {%s_typo: [%s]}}]\n", vendor, key, secret)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path, secret
}
