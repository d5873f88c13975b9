package relayclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Event is one Server-Sent Event of the relay's /api/v1/events.
type Event struct {
	// ID is the event's id, or the last one the stream named; "" if none.
	ID   string
	Name string // "message" when the event had no "event:" line
	Data []byte
}

// errSilent ends an event stream that said nothing for too long.
var errSilent = errors.New("the event stream went silent")

// Events follows the relay's event stream, calling fn with each event in
// order, until ctx is cancelled or the stream ends, fails or goes silent;
// the caller reconnects. lastID, when set, is sent as Last-Event-ID so that
// a relay keeping a history can resume where the last stream stopped.
func (c *Client) Events(ctx context.Context, lastID string, fn func(Event)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := c.authorized(ctx, func(token string) (*http.Request, error) {
		req, err := c.request(ctx, http.MethodGet, "/api/v1/events", "", nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "text/event-stream")
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		return req, nil
	}, func(req *http.Request) (*http.Response, error) {
		resp, err := c.stream.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
		if resp.StatusCode != http.StatusOK {
			defer resp.Body.Close()
			body, _ := readLimited(resp)
			return resp, decodeError(resp, body)
		}
		return resp, nil
	})
	if err != nil {
		return fmt.Errorf("following relay events: %w", err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("following relay events: content type %q, want text/event-stream", ct)
	}

	// Reading does not watch for silence: a timer reset by every line
	// cancels the request when the relay stops talking.
	heard := make(chan struct{}, 1)
	go func() {
		t := time.NewTimer(eventSilence)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-heard:
				t.Reset(eventSilence)
			case <-t.C:
				cancel(errSilent)
				return
			}
		}
	}()

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxBody)
	sc.Split(scanLines)
	p := sseParser{lastID: lastID}
	for sc.Scan() {
		select {
		case heard <- struct{}{}:
		default:
		}
		if ev, ok := p.line(sc.Text()); ok {
			fn(ev)
		}
	}
	err = sc.Err()
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	if err == nil {
		err = errors.New("the relay closed the stream")
	}
	return fmt.Errorf("following relay events: %w", err)
}

// sseParser assembles events from the lines of a text/event-stream.
type sseParser struct {
	lastID string
	name   string
	data   bytes.Buffer
	any    bool // a data line was seen
}

func (p *sseParser) line(line string) (Event, bool) {
	if line == "" {
		defer func() { p.name, p.any = "", false; p.data.Reset() }()
		if !p.any {
			return Event{}, false
		}
		name := p.name
		if name == "" {
			name = "message"
		}
		return Event{ID: p.lastID, Name: name, Data: bytes.Clone(p.data.Bytes())}, true
	}
	if strings.HasPrefix(line, ":") {
		return Event{}, false // a comment: keepalive
	}
	field, value, _ := strings.Cut(line, ":")
	value = strings.TrimPrefix(value, " ")
	switch field {
	case "event":
		p.name = value
	case "data":
		if p.any {
			p.data.WriteByte('\n')
		}
		p.data.WriteString(value)
		p.any = true
	case "id":
		if !strings.ContainsRune(value, 0) {
			p.lastID = value
		}
	}
	return Event{}, false
}

// scanLines splits at CRLF, LF or CR, as text/event-stream allows.
func scanLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // a LF may follow in the next read
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
