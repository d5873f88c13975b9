package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// MaxChannels bounds the streams one multiplexed socket may hold open, so
// that a view cannot make the console pull every camera there is (a
// 25-tile wall with its warm neighbours and a focus view stays well under).
const MaxChannels = 64

// Close codes of a channel's "closed" event besides 1013 (try again later,
// subscribing failed) and of a socket closed for garbage.
const (
	closePolicy      = websocket.ClosePolicyViolation // a control message the bridge cannot follow
	closeUnsupported = websocket.CloseUnsupportedData // a binary message from the view
)

// control is a message from the view on a multiplexed socket:
// {"open":N,"camera":"SITE/CAMERA","stream":"sub"} or {"close":N}.
type control struct {
	Open   *uint32 `json:"open"`
	Close  *uint32 `json:"close"`
	Camera string  `json:"camera"`
	Stream string  `json:"stream"`
}

// opening is a channel the socket's address names ("open=N:SITE/CAMERA:STREAM"):
// the bridge starts it at the handshake, before the view could send its
// open message (a page busy with its first render answers its socket's
// open event late).
type opening struct {
	ch             uint32
	camera, stream string
}

// parseOpenings reads the address's channels; a malformed one refuses the
// socket before it is upgraded.
func parseOpenings(values []string) ([]opening, error) {
	if len(values) > MaxChannels {
		return nil, fmt.Errorf("%d channels named in the address: at most %d per socket", len(values), MaxChannels)
	}
	opens := make([]opening, 0, len(values))
	seen := make(map[uint32]bool, len(values))
	for _, v := range values {
		n, rest, ok := strings.Cut(v, ":")
		camera, stream, ok2 := strings.Cut(rest, ":")
		ch, err := strconv.ParseUint(n, 10, 32)
		if !ok || !ok2 || err != nil {
			return nil, fmt.Errorf("open=%q: want N:SITE/CAMERA:STREAM", v)
		}
		if _, err := parseCamera(camera, stream); err != nil {
			return nil, fmt.Errorf("open=%q: %w", v, err)
		}
		if seen[uint32(ch)] {
			return nil, fmt.Errorf("open=%q: channel %d is named twice", v, ch)
		}
		seen[uint32(ch)] = true
		opens = append(opens, opening{ch: uint32(ch), camera: camera, stream: stream})
	}
	return opens, nil
}

// closedEvent ends one channel; the socket and its other channels go on.
type closedEvent struct {
	Type   string `json:"type"`
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// muxSocket is one multiplexed socket and its open channels.
type muxSocket struct {
	h      *Handler
	out    *wsWriter
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	channels map[uint32]context.CancelFunc
}

// serveMux opens the channels the address named, then reads the view's
// control messages and runs a stream per open channel until the view
// leaves, sends garbage, or parent ends.
func (h *Handler) serveMux(parent context.Context, out *wsWriter, opens []opening) {
	ctx, cancel := context.WithCancel(parent)
	m := &muxSocket{h: h, out: out, ctx: ctx, cancel: cancel, channels: make(map[uint32]context.CancelFunc)}
	log := h.opts.Log.With().Str("socket", "mux").Logger()
	log.Info().Int("channels", len(opens)).Msg("view connected")
	for _, o := range opens {
		m.open(o.ch, o.camera, o.stream)
	}
	go out.pingUntil(ctx, cancel)
	done := make(chan struct{})
	var refusal *websocket.CloseError
	go func() {
		defer close(done)
		defer cancel()
		refusal = m.read()
	}()
	<-ctx.Done()
	// The channels end before the socket is closed, so that none writes
	// after the close frame.
	m.wg.Wait()
	var ended sessionEnded
	switch {
	case errors.As(context.Cause(parent), &ended):
		out.close(CloseSessionEnded, ended.reason)
	case parent.Err() != nil:
		out.close(websocket.CloseGoingAway, "console shutting down")
	default:
		// Ended by read (the view left or broke the protocol) or by a
		// failed write, when read may still be waiting.
		select {
		case <-done:
			if refusal != nil {
				log.Info().Int("code", refusal.Code).Str("reason", refusal.Text).Msg("closing a view's socket that broke the protocol")
				out.close(refusal.Code, refusal.Text)
			}
		default:
		}
	}
	// Unblocks read if it is still waiting.
	_ = out.ws.Close()
	<-done
	log.Info().Msg("view disconnected")
}

// read follows the view's control messages until the socket fails (nil)
// or the view breaks the protocol (how to close the socket).
func (m *muxSocket) read() *websocket.CloseError {
	m.out.ws.SetReadLimit(4 << 10)
	for {
		kind, b, err := m.out.ws.ReadMessage()
		if err != nil {
			return nil
		}
		if kind != websocket.TextMessage {
			return &websocket.CloseError{Code: closeUnsupported, Text: "the view sends only text control messages"}
		}
		var c control
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil || d.More() {
			return &websocket.CloseError{Code: closePolicy, Text: closeReason(fmt.Sprintf("control message %q: want {\"open\":N,…} or {\"close\":N}", b))}
		}
		switch {
		case c.Open != nil && c.Close == nil:
			m.open(*c.Open, c.Camera, c.Stream)
		case c.Close != nil && c.Open == nil && c.Camera == "" && c.Stream == "":
			m.closeChannel(*c.Close)
		default:
			return &websocket.CloseError{Code: closePolicy, Text: closeReason(fmt.Sprintf("control message %q: want {\"open\":N,…} or {\"close\":N}", b))}
		}
	}
}

// open starts a stream on channel ch, or answers why not with its closed
// event.
func (m *muxSocket) open(ch uint32, camera, stream string) {
	key, err := parseCamera(camera, stream)
	if err != nil {
		m.closed(ch, closePolicy, err.Error())
		return
	}
	m.mu.Lock()
	if _, taken := m.channels[ch]; taken {
		m.mu.Unlock()
		m.closed(ch, closePolicy, fmt.Sprintf("channel %d is open already", ch))
		return
	}
	if len(m.channels) >= MaxChannels {
		m.mu.Unlock()
		m.closed(ch, closePolicy, fmt.Sprintf("at most %d channels per socket", MaxChannels))
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	m.channels[ch] = cancel
	m.wg.Add(1)
	m.mu.Unlock()
	c := newConn(channelSink{w: m.out, ch: ch}, key, m.h.opts)
	c.log = c.log.With().Uint32("ch", ch).Logger()
	go func() {
		defer m.wg.Done()
		defer cancel()
		err := c.run(ctx, m.h.opts.Sources)
		m.mu.Lock()
		ours := m.channels[ch] != nil && ctx.Err() == nil
		if ours {
			delete(m.channels, ch)
		}
		m.mu.Unlock()
		var refused subscribeError
		switch {
		case errors.As(err, &refused) && ours:
			m.closed(ch, websocket.CloseTryAgainLater, refused.Error())
		case err != nil && !errors.As(err, &refused):
			// A write failed: the socket is gone for every channel.
			c.log.Debug().Err(err).Msg("writing to view")
			m.cancel()
		}
	}()
}

// closeChannel ends the view's channel ch; an unknown one is let be, since
// it may have ended on its own while the view asked.
func (m *muxSocket) closeChannel(ch uint32) {
	m.mu.Lock()
	cancel := m.channels[ch]
	delete(m.channels, ch)
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (m *muxSocket) closed(ch uint32, code int, reason string) {
	if err := (channelSink{w: m.out, ch: ch}).event(closedEvent{Type: "closed", Code: code, Reason: closeReason(reason)}); err != nil {
		m.cancel()
	}
}

// channelSink is one channel of a multiplexed socket: a 4-byte big-endian
// channel number before each unit, "ch" in each event.
type channelSink struct {
	w  *wsWriter
	ch uint32
}

func (s channelSink) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if !bytes.HasPrefix(b, []byte(`{"`)) {
		return fmt.Errorf("encoding event: %T is not a JSON object", v)
	}
	b = append(strconv.AppendUint([]byte(`{"ch":`), uint64(s.ch), 10), append([]byte{','}, b[1:]...)...)
	return s.w.text(b)
}

func (s channelSink) unit(head, data []byte) error {
	var ch [4]byte
	binary.BigEndian.PutUint32(ch[:], s.ch)
	return s.w.binary(ch[:], head, data)
}
