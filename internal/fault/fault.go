// Package fault is the typed error the products' cores return when a request
// cannot be done for a reason the caller should hear: a bad field, a missing
// record, a refused state change. It carries no HTTP; the HTTP layer
// (internal/httpapi) maps each Kind to a status, so a core stays plain Go and
// every adapter answers the same failure the same way.
package fault

import (
	"errors"
	"fmt"
)

// Kind is what sort of failure an Error is.
type Kind int

// The kinds, each with the HTTP status internal/httpapi gives it.
const (
	Internal            Kind = iota // 500: the program's own fault, logged, not shown
	Invalid                         // 400: the request is malformed or a field's value is wrong
	Unauthenticated                 // 401: no valid sign-in
	Forbidden                       // 403: signed in, but the role may not
	NotFound                        // 404
	Conflict                        // 409: the record's state does not allow it
	TooLarge                        // 413
	UnsupportedType                 // 415
	Unprocessable                   // 422: well-formed, but the values do not make sense together
	TooMany                         // 429
	Upstream                        // 502: a server this one depends on failed
	Unavailable                     // 503: not ready yet, or shutting down
	InsufficientStorage             // 507: the disk is full
)

// Error is a failure with what the caller needs to tell it apart: a kind, a
// stable code a view translates, a message for people, and for bad input the
// field at fault as a JSON path ("steps[1].dwell_s").
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
	Err     error // the cause, for errors.Is/As and the log
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with a formatted message. A %w in format becomes
// the cause.
func New(kind Kind, code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// Field returns an Invalid error naming the field at fault; the message
// starts with the field's name.
func Field(field, format string, args ...any) *Error {
	e := New(Invalid, "invalid_field", field+": "+format, args...)
	e.Field = field
	return e
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf is the kind of err: Internal when err carries no *Error.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}
