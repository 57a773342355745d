package webhook

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a request failure with the HTTP status the vendor should see.
// Msg is shown to the caller; it must never contain a secret or the body.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Msg) }

// Errorf returns an *Error with a formatted message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// Malformed is a 400: the body or a parameter cannot be understood.
func Malformed(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

// Unauthenticated is a 401: a credential or signature is missing or wrong.
// The message is fixed so that callers cannot learn which check failed.
func Unauthenticated() *Error {
	return &Error{Status: http.StatusUnauthorized, Msg: "missing or invalid credentials or signature"}
}

// Forbidden is a 403: the credential is valid but not for this data (for
// example an event of another organization than the credential's tenant).
func Forbidden(format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, format, args...)
}

// statusOf maps any error returned by a route to its status.
func statusOf(err error) (int, string) {
	var we *Error
	if errors.As(err, &we) {
		return we.Status, we.Msg
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit)
	}
	return http.StatusInternalServerError, "internal error"
}
