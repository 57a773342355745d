package consentledger_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
)

func TestFind(t *testing.T) {
	id := component.MustNewIDWithName("consent_ledger", "pg")
	fake := consentledgertest.New()

	_, err := consentledger.Find(fake.Host(id), consentledger.ID{})
	require.ErrorContains(t, err, "no consent_ledger extension is named")

	_, err = consentledger.Find(componenttest.NewNopHost(), consentledger.NewID(id))
	require.EqualError(t, err, `ledger: extension "consent_ledger/pg" not found; add it under extensions and to service.extensions`)

	nop, err := extensiontest.NewNopFactory().Create(t.Context(), extensiontest.NewNopSettings(extensiontest.NopType), nil)
	require.NoError(t, err)
	_, err = consentledger.Find(consentledgertest.Host(map[component.ID]component.Component{id: nop}), consentledger.NewID(id))
	require.EqualError(t, err, `ledger: extension "consent_ledger/pg" is not a consent_ledger extension`)

	got, err := consentledger.Find(fake.Host(id), consentledger.NewID(id))
	require.NoError(t, err)
	assert.Same(t, fake, got)
}

// TestIDInConfig: the ledger setting reads as a component id, is unset
// when absent, and only a component that requires it fails without it.
func TestIDInConfig(t *testing.T) {
	type cfg struct {
		Ledger consentledger.ID `mapstructure:"ledger"`
	}
	var c cfg
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"ledger": "consent_ledger/pg"}).Unmarshal(&c))
	assert.True(t, c.Ledger.IsSet())
	assert.Equal(t, component.MustNewIDWithName("consent_ledger", "pg"), c.Ledger.ComponentID())
	assert.Equal(t, "consent_ledger/pg", c.Ledger.String())
	require.NoError(t, c.Ledger.Require())
	require.NoError(t, confmap.Validate(&c))

	var unset cfg
	require.NoError(t, confmap.NewFromStringMap(map[string]any{}).Unmarshal(&unset))
	assert.False(t, unset.Ledger.IsSet())
	require.NoError(t, confmap.Validate(&unset), "an optional ledger setting may stay unset")
	require.ErrorContains(t, unset.Ledger.Require(), "ledger: the id of a consent_ledger extension is required")

	var bad cfg
	require.Error(t, confmap.NewFromStringMap(map[string]any{"ledger": "not a/valid/id"}).Unmarshal(&bad))

	conf := confmap.New()
	require.NoError(t, conf.Marshal(c))
	assert.Equal(t, "consent_ledger/pg", conf.Get("ledger"), "the setting prints as it is written")
}
