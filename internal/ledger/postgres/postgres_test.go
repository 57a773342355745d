package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRetryable(t *testing.T) {
	for code, want := range map[string]bool{
		"08006": true,  // connection failure
		"53100": true,  // disk full
		"53300": true,  // too many connections
		"57P01": true,  // admin shutdown
		"40001": true,  // serialization failure
		"40P01": true,  // deadlock
		"23505": false, // unique violation
		"42P01": false, // undefined table
		"22021": false, // invalid byte sequence
	} {
		err := fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})
		if Retryable(err) != want {
			t.Errorf("%s: retryable %v, want %v", code, !want, want)
		}
	}
	for _, err := range []error{driver.ErrBadConn, syscall.ECONNREFUSED, context.DeadlineExceeded} {
		if !Retryable(fmt.Errorf("x: %w", err)) {
			t.Errorf("%v not retryable", err)
		}
	}
	if Retryable(nil) || Retryable(errors.New("syntax")) {
		t.Fatal("permanent errors retryable")
	}
}
