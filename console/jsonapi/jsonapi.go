// Package jsonapi writes the console backend's JSON answers, errors included,
// in the shape the relay uses: {"error":{"code":…,"message":…}}, and carries
// errors that know how they are answered (Problem) from the backend to the
// handler.
package jsonapi

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Write sends v as JSON with status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error sends an error answer.
func Error(w http.ResponseWriter, status int, code, message string) {
	WriteProblem(w, &Problem{Status: status, Code: code, Message: message})
}

// Problem is an error with the answer it gets: status, code for the view to
// translate, message for people, and, for bad input, the field at fault.
type Problem struct {
	Status  int
	Code    string
	Message string
	Field   string // a JSON path such as "steps[1].dwell_s"; "" if none
	Err     error  // the cause, for errors.Is/As and the log
}

// Fail returns a Problem with a formatted message.
func Fail(status int, code, format string, args ...any) *Problem {
	return &Problem{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

func (p *Problem) Unwrap() error { return p.Err }

// WriteProblem sends p as an error answer.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	body := map[string]string{"code": p.Code, "message": p.Message}
	if p.Field != "" {
		body["field"] = p.Field
	}
	Write(w, p.Status, map[string]any{"error": body})
}
