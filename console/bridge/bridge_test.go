package bridge

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/mediatest"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

const (
	// within bounds what the tests wait for: it only catches a hang.
	within = eventually.Ceiling
	token  = "launch-secret-for-tests"
	origin = "wails://wails"
)

type fixture struct {
	relay   *relaytest.Relay
	sources *media.Sources
	bridge  *Handler
	wsURL   string // ws://…/ws/video
	httpURL string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1", "site-01/doff2"}})
	creds := relay.Demo()
	// A silent session is restarted after 3 s rather than 6: the relay
	// keeps it open when the camera's publisher leaves, and only a new
	// offer learns that the camera is offline.
	sources := mediatest.Sources(t, relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password), media.Options{
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, RestartAfter: 3 * time.Second, Log: zerolog.Nop(),
	})
	b := New(Options{Sources: sources, Secret: token, Origins: []string{origin, "http://127.0.0.1:1"}, Log: zerolog.Nop()})
	srv := httptest.NewServer(b)
	t.Cleanup(func() { b.Close(); srv.Close() })
	return &fixture{relay: relay, sources: sources, bridge: b, httpURL: srv.URL + "/ws/video", wsURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/video"}
}

func (f *fixture) url(query string) string { return f.wsURL + "?" + query }

// dial connects as the Wails window does.
func (f *fixture) dial(t *testing.T, camera string) *websocket.Conn {
	t.Helper()
	q := url.Values{"camera": {camera}, "stream": {"sub"}, "token": {token}}
	ws, resp, err := websocket.DefaultDialer.Dial(f.url(q.Encode()), http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

type message struct {
	text  map[string]any
	flags byte
	pts   time.Duration
	data  []byte
}

func read(t *testing.T, ws *websocket.Conn) message {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(within))
	kind, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if kind == websocket.TextMessage {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("text message %q: %v", b, err)
		}
		return message{text: m}
	}
	if len(b) < 10 {
		t.Fatalf("binary message of %d bytes", len(b))
	}
	return message{flags: b[0], pts: time.Duration(binary.BigEndian.Uint64(b[1:9])) * time.Microsecond, data: b[9:]}
}

func TestRefusals(t *testing.T) {
	f := setup(t)
	good := url.Values{"camera": {"site-01/doff1"}, "stream": {"sub"}, "token": {token}}
	with := func(k, v string) string {
		q := url.Values{}
		for key, vals := range good {
			q[key] = vals
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q.Encode()
	}
	cases := []struct {
		name   string
		query  string
		origin string
		status int
		code   string
	}{
		{"no token", with("token", ""), origin, http.StatusUnauthorized, "unauthorized"},
		{"wrong token", with("token", "guess"), origin, http.StatusUnauthorized, "unauthorized"},
		{"foreign origin", good.Encode(), "http://evil.example", http.StatusForbidden, "forbidden"},
		{"no origin", good.Encode(), "", http.StatusForbidden, "forbidden"},
		{"no camera", with("camera", ""), origin, http.StatusBadRequest, "bad_request"},
		{"camera without site", with("camera", "doff1"), origin, http.StatusBadRequest, "bad_request"},
		{"camera with path tricks", with("camera", "site-01/../x"), origin, http.StatusBadRequest, "bad_request"},
		{"bad stream", with("stream", "4k"), origin, http.StatusBadRequest, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.origin != "" {
				h.Set("Origin", c.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(f.url(c.query), h)
			if err == nil {
				ws.Close()
				t.Fatal("connection accepted")
			}
			if resp == nil || resp.StatusCode != c.status {
				t.Fatalf("got %v, want status %d", resp, c.status)
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			b, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(b, &body); err != nil || body.Error.Code != c.code || body.Error.Message == "" {
				t.Fatalf("body %q, want code %q", b, c.code)
			}
		})
	}

	// A plain GET with everything right is still not a WebSocket.
	req, _ := http.NewRequest(http.MethodGet, f.httpURL+"?"+good.Encode(), nil)
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain GET: %d", resp.StatusCode)
	}
	resp, err = http.Post(f.httpURL+"?"+good.Encode(), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if s := f.relay.Sessions(t); len(s) != 0 {
		t.Fatalf("a refused connection pulled video: %+v", s)
	}
}

func TestStream(t *testing.T) {
	f := setup(t)
	ws := f.dial(t, "site-01/doff1")

	var sawState, sawConfig bool
	var first message
	for {
		m := read(t, ws)
		if m.text == nil {
			first = m
			break
		}
		switch m.text["type"] {
		case "state":
			sawState = true
			if _, err := time.Parse(time.RFC3339, m.text["since"].(string)); err != nil {
				t.Fatalf("state since: %v", err)
			}
		case "config":
			sawConfig = true
			if codec, _ := m.text["codec"].(string); !strings.HasPrefix(codec, "avc1.42") {
				t.Fatalf("codec %v", m.text["codec"])
			}
			if m.text["width"] != float64(relaytest.Width) || m.text["height"] != float64(relaytest.Height) {
				t.Fatalf("config %v", m.text)
			}
		default:
			t.Fatalf("unknown event %v", m.text)
		}
	}
	if !sawState || !sawConfig {
		t.Fatalf("before the first picture: state %v, config %v", sawState, sawConfig)
	}
	if first.flags&1 == 0 {
		t.Fatal("first binary message is not a keyframe")
	}
	nalus, err := avc.SplitAnnexB(first.data)
	if err != nil {
		t.Fatal(err)
	}
	if sps, pps := avc.NewAccessUnit(nalus, 0).ParamSets(); sps == nil || pps == nil {
		t.Fatal("first keyframe lacks SPS or PPS")
	}

	last := first.pts
	for n := 0; n < 20; {
		m := read(t, ws)
		if m.text != nil {
			continue
		}
		if m.pts <= last {
			t.Fatalf("PTS %v after %v", m.pts, last)
		}
		last = m.pts
		n++
	}

	// A camera going offline reaches the view as a state event.
	f.relay.SetOnline(t, "site-01/doff1", false)
	for {
		m := read(t, ws)
		if m.text != nil && m.text["type"] == "state" && m.text["state"] == "offline" && m.text["reason"] == "camera_offline" {
			break
		}
	}
}

func TestViewersShareOnePullThatEndsWithThem(t *testing.T) {
	f := setup(t)
	a := f.dial(t, "site-01/doff1")
	b := f.dial(t, "site-01/doff1")
	for _, ws := range []*websocket.Conn{a, b} {
		for read(t, ws).text != nil {
		}
	}
	if n := len(f.relay.Sessions(t)); n != 1 {
		t.Fatalf("%d WHEP sessions for two views of a camera, want 1", n)
	}
	a.Close()
	b.Close()
	if s := f.relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want it ended by a DELETE after both views left", s)
	}
}

func TestCloseEndsConnections(t *testing.T) {
	f := setup(t)
	ws := f.dial(t, "site-01/doff1")
	for read(t, ws).text != nil {
	}
	done := make(chan struct{})
	go func() { f.bridge.Close(); close(done) }()
	_ = ws.SetReadDeadline(time.Now().Add(within))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Fatalf("got %v, want close 1001", err)
			}
			break
		}
	}
	select {
	case <-done:
	case <-time.After(within):
		t.Fatal("Close did not return")
	}
	if s := f.relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want it ended by a DELETE after the bridge closed", s)
	}
}

func TestEndAllEndsConnectionsAndKeepsServing(t *testing.T) {
	f := setup(t)
	ws := f.dial(t, "site-01/doff1")
	for read(t, ws).text != nil {
	}
	f.bridge.EndAll("session_expired")
	_ = ws.SetReadDeadline(time.Now().Add(within))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseSessionEnded || ce.Text != "session_expired" {
			t.Fatalf("got %v, want close %d session_expired", err, CloseSessionEnded)
		}
		break
	}
	if s := f.relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want it ended by a DELETE after the connection ended", s)
	}
	// New connections are served.
	again := f.dial(t, "site-01/doff1")
	for read(t, again).text != nil {
	}
}

// dialStream connects to one stream of a camera.
func (f *fixture) dialStream(t *testing.T, camera, stream string) *websocket.Conn {
	t.Helper()
	q := url.Values{"camera": {camera}, "stream": {stream}, "token": {token}}
	ws, resp, err := websocket.DefaultDialer.Dial(f.url(q.Encode()), http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func TestStreamsAreIndependentAndReleasedOnSwitch(t *testing.T) {
	f := setup(t)
	// A tile on the sub stream, then the focus view on main: two pulls.
	sub := f.dialStream(t, "site-01/doff1", "sub")
	for read(t, sub).text != nil {
	}
	main := f.dialStream(t, "site-01/doff1", "main")
	for read(t, main).text != nil {
	}
	offered := f.relay.Sessions(t)
	if len(offered) != 2 || offered[0].Camera != "doff1" || offered[0].RequestedStream != "sub" ||
		offered[1].Camera != "doff1" || offered[1].RequestedStream != "main" {
		t.Fatalf("sessions %+v, want doff1's sub stream then its main one", offered)
	}
	// Leaving focus ends main's pull; sub plays on.
	main.Close()
	if s := f.relay.WaitEnded(t, 1); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("main's session %+v, want it ended by a DELETE when its view left", s)
	}
	for range 5 {
		read(t, sub)
	}
	// The tile switches camera: the old pull ends as the new one starts.
	sub.Close()
	next := f.dialStream(t, "site-01/doff2", "sub")
	if s := f.relay.WaitEnded(t, 0); s.EndReason != peer.ReasonDeleted {
		t.Fatalf("the old camera's session %+v, want it ended by a DELETE when the tile switched", s)
	}
	for read(t, next).text != nil {
	}
	var open []string
	for _, s := range f.relay.Sessions(t) {
		if s.Ended.IsZero() {
			open = append(open, s.Site+"/"+s.Camera+"?stream="+s.RequestedStream)
		}
	}
	if len(open) != 1 || open[0] != "site-01/doff2?stream=sub" {
		t.Fatalf("WHEP sessions open: %q, want the new camera's only", open)
	}
}

func TestQueueDropsToNextKeyframe(t *testing.T) {
	unit := func(key bool, size int) avc.AccessUnit {
		b := bytes.Repeat([]byte{1}, size)
		b[0] = 0x41
		if key {
			b[0] = 0x65
		}
		return avc.NewAccessUnit([][]byte{b}, 0)
	}
	K, P := unit(true, 10), unit(false, 10)
	state := media.State{State: media.Live}
	cases := []struct {
		name   string
		limit  int
		events []any // avc.AccessUnit or media.State
		want   string
	}{
		{"starts at a keyframe", 10, []any{P, P, K, P}, "KP"},
		{"fits", 10, []any{K, P, P}, "KPP"},
		{"overflow drops to next keyframe", 3, []any{K, P, P, P, P, K, P}, "KP"},
		{"overflow on a keyframe keeps it", 3, []any{K, P, P, K, P}, "KP"},
		{"states survive overflow", 3, []any{K, state, P, P, P, K}, "SK"},
		{"newer state replaces a waiting one", 10, []any{state, state, K}, "SK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cn := newConn(nil, media.Key{}, Options{QueueUnits: c.limit, QueueBytes: 1 << 20})
			for _, e := range c.events {
				switch e := e.(type) {
				case avc.AccessUnit:
					cn.OnAccessUnit(e)
				case media.State:
					cn.OnState(e)
				}
			}
			var got strings.Builder
			for _, it := range cn.take() {
				switch {
				case it.state != nil:
					got.WriteByte('S')
				case it.au.Keyframe:
					got.WriteByte('K')
				default:
					got.WriteByte('P')
				}
			}
			if got.String() != c.want {
				t.Fatalf("queue %q, want %q", got.String(), c.want)
			}
		})
	}

	// The byte bound works like the unit bound.
	cn := newConn(nil, media.Key{}, Options{QueueUnits: 100, QueueBytes: 25})
	cn.OnAccessUnit(K)
	cn.OnAccessUnit(P)
	cn.OnAccessUnit(P) // 30 bytes: over
	cn.OnAccessUnit(P)
	if q := cn.take(); len(q) != 0 {
		t.Fatalf("%d units queued past the byte bound", len(q))
	}
}

// A view joining a stream gets the source's GOP so far at once: every unit
// of it but the newest is catch-up, to decode and not show, so the view's
// first picture is the present one; what comes after is shown.
func TestJoinMarksCatchUp(t *testing.T) {
	unit := func(key bool) avc.AccessUnit {
		b := []byte{0x41, 1, 1}
		if key {
			b[0] = 0x65
		}
		return avc.NewAccessUnit([][]byte{b}, 0)
	}
	K, P := unit(true), unit(false)
	state := media.State{State: media.Stalled}
	cases := []struct {
		name          string
		atJoin, after []any
		want          string // per queued item: S state, c catch-up unit, u unit to show
	}{
		{"a GOP: all but the newest", []any{state, K, P, P}, []any{P, P}, "Sccuuu"},
		{"a lone keyframe is shown", []any{state, K}, []any{P}, "Suu"},
		{"nothing cached", []any{state}, []any{K, P}, "Suu"},
		{"a state between the units", []any{K, P, state, P}, nil, "ccSu"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cn := newConn(nil, media.Key{}, Options{QueueUnits: 100, QueueBytes: 1 << 20})
			feed := func(events []any) {
				for _, e := range events {
					switch e := e.(type) {
					case avc.AccessUnit:
						cn.OnAccessUnit(e)
					case media.State:
						cn.OnState(e)
					}
				}
			}
			feed(c.atJoin)
			cn.joined()
			feed(c.after)
			var got strings.Builder
			for _, it := range cn.take() {
				switch {
				case it.state != nil:
					got.WriteByte('S')
				case it.catchUp:
					got.WriteByte('c')
				default:
					got.WriteByte('u')
				}
			}
			if got.String() != c.want {
				t.Fatalf("queue %q, want %q", got.String(), c.want)
			}
		})
	}
}
