package region

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCountryTables(t *testing.T) {
	assert.Len(t, strings.Fields(isoCountries), 249)
	assert.Len(t, isoCountries, 249*3-1, "codes are separated by single spaces")
	for _, c := range strings.Fields(isoCountries) {
		assert.True(t, IsCountry(c), c)
	}
	for _, c := range []string{"XK", "ZZ", "EU", "U", "USA", ""} {
		assert.False(t, IsCountry(c), c)
	}
	assert.Len(t, usStates, 2*(50+1+6)+3)
	for code := range usTerritories {
		assert.Equal(t, code, usStates[code])
	}
	for name, code := range caProvinces {
		assert.Len(t, code, 2, name)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"US-CA": "US-CA", " us-ca ": "US-CA", "CA": "US-CA", "ca": "US-CA", "California": "US-CA", "new york": "US-NY",
		"DE-BY": "DE-BY", "Ontario": "CA-ON", "Québec": "CA-QC", "PR": "PR", "Puerto Rico": "PR", "Germany": "DE", "GB": "GB",
		"United Kingdom": "GB", "": "", "somewhere": "", "XX-1": "", "US-": "", "US-TOOLONG": "",
	} {
		assert.Equal(t, want, Parse(in), in)
	}
}
