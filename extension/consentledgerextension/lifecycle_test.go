package consentledgerextension

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
)

// TestLifecycle: the extension is created, started and shut down twice in
// a row on the same database (as a collector reloading its configuration
// does), with the auditor API served, on both backends. The generated
// lifecycle test cannot give it a database of its own.
func TestLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, cfg *Config) {
		ctx := context.Background()
		withAPI(t, cfg)
		for range 2 {
			ext, err := NewFactory().Create(ctx, extensiontest.NewNopSettings(metadata.Type), cfg)
			require.NoError(t, err)
			require.NoError(t, ext.Start(ctx, componenttest.NewNopHost()))
			require.NoError(t, ext.Shutdown(ctx))
		}
	})
}
