package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrWrongKey is returned by CheckKeys when a configured key-encryption key
// does not unwrap the data keys stored under its id.
var ErrWrongKey = errors.New("ledger: wrong key-encryption key")

// CheckKeys proves every configured key-encryption key against the
// database: for each KEK id it unwraps one live data key that KEK wrapped.
// A key configured under the right id with other key material (a typo, the
// wrong secret mounted) then fails at start, instead of at the first read of
// a quarantined record, after new records were written under it. A KEK that
// wrapped nothing yet is not checked.
func (l *Ledger) CheckKeys(ctx context.Context) error {
	for _, id := range l.ring.IDs() {
		var dkID, tenant, subjectKey string
		var wrapped []byte
		err := l.st.ReadDB().QueryRowContext(ctx,
			`SELECT dk_id, tenant, subject_key, wrapped FROM data_keys WHERE kek_id = $1 AND erased_at = 0 LIMIT 1`, id).
			Scan(&dkID, &tenant, &subjectKey, &wrapped)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return l.storeErr("check keys", err)
		}
		if _, err := l.ring.Unwrap(id, wrapped, dataKeyAAD(tenant, subjectKey, dkID)); err != nil {
			return fmt.Errorf("%w: key %q does not unwrap the data keys stored under its id (is it the right key material?)", ErrWrongKey, id)
		}
	}
	return nil
}
