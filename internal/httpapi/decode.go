package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/qianliyan/qianliyan/internal/fault"
)

// Decode reads a JSON request body of at most limit bytes into v, by the one
// rule every endpoint follows: the Content-Type is application/json, the body
// is exactly one JSON value, and a field v does not have is refused (a
// misspelt field silently dropped would lose what the client meant). Its
// errors are *fault.Error naming the field at fault where there is one.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if err := checkType(r, "application/json"); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		return fault.New(fault.Invalid, "bad_request", "the body holds more than one JSON value")
	}
	return decodeFault(err)
}

// ReadBody reads a request body of the given media type (application/sdp,
// image/jpeg…) of at most limit bytes. A body announced larger than limit
// is refused before it is read, so that a client waiting on
// "Expect: 100-continue" gets its 413 too.
func ReadBody(w http.ResponseWriter, r *http.Request, mediaType string, limit int64) ([]byte, error) {
	if err := checkType(r, mediaType); err != nil {
		return nil, err
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var big *http.MaxBytesError
	switch {
	case errors.As(err, &big):
		return nil, tooLarge(limit)
	case err != nil:
		return nil, fault.New(fault.Invalid, "bad_request", "reading the request body: %w", err)
	}
	return b, nil
}

func tooLarge(limit int64) error {
	return fault.New(fault.TooLarge, "body_too_large", "the request body is over %d bytes", limit)
}

func checkType(r *http.Request, want string) error {
	ct := r.Header.Get("Content-Type")
	if got, _, err := mime.ParseMediaType(ct); err != nil || got != want {
		return fault.New(fault.UnsupportedType, "bad_content_type", "Content-Type is %q; want %s", ct, want)
	}
	return nil
}

func decodeFault(err error) error {
	var big *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &big):
		return tooLarge(big.Limit)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fault.Field(typeErr.Field, "%s is not a %s", typeErr.Value, typeName(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.New(fault.Invalid, "bad_request", "the body is not valid JSON: %v", err)
	case errors.Is(err, io.EOF):
		return fault.New(fault.Invalid, "bad_request", "the body is empty; want JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for this error; its text is stable.
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := fault.New(fault.Invalid, "unknown_field", "unknown field %q", field)
		e.Field = field
		return e
	}
	return fault.New(fault.Invalid, "bad_request", "the body is not the JSON expected: %v", err)
}

// typeName is a JSON type as people say it.
func typeName(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "whole number"
	case "float32", "float64":
		return "number"
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "JSON object"
	case "bool":
		return "true or false"
	}
	return fmt.Sprint(kind)
}
