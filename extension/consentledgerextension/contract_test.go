package consentledgerextension

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/consentry/consentry/extension/consentledgerextension/internal/metadata"
	"github.com/consentry/consentry/internal/consentledger"
	"github.com/consentry/consentry/internal/consentledger/consentledgertest"
	"github.com/consentry/consentry/internal/ledger"
	"github.com/consentry/consentry/internal/release"
)

// TestContract: the extension keeps the contract the components rely on,
// on both backends: the same suite the in-memory fake of their tests
// passes.
func TestContract(t *testing.T) {
	for _, b := range []string{BackendSQLite, BackendPostgres} {
		t.Run(b, func(t *testing.T) {
			consentledgertest.RunContract(t, func(t *testing.T) consentledgertest.Harness {
				return harness(t, newConfig(t, b))
			})
		})
	}
}

func harness(t *testing.T, cfg *Config) consentledgertest.Harness {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	e := ext.(*ledgerExtension)
	return consentledgertest.Harness{
		Ledger: e,
		Stored: func(ctx context.Context, tenant string) ([]consentledgertest.Stored, error) {
			l, err := e.ledgerOrErr()
			if err != nil {
				return nil, err
			}
			var out []consentledgertest.Stored
			page := ledger.Page{Size: 1000}
			for {
				p, err := l.List(ctx, ledger.Filter{Tenant: tenant}, page)
				if err != nil {
					return nil, err
				}
				for _, m := range p.Records {
					rec, err := l.Get(ctx, m.ID)
					if err != nil {
						return nil, err
					}
					out = append(out, consentledgertest.Stored{
						ID: m.ID, Released: !m.ReleasedAt.IsZero(),
						Record: consentledger.Record{
							Tenant: m.Tenant, Vendor: m.Vendor, EventID: m.EventID, EventName: m.EventName,
							SubjectKey: m.SubjectKey, InteractionID: m.InteractionID, Reasons: m.Reasons,
							ConsentStatus: m.ConsentStatus, OccurredAt: m.OccurredAt, ReceivedAt: m.ReceivedAt,
							Payload: rec.Payload,
						},
					})
				}
				if p.NextToken == "" {
					return out, nil
				}
				page.Token = p.NextToken
			}
		},
		// What the auditor API's ReleaseRecords runs.
		Release: func(ctx context.Context, tenant, subject string, dryRun bool) (int, error) {
			res, err := e.releaser.Release(ctx, release.Request{
				Filter: ledger.Filter{Tenant: tenant, SubjectKey: subject},
				DryRun: dryRun, Caller: "contract-test", Reason: "contract test",
			})
			if err != nil {
				return 0, err
			}
			if !dryRun && res.Released != res.Forwarded {
				t.Errorf("forwarded %d records but marked %d released", res.Forwarded, res.Released)
			}
			return res.Forwarded, nil
		},
	}
}
