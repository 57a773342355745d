package tcf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/iab-tcf-vectors.json holds TC strings written by IAB Tech Lab's
// reference encoder @iabtechlabtcf/core and the fields it decodes from
// them (scripts/iab-vectors/generate.js; internal/gpp's
// TestIABVectorsUpToDate checks the file is what the script writes).

type iabTCFVector struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	TCString    string `json:"tc_string"`
	Fields      struct {
		Version               int    `json:"version"`
		Created               string `json:"created"`
		LastUpdated           string `json:"last_updated"`
		CMPID                 int    `json:"cmp_id"`
		CMPVersion            int    `json:"cmp_version"`
		ConsentScreen         int    `json:"consent_screen"`
		ConsentLanguage       string `json:"consent_language"`
		VendorListVersion     int    `json:"vendor_list_version"`
		PolicyVersion         int    `json:"policy_version"`
		IsServiceSpecific     bool   `json:"is_service_specific"`
		UseNonStandardTexts   bool   `json:"use_non_standard_texts"`
		PurposeOneTreatment   bool   `json:"purpose_one_treatment"`
		PublisherCountryCode  string `json:"publisher_country_code"`
		PurposeConsents       []int  `json:"purpose_consents"`
		PurposeLI             []int  `json:"purpose_legitimate_interests"`
		SpecialFeatureOptins  []int  `json:"special_feature_optins"`
		VendorConsents        []int  `json:"vendor_consents"`
		VendorLI              []int  `json:"vendor_legitimate_interests"`
		PublisherRestrictions []struct {
			Purpose int   `json:"purpose"`
			Type    int   `json:"type"`
			Vendors []int `json:"vendors"`
		} `json:"publisher_restrictions"`
		VendorsDisclosed []int `json:"vendors_disclosed"`
	} `json:"fields"`
}

func loadIABTCFVectors(t *testing.T) []iabTCFVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "iab-tcf-vectors.json"))
	require.NoError(t, err)
	var f struct {
		Vectors []iabTCFVector `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	require.NotEmpty(t, f.Vectors)
	return f.Vectors
}

func bitsOf(mask uint64, width int) []int {
	out := []int{}
	for i := 1; i <= width; i++ {
		if bitOf(mask, i, width) {
			out = append(out, i)
		}
	}
	return out
}

func TestIABReferenceVectors(t *testing.T) {
	for _, v := range loadIABTCFVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			c, err := Decode(v.TCString)
			require.NoError(t, err, v.Description)
			want := v.Fields
			assert.Equal(t, want.Version, c.Version)
			assert.Equal(t, want.Created, c.Created.Format("2006-01-02T15:04:05.000Z"))
			assert.Equal(t, want.LastUpdated, c.LastUpdated.Format("2006-01-02T15:04:05.000Z"))
			assert.Equal(t, time.UTC, c.Created.Location())
			assert.Equal(t, want.CMPID, c.CMPID)
			assert.Equal(t, want.CMPVersion, c.CMPVersion)
			assert.Equal(t, want.ConsentScreen, c.ConsentScreen)
			assert.Equal(t, want.ConsentLanguage, c.ConsentLanguage)
			assert.Equal(t, want.VendorListVersion, c.VendorListVersion)
			assert.Equal(t, want.PolicyVersion, c.TCFPolicyVersion)
			assert.Equal(t, want.IsServiceSpecific, c.IsServiceSpecific)
			assert.Equal(t, want.UseNonStandardTexts, c.UseNonStandardTexts)
			assert.Equal(t, want.PurposeOneTreatment, c.PurposeOneTreatment)
			assert.Equal(t, want.PublisherCountryCode, c.PublisherCC)
			assert.Equal(t, want.PurposeConsents, bitsOf(uint64(c.PurposesConsent), numPurposes))
			assert.Equal(t, want.PurposeLI, bitsOf(uint64(c.PurposesLITransparency), numPurposes))
			assert.Equal(t, want.SpecialFeatureOptins, bitsOf(uint64(c.SpecialFeatureOptIns), numSpecialFeatures))
			assert.Equal(t, want.VendorConsents, c.VendorConsents.IDs())
			assert.Equal(t, want.VendorLI, c.VendorLegitimateInterests.IDs())
			require.Len(t, c.PublisherRestrictions, len(want.PublisherRestrictions))
			for i, pr := range want.PublisherRestrictions {
				got := c.PublisherRestrictions[i]
				assert.Equal(t, pr.Purpose, got.PurposeID)
				assert.Equal(t, RestrictionType(pr.Type), got.Type)
				assert.Equal(t, pr.Vendors, got.Vendors.IDs())
				for _, vendor := range pr.Vendors {
					rt, ok := c.Restriction(vendor, pr.Purpose)
					assert.True(t, ok)
					assert.Equal(t, RestrictionType(pr.Type), rt)
				}
			}
			if len(want.VendorsDisclosed) == 0 {
				assert.Nil(t, c.DisclosedVendors)
			} else {
				require.NotNil(t, c.DisclosedVendors)
				assert.Equal(t, want.VendorsDisclosed, c.DisclosedVendors.IDs())
			}
		})
	}
}

func TestRestrictionStrictestWins(t *testing.T) {
	c := &Consent{PublisherRestrictions: []PublisherRestriction{
		{PurposeID: 2, Type: RestrictionRequireLegitimateInterest, Vendors: VendorSet{rangeEncoded: true, maxID: 10, ranges: []idRange{{1, 10}}}},
		{PurposeID: 2, Type: RestrictionNotAllowed, Vendors: VendorSet{rangeEncoded: true, maxID: 5, ranges: []idRange{{5, 5}}}},
	}}
	rt, ok := c.Restriction(5, 2)
	assert.True(t, ok)
	assert.Equal(t, RestrictionNotAllowed, rt)
	rt, ok = c.Restriction(6, 2)
	assert.True(t, ok)
	assert.Equal(t, RestrictionRequireLegitimateInterest, rt)
	_, ok = c.Restriction(11, 2)
	assert.False(t, ok)
	_, ok = c.Restriction(5, 3)
	assert.False(t, ok)
}
