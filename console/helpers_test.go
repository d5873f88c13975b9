package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/server"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// view is the view's side of a backend served to a browser: its API with
// the launch secret, its event stream and the video bridge.
type view struct {
	t           *testing.T
	base, token string
}

// serve starts b (if not started) and serves it to a browser.
func serve(t *testing.T, b *Backend) view {
	t.Helper()
	pageURL, err := b.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/\?token=(.+)$`).FindStringSubmatch(pageURL)
	if m == nil {
		t.Fatalf("page URL %q", pageURL)
	}
	return view{t: t, base: m[1], token: m[2]}
}

// call sends a request with a JSON body (nil: none, a string: as is) and
// decodes a JSON answer into out; it returns the status and the raw body.
func (v view) call(method, path string, body, out any) (int, []byte) {
	v.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			v.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, v.base+path, r)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+v.token)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			v.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

// apiError is the backend's error body.
type apiError struct {
	Code, Message, Field string
}

func errorOf(t *testing.T, raw []byte) apiError {
	t.Helper()
	var e struct{ Error apiError }
	if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an error answer: %s", raw)
	}
	return e.Error
}

// expectError checks a refused call's status, code and, if given, field.
func (v view) expectError(method, path string, body any, status int, code, field string) apiError {
	v.t.Helper()
	got, raw := v.call(method, path, body, nil)
	e := errorOf(v.t, raw)
	if got != status || e.Code != code || e.Field != field {
		v.t.Fatalf("%s %s: %d %s, want %d %s (field %q)", method, path, got, raw, status, code, field)
	}
	return e
}

func (v view) session() server.Session {
	v.t.Helper()
	var s server.Session
	if code, raw := v.call("GET", "/api/v1/session", nil, &s); code != 200 {
		v.t.Fatalf("session: %d %s", code, raw)
	}
	return s
}

// sse is a view's open event stream.
type sse struct {
	t      *testing.T
	events chan sseEvent
	cancel context.CancelFunc
}

type sseEvent struct {
	name string
	data []byte
}

func (v view) events() *sse {
	v.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", v.base+"/api/v1/events?token="+url.QueryEscape(v.token), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		v.t.Fatal(err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != 200 || mt != "text/event-stream" {
		cancel()
		v.t.Fatalf("event stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{t: v.t, events: make(chan sseEvent, 100), cancel: cancel}
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev.name != "":
				s.events <- ev
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = append(ev.data, strings.TrimPrefix(line, "data: ")...)
			}
		}
	}()
	v.t.Cleanup(cancel)
	return s
}

// next waits for the next event called name, skipping others.
func (s *sse) next(name string) []byte {
	s.t.Helper()
	return s.nextOf(name).data
}

// nextOf waits for the next event called one of names, skipping others.
func (s *sse) nextOf(names ...string) sseEvent {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("event stream ended waiting for %v", names)
			}
			if slices.Contains(names, ev.name) {
				return ev
			}
		case <-deadline:
			s.t.Fatalf("no %v event within %v", names, within)
		}
	}
}

// camera waits until the stream shows camera ("site/camera") in state, in
// a camera event or a camera list: the relay sends a list when the
// console's stream (re)connects and now and then, and a change that came
// before a list is only in the list.
func (s *sse) camera(camera, state string) relayclient.Camera {
	s.t.Helper()
	for {
		ev := s.nextOf("camera", "cameras")
		var list struct{ Cameras []relayclient.Camera }
		if ev.name == "camera" {
			list.Cameras = make([]relayclient.Camera, 1)
			if err := json.Unmarshal(ev.data, &list.Cameras[0]); err != nil {
				s.t.Fatal(err)
			}
		} else if err := json.Unmarshal(ev.data, &list); err != nil {
			s.t.Fatal(err)
		}
		for _, c := range list.Cameras {
			if c.Path() == camera && c.State == state {
				return c
			}
		}
	}
}

// change waits for the camera event saying camera ("site/camera") is in
// state, skipping others.
func (s *sse) change(camera, state string) relayclient.Camera {
	s.t.Helper()
	for {
		var cam relayclient.Camera
		if err := json.Unmarshal(s.next("camera"), &cam); err != nil {
			s.t.Fatal(err)
		}
		if cam.Path() == camera && cam.State == state {
			return cam
		}
	}
}

// video is a view's open video bridge connection.
type video struct {
	t  *testing.T
	ws *websocket.Conn
}

func (v view) video(camera, stream string) *video {
	v.t.Helper()
	q := url.Values{"camera": {camera}, "stream": {stream}, "token": {v.token}}
	wsURL := "ws" + strings.TrimPrefix(v.base, "http") + "/ws/video?" + q.Encode()
	ws, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {v.base}})
	if err != nil {
		v.t.Fatalf("dial bridge: %v (%v)", err, resp)
	}
	v.t.Cleanup(func() { ws.Close() })
	return &video{t: v.t, ws: ws}
}

// stateEvent is the bridge's state event.
type stateEvent struct {
	Type, State, Since, Reason string
}

// read returns the next message: a state event, or nil for a picture.
func (v *video) read(deadline time.Time) (*stateEvent, error) {
	_ = v.ws.SetReadDeadline(deadline)
	for {
		kind, b, err := v.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if kind == websocket.BinaryMessage {
			return nil, nil
		}
		var ev stateEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, err
		}
		if ev.Type == "state" {
			return &ev, nil
		}
	}
}

// picture waits for a picture.
func (v *video) picture() {
	v.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ev, err := v.read(deadline)
		if err != nil {
			v.t.Fatalf("no picture within %v: %v", within, err)
		}
		if ev == nil {
			return
		}
	}
}

// state waits for a state event in want and returns it.
func (v *video) state(want ...string) stateEvent {
	v.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ev, err := v.read(deadline)
		if err != nil {
			v.t.Fatalf("no state %v within %v: %v", want, within, err)
		}
		if ev == nil {
			continue
		}
		for _, w := range want {
			if ev.State == w {
				return *ev
			}
		}
	}
}

// closed waits for the connection to be closed by the backend and returns
// the close frame.
func (v *video) closed() *websocket.CloseError {
	v.t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, err := v.read(deadline)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			v.t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}

// signedIn starts a console signed in to r as its demo duty officer and
// serves its view, once the sign-in is through.
func signedIn(t *testing.T, opts Options, r *relaytest.Relay) (*Backend, view) {
	t.Helper()
	creds := r.Demo()
	opts.RelayURL, opts.User, opts.Password = r.URL(), creds.User, creds.Password
	b := start(t, opts)
	v := serve(t, b)
	eventually.True(t, within, "signed in to "+r.URL(), func() bool { return v.session().SignedIn })
	return b, v
}
