package consentledgertest

import "testing"

func TestFakeKeepsTheContract(t *testing.T) {
	RunContract(t, FakeHarness)
}
