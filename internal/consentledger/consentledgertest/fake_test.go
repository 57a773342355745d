package consentledgertest

import (
	"testing"

	"github.com/consentry/consentry/internal/consentledger"
)

func TestFakeKeepsTheContract(t *testing.T) {
	RunContract(t, FakeHarness)
}

func TestMemoryInteractionsKeepTheContract(t *testing.T) {
	RunInteractionsContract(t, func(*testing.T) consentledger.Interactions { return NewInteractions() })
}
