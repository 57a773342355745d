package decoders

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/consentry/consentry/internal/ccaas"
)

const salt = "decoders-test-subject-salt-0123"

func TestEveryVendor(t *testing.T) {
	assert.Equal(t, []string{ccaas.VendorGenesys, ccaas.VendorSegment, ccaas.VendorTalkdesk, ccaas.VendorTwilio}, Vendors())
	for _, v := range Vendors() {
		d, err := New(v, nil, salt)
		require.NoError(t, err, v)
		assert.Contains(t, d.Routes(), DefaultRoute(v), v)
	}
	_, err := New("acme", nil, salt)
	require.ErrorContains(t, err, `no decoder for vendor "acme"`)
}

// TestSectionApplies: the receiver's configuration shapes the records (a
// consent attribute mapping here), and a salt the receiver would refuse is
// refused.
func TestSectionApplies(t *testing.T) {
	body, err := os.ReadFile("../../receiver/genesysreceiver/testdata/fixtures/eventbridge_batch.json")
	require.NoError(t, err)
	section := confmap.NewFromStringMap(map[string]any{"consent_attributes": map[string]any{"RecordingConsent": "recording"}})
	d, err := New(ccaas.VendorGenesys, section, salt)
	require.NoError(t, err)
	ld, err := d.Decode("eventbridge", body, "")
	require.NoError(t, err)
	found := false
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				_, ok := lr.Attributes().Get(ccaas.AttrConsentSignalPrefix + "recording")
				found = found || ok
			}
		}
	}
	assert.True(t, found, "the mapped participant attribute became a consent signal")

	_, err = New(ccaas.VendorGenesys, confmap.NewFromStringMap(map[string]any{"subject_salt": "short"}), "")
	require.Error(t, err)
	_, err = New(ccaas.VendorGenesys, confmap.NewFromStringMap(map[string]any{"no_such_setting": 1}), salt)
	require.ErrorContains(t, err, "receivers::genesys")
}
