package ledger

import (
	"context"
	"errors"
	"fmt"
)

// Errors a caller can test for with errors.Is.
var (
	// ErrNotFound: no record with that id.
	ErrNotFound = errors.New("ledger: not found")
	// ErrErased: the record's subject was erased; its payload cannot be
	// decrypted any more.
	ErrErased = errors.New("ledger: subject erased, payload unreadable")
	// ErrPurged: retention deleted the record's payload.
	ErrPurged = errors.New("ledger: payload purged by retention")
	// ErrTampered: the stored record does not match its chain entry.
	ErrTampered = errors.New("ledger: stored record does not match its hash chain entry")
	// ErrClosed: the ledger is closed (retryable: another replica, or this
	// one after a restart, will take the write).
	ErrClosed = errors.New("ledger: closed")
	// ErrInvalid: the input is invalid (missing tenant, vendor or event id).
	ErrInvalid = errors.New("ledger: invalid input")
	// ErrBadPageToken: the page token is malformed or belongs to another
	// query.
	ErrBadPageToken = errors.New("ledger: invalid page token")
)

// StoreError is a failure of the database. Retryable reports whether the
// same call may succeed later (connection refused or lost, database busy,
// disk full); the quarantine exporter turns those into 503 for vendors.
type StoreError struct {
	Op        string
	Retryable bool
	Err       error
}

func (e *StoreError) Error() string {
	kind := "permanent"
	if e.Retryable {
		kind = "retryable"
	}
	return fmt.Sprintf("ledger: %s: %s store error: %v", e.Op, kind, e.Err)
}

func (e *StoreError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is transient: a retryable store error, a
// closed ledger, or a deadline. Invalid input, a missing or erased record
// and a permanent store error are not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var se *StoreError
	if errors.As(err, &se) {
		return se.Retryable
	}
	return errors.Is(err, ErrClosed) || errors.Is(err, context.DeadlineExceeded)
}

func (l *Ledger) storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *StoreError
	if errors.As(err, &se) {
		return err
	}
	return &StoreError{Op: op, Retryable: l.st.Retryable(err), Err: err}
}
