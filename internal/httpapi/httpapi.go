// Package httpapi is the one HTTP layer of the relay's API, the site page and
// the console backend's API: JSON answers, errors as
// {"error":{"code":…,"message":…,"field":…}} with the status their
// fault.Kind gives, request bodies read by one rule, routes that answer
// unknown methods with a JSON 405, Server-Sent Events, and the recover and
// access-log wrappers. A new endpoint is a handler and nothing more.
package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/fault"
)

// WriteJSON sends v as JSON with status. Answers are never cached: they
// hold state that changes, and some of it is not for a shared cache.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client hung up; nothing to do
}

// errorBody is the shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// WriteError sends an error answer with an explicit status, for the few
// answers that are about HTTP itself (405, 404 of a path) rather than a
// core's fault.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	WriteJSON(w, status, b)
}

// Status is the HTTP status of a fault kind.
func Status(k fault.Kind) int {
	switch k {
	case fault.Invalid:
		return http.StatusBadRequest
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.UnsupportedType:
		return http.StatusUnsupportedMediaType
	case fault.Unprocessable:
		return http.StatusUnprocessableEntity
	case fault.TooMany:
		return http.StatusTooManyRequests
	case fault.Upstream:
		return http.StatusBadGateway
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	case fault.InsufficientStorage:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// WriteFault answers err. A *fault.Error (anywhere in its chain) is answered
// as it says; anything else is the server's own fault: logged with what was
// being done, and answered 500 with a pointer to the log, so that no
// internal detail reaches the client.
func WriteFault(w http.ResponseWriter, r *http.Request, log zerolog.Logger, err error) {
	e := fault.As(err)
	if e == nil || e.Kind == fault.Internal {
		if r.Context().Err() == nil {
			log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed")
		}
		WriteError(w, http.StatusInternalServerError, "internal", "the server failed to handle the request; its log says why")
		return
	}
	if Status(e.Kind) >= 500 {
		log.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed upstream")
	}
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = e.Code, e.Message, e.Field
	WriteJSON(w, Status(e.Kind), b)
}
