package talkdeskreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUSStateOfAddress(t *testing.T) {
	for in, want := range map[string]string{
		"123 Main St, San Francisco, CA 94105": "US-CA",
		"1 Elm St, Austin, TX 78701-1234":      "US-TX",
		"9 Oak Ave, Reno, nv 89501, USA":       "US-NV",
		"200 Bay St, Toronto, ON M5J 2J1":      "",
		"Somewhere without a ZIP, CA":          "",
		"10 Downing Street, London SW1A 2AA":   "",
		"PO Box 5, Springfield, ZZ 12345":      "",
		"":                                     "",
	} {
		assert.Equal(t, want, usStateOfAddress(in), in)
	}
}
