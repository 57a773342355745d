package ledger

import (
	"context"
	"errors"
	"fmt"
)

// ErrWrongKey is returned by CheckKeys when the configured key-encryption
// keys cannot unwrap the data keys stored in the database.
var ErrWrongKey = errors.New("ledger: wrong key-encryption key")

// CheckKeys proves the configured key-encryption keys against the database,
// in one pass over the live data keys: every KEK id that wraps a live data
// key must be configured, and must unwrap one of them. A key configured
// under the right id with other key material (a typo, the wrong secret
// mounted), a key whose id is derived from its material and so changed with
// it, or an old key removed before its data keys were rewrapped then fails
// at start, instead of at the first read of a quarantined record, after new
// records were written.
func (l *Ledger) CheckKeys(ctx context.Context) error {
	rows, err := l.st.ReadDB().QueryContext(ctx,
		`SELECT kek_id, min(dk_id) FROM data_keys WHERE erased_at = 0 GROUP BY kek_id`)
	if err != nil {
		return l.storeErr("check keys", err)
	}
	type probe struct{ kek, dk string }
	var probes []probe
	for rows.Next() {
		var p probe
		if err := rows.Scan(&p.kek, &p.dk); err != nil {
			rows.Close()
			return l.storeErr("check keys", err)
		}
		probes = append(probes, p)
	}
	if err := rows.Close(); err != nil {
		return l.storeErr("check keys", err)
	}
	if err := rows.Err(); err != nil {
		return l.storeErr("check keys", err)
	}
	for _, p := range probes {
		if !l.ring.Has(p.kek) {
			return fmt.Errorf("%w: live data keys are wrapped by key %q, which is not configured (configured: %v); configure it (or the right key material for it) and keep it until the extension has rewrapped them",
				ErrWrongKey, p.kek, l.ring.IDs())
		}
		var tenant, subjectKey string
		var wrapped []byte
		if err := l.st.ReadDB().QueryRowContext(ctx,
			`SELECT tenant, subject_key, wrapped FROM data_keys WHERE dk_id = $1`, p.dk).Scan(&tenant, &subjectKey, &wrapped); err != nil {
			return l.storeErr("check keys", err)
		}
		if _, err := l.ring.Unwrap(p.kek, wrapped, dataKeyAAD(tenant, subjectKey, p.dk)); err != nil {
			return fmt.Errorf("%w: key %q does not unwrap the data keys stored under its id (is it the right key material?)", ErrWrongKey, p.kek)
		}
	}
	return nil
}
