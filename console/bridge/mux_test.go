package bridge

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/qianliyan/qianliyan/relay/peer"
)

// muxView is a view's multiplexed socket, read message by message.
type muxView struct {
	t  *testing.T
	ws *websocket.Conn
}

// dialMux opens a multiplexed socket naming these channels in its address
// ("N:SITE/CAMERA:STREAM").
func (f *fixture) dialMux(t *testing.T, opens ...string) *muxView {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(f.url(url.Values{"token": {token}, "open": opens}.Encode()), http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	return &muxView{t: t, ws: ws}
}

func (v *muxView) send(text string) {
	v.t.Helper()
	if err := v.ws.WriteMessage(websocket.TextMessage, []byte(text)); err != nil {
		v.t.Fatalf("sending %s: %v", text, err)
	}
}

func (v *muxView) open(ch int, camera string) {
	v.t.Helper()
	v.send(fmt.Sprintf(`{"open":%d,"camera":%q,"stream":"sub"}`, ch, camera))
}

// muxMessage is a channel's message: an event, or a unit as on a socket of
// its own.
type muxMessage struct {
	ch int
	message
}

// read returns the next message; err is the socket's end.
func (v *muxView) read() (muxMessage, error) {
	v.t.Helper()
	_ = v.ws.SetReadDeadline(time.Now().Add(within))
	kind, b, err := v.ws.ReadMessage()
	if err != nil {
		return muxMessage{}, err
	}
	if kind == websocket.TextMessage {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			v.t.Fatalf("text message %q: %v", b, err)
		}
		ch, ok := m["ch"].(float64)
		if !ok {
			v.t.Fatalf("event %s without a channel", b)
		}
		return muxMessage{ch: int(ch), message: message{text: m}}, nil
	}
	if len(b) < 4+10 {
		v.t.Fatalf("binary message of %d bytes", len(b))
	}
	return muxMessage{ch: int(binary.BigEndian.Uint32(b)), message: message{flags: b[4], pts: time.Duration(binary.BigEndian.Uint64(b[5:13])) * time.Microsecond, data: b[13:]}}, nil
}

func (v *muxView) must() muxMessage {
	v.t.Helper()
	m, err := v.read()
	if err != nil {
		v.t.Fatalf("reading: %v", err)
	}
	return m
}

// untilClosed reads until channel ch's closed event.
func (v *muxView) untilClosed(ch int) map[string]any {
	v.t.Helper()
	for {
		if m := v.must(); m.ch == ch && m.text != nil && m.text["type"] == "closed" {
			return m.text
		}
	}
}

// TestMuxCarriesChannels: two cameras on one socket, each channel as a
// socket of its own would be (state and config before a first keyframe);
// closing one ends its pull and leaves the other playing.
func TestMuxCarriesChannels(t *testing.T) {
	f := setup(t)
	v := f.dialMux(t)
	type seen struct{ state, config, units int }
	got := map[int]*seen{1: {}, 2: {}}
	readUntil := func(what string, done func() bool) {
		t.Helper()
		for !done() {
			m := v.must()
			s := got[m.ch]
			if s == nil {
				t.Fatalf("message on channel %d, not open: %+v", m.ch, m)
			}
			switch {
			case m.text == nil:
				if s.units == 0 && (m.flags&1 == 0 || s.config == 0 || s.state == 0) {
					t.Fatalf("channel %d: first unit flags %x after %+v, want a keyframe after state and config", m.ch, m.flags, *s)
				}
				s.units++
			case m.text["type"] == "state":
				s.state++
			case m.text["type"] == "config":
				s.config++
			default:
				t.Fatalf("channel %d: event %v while %s", m.ch, m.text, what)
			}
		}
	}
	v.open(1, "site-01/doff1")
	readUntil("doff1 plays", func() bool { return got[1].units > 0 })
	v.open(2, "site-01/doff2")
	readUntil("both play", func() bool { return got[1].units > 3 && got[2].units > 0 })
	if n := len(f.relay.Sessions(t)); n != 2 {
		t.Fatalf("%d WHEP sessions for two channels, want 2", n)
	}

	v.send(`{"close":1}`)
	if s := f.relay.WaitEnded(t, 0); s.Camera != "doff1" || s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want doff1's ended by a DELETE when its channel closed", s)
	}
	// What channel 1 had sent before the close may still come; then only 2.
	delete(got, 1)
	for n := 0; n < 10; {
		if m := v.must(); m.ch == 2 && m.text == nil {
			n++
		}
	}
}

// TestMuxOpensNamedChannels: the channels the socket's address names play
// without an open message; later ones are opened by message, and a named
// one closes like any other.
func TestMuxOpensNamedChannels(t *testing.T) {
	f := setup(t)
	v := f.dialMux(t, "1:site-01/doff1:sub", "2:site-01/doff2:sub")
	units := map[int]int{}
	for units[1] == 0 || units[2] == 0 {
		m := v.must()
		if m.ch != 1 && m.ch != 2 {
			t.Fatalf("message on channel %d, not named", m.ch)
		}
		if m.text == nil {
			units[m.ch]++
		}
	}
	if n := len(f.relay.Sessions(t)); n != 2 {
		t.Fatalf("%d WHEP sessions for two named channels, want 2", n)
	}
	v.open(3, "site-01/doff1")
	for units[3] == 0 {
		if m := v.must(); m.text == nil {
			units[m.ch]++
		}
	}
	doff2 := -1
	for i, s := range f.relay.Sessions(t) {
		if s.Camera == "doff2" {
			doff2 = i
		}
	}
	v.send(`{"close":2}`)
	if s := f.relay.WaitEnded(t, doff2); s.Camera != "doff2" || s.EndReason != peer.ReasonDeleted {
		t.Fatalf("session %+v, want doff2's ended by a DELETE when its channel closed", s)
	}
}

// TestMuxRefusesBadNamedChannels: a channel the address names wrongly
// refuses the socket before the upgrade, with a JSON error naming it.
func TestMuxRefusesBadNamedChannels(t *testing.T) {
	f := setup(t)
	tooMany := make([]string, MaxChannels+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("%d:site-01/doff1:sub", i)
	}
	cases := []struct {
		name  string
		opens []string
		names string
	}{
		{"no separators", []string{"1"}, `open="1"`},
		{"channel not a number", []string{"x:site-01/doff1:sub"}, "x:site-01/doff1:sub"},
		{"negative channel", []string{"-1:site-01/doff1:sub"}, "-1:site-01/doff1:sub"},
		{"camera without site", []string{"1:doff1:sub"}, "want SITE/CAMERA"},
		{"bad stream", []string{"1:site-01/doff1:4k"}, "want main or sub"},
		{"channel named twice", []string{"1:site-01/doff1:sub", "1:site-01/doff2:sub"}, "named twice"},
		{"too many", tooMany, "at most 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(f.url(url.Values{"token": {token}, "open": c.opens}.Encode()), http.Header{"Origin": {origin}})
			if err == nil {
				ws.Close()
				t.Fatal("connection accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("got %v, want 400", resp)
			}
			b, _ := io.ReadAll(resp.Body)
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(b, &body); err != nil || body.Error.Code != "bad_request" || !strings.Contains(body.Error.Message, c.names) {
				t.Fatalf("body %s, want bad_request naming %q", b, c.names)
			}
		})
	}
	if n := len(f.relay.Sessions(t)); n != 0 {
		t.Fatalf("%d WHEP sessions after refused sockets, want none", n)
	}
}

// TestMuxRefusals: a control message the bridge cannot follow ends its
// channel with a closed event, the socket going on; garbage ends the socket.
func TestMuxRefusals(t *testing.T) {
	f := setup(t)
	channelCases := []struct {
		name, msg string
		ch        int
		code      int
	}{
		{"camera without site", `{"open":3,"camera":"doff1","stream":"sub"}`, 3, websocket.ClosePolicyViolation},
		{"camera with path tricks", `{"open":4,"camera":"site-01/../x","stream":"sub"}`, 4, websocket.ClosePolicyViolation},
		{"bad stream", `{"open":5,"camera":"site-01/doff1","stream":"4k"}`, 5, websocket.ClosePolicyViolation},
		{"channel open already", `{"open":1,"camera":"site-01/doff2","stream":"sub"}`, 1, websocket.ClosePolicyViolation},
	}
	v := f.dialMux(t)
	v.open(1, "site-01/doff1")
	for {
		if m := v.must(); m.ch == 1 && m.text == nil {
			break
		}
	}
	for _, c := range channelCases {
		t.Run(c.name, func(t *testing.T) {
			v.send(c.msg)
			ev := v.untilClosed(c.ch)
			if ev["code"] != float64(c.code) || ev["reason"] == "" {
				t.Fatalf("closed %v, want code %d with a reason", ev, c.code)
			}
		})
	}
	// Channel 1 plays on through all of that.
	for n := 0; n < 3; {
		if m := v.must(); m.ch == 1 && m.text == nil {
			n++
		}
	}

	socketCases := []struct {
		name string
		kind int
		msg  string
		code int
	}{
		{"not JSON", websocket.TextMessage, `hello`, websocket.ClosePolicyViolation},
		{"unknown field", websocket.TextMessage, `{"open":1,"camera":"site-01/doff1","stream":"sub","speed":2}`, websocket.ClosePolicyViolation},
		{"open and close", websocket.TextMessage, `{"open":1,"close":1}`, websocket.ClosePolicyViolation},
		{"neither", websocket.TextMessage, `{}`, websocket.ClosePolicyViolation},
		{"negative channel", websocket.TextMessage, `{"close":-1}`, websocket.ClosePolicyViolation},
		{"binary", websocket.BinaryMessage, `{"close":1}`, websocket.CloseUnsupportedData},
	}
	for _, c := range socketCases {
		t.Run(c.name, func(t *testing.T) {
			v := f.dialMux(t)
			if err := v.ws.WriteMessage(c.kind, []byte(c.msg)); err != nil {
				t.Fatal(err)
			}
			_, err := v.read()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != c.code || ce.Text == "" {
				t.Fatalf("got %v, want close %d with a reason", err, c.code)
			}
		})
	}
}

// TestMuxBoundsChannels: a view may hold MaxChannels open on a socket and
// no more; closing one makes room.
func TestMuxBoundsChannels(t *testing.T) {
	f := setup(t)
	v := f.dialMux(t)
	for ch := range MaxChannels {
		v.open(ch, "site-01/doff1")
	}
	v.open(MaxChannels, "site-01/doff1")
	if ev := v.untilClosed(MaxChannels); ev["code"] != float64(websocket.ClosePolicyViolation) {
		t.Fatalf("closed %v, want 1008", ev)
	}
	v.send(`{"close":0}`)
	v.open(MaxChannels+1, "site-01/doff1")
	for {
		m := v.must()
		if m.ch == MaxChannels+1 && m.text == nil {
			break
		}
		if m.ch == MaxChannels+1 && m.text["type"] == "closed" {
			t.Fatalf("channel refused after one closed: %v", m.text)
		}
	}
}

// TestMuxChannelRefusedBySources: a stream the console cannot subscribe to
// ends its channel with 1013, try again later.
func TestMuxChannelRefusedBySources(t *testing.T) {
	f := setup(t)
	v := f.dialMux(t)
	f.sources.Close()
	v.open(9, "site-01/doff1")
	if ev := v.untilClosed(9); ev["code"] != float64(websocket.CloseTryAgainLater) || ev["reason"] == "" {
		t.Fatalf("closed %v, want 1013 with a reason", ev)
	}
}

// TestMuxEndAll: the sign-in's end closes the whole socket with
// CloseSessionEnded and its reason, and ends every channel's pull.
func TestMuxEndAll(t *testing.T) {
	f := setup(t)
	v := f.dialMux(t)
	v.open(1, "site-01/doff1")
	v.open(2, "site-01/doff2")
	heard := map[int]bool{}
	for len(heard) < 2 {
		if m := v.must(); m.text == nil {
			heard[m.ch] = true
		}
	}
	f.bridge.EndAll("signed_out")
	for {
		_, err := v.read()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseSessionEnded || ce.Text != "signed_out" {
			t.Fatalf("got %v, want close %d signed_out", err, CloseSessionEnded)
		}
		break
	}
	for i := range 2 {
		if s := f.relay.WaitEnded(t, i); s.EndReason != peer.ReasonDeleted {
			t.Fatalf("session %+v, want it ended by a DELETE after the socket ended", s)
		}
	}
}
