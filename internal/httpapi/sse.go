package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// EventStream writes Server-Sent Events. Every write has a deadline and is
// flushed at once, so a client that stops reading is dropped rather than
// holding its handler, and no proxy holds an event back.
type EventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// NewEventStream answers 200 with the event-stream headers. writeTimeout
// bounds each later write; 0 means none.
func NewEventStream(w http.ResponseWriter, writeTimeout time.Duration) (*EventStream, error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would hold events back
	w.WriteHeader(http.StatusOK)
	s := &EventStream{w: w, rc: http.NewResponseController(w), timeout: writeTimeout}
	return s, s.rc.Flush()
}

// Send writes one event. Data is split into data lines, so that a newline
// in it cannot end the event early; id, when not empty, is the event's id
// for Last-Event-ID.
func (s *EventStream) Send(name, id string, data []byte) error {
	var b strings.Builder
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	b.WriteString("event: " + name + "\n")
	for _, line := range strings.Split(string(data), "\n") {
		b.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	b.WriteString("\n")
	return s.write(b.String())
}

// SendJSON writes one event whose data is v in JSON.
func (s *EventStream) SendJSON(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Send(name, "", data)
}

// Comment writes a comment line: a keep-alive, or a word on why the stream
// ends, which clients ignore.
func (s *EventStream) Comment(text string) error {
	return s.write(": " + strings.ReplaceAll(text, "\n", " ") + "\n\n")
}

func (s *EventStream) write(text string) error {
	if s.timeout > 0 {
		if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}
