// Package bridge is the loopback WebSocket that carries a camera's access
// units and state to the view (GET /ws/video, docs/PROTOCOLS.md). The view
// decodes with WebCodecs because the Linux webview has no RTCPeerConnection.
// A socket carries one stream (?camera=…) or, multiplexed, every stream of
// a view as numbered channels (mux.go): a browser opens the sockets to one
// address one at a time, which held a 16-tile wall's cold start for seconds.
// Each stream (connection or channel) starts at a keyframe, gets a config event before the
// first picture and whenever the SPS changes, and has its own bounded queue:
// a slow view loses pictures up to the next keyframe, never holds up the
// camera's other viewers.
package bridge

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/secret"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// Sources is where the bridge gets camera streams from.
type Sources interface {
	Subscribe(key media.Key, sub media.Subscriber) (unsubscribe func(), err error)
}

// Options configures a Handler.
type Options struct {
	Sources Sources
	// Secret is the per-launch secret every connection must present.
	Secret string
	// Origins are the page origins allowed to connect: "wails://wails" for
	// the window, the backend's own http://host:port for a browser.
	Origins []string
	// QueueUnits and QueueBytes bound each connection's queue (120 units,
	// 16 MB); beyond them it drops to the next keyframe.
	QueueUnits, QueueBytes int
	Log                    zerolog.Logger
}

const (
	writeTimeout = 10 * time.Second
	pingEvery    = 20 * time.Second
)

// CloseSessionEnded is the close code of connections ended by EndAll: the
// sign-in they were pulling under is over; the close reason says why.
const CloseSessionEnded = 4001

// Handler serves /ws/video.
type Handler struct {
	opts     Options
	upgrader websocket.Upgrader
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[*websocket.Conn]context.CancelCauseFunc
}

// New returns a bridge handler; Close ends its connections.
func New(opts Options) *Handler {
	if opts.QueueUnits <= 0 {
		opts.QueueUnits = 120
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = 16 << 20
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Handler{
		opts: opts,
		upgrader: websocket.Upgrader{
			// ServeHTTP has checked the origin against the allowed list
			// before upgrading, to answer a refusal in JSON.
			CheckOrigin:     func(*http.Request) bool { return true },
			WriteBufferSize: 64 << 10,
		},
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[*websocket.Conn]context.CancelCauseFunc),
	}
}

// sessionEnded is the cause with which EndAll ends a connection.
type sessionEnded struct{ reason string }

func (e sessionEnded) Error() string { return "session ended: " + e.reason }

// EndAll ends every open connection with CloseSessionEnded and reason
// ("signed_out", "session_expired"), leaving the handler serving new ones:
// the view's streams belong to a sign-in that is over.
func (h *Handler) EndAll(reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, cancel := range h.conns {
		cancel(sessionEnded{reason})
	}
}

// Close ends every connection (close code 1001) and waits for them.
func (h *Handler) Close() {
	h.cancel()
	h.wg.Wait()
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// parseCamera reads a camera "SITE/CAMERA" and a stream "main" or "sub"
// (main when empty).
func parseCamera(name, stream string) (media.Key, error) {
	site, camera, ok := strings.Cut(name, "/")
	if !ok || !idPattern.MatchString(site) || !idPattern.MatchString(camera) {
		return media.Key{}, fmt.Errorf("camera %q: want SITE/CAMERA", name)
	}
	switch stream {
	case "":
		stream = "main"
	case "main", "sub":
	default:
		return media.Key{}, fmt.Errorf("stream %q: want main or sub", stream)
	}
	return media.Key{Site: site, Camera: camera, Stream: stream}, nil
}

func (h *Handler) originAllowed(origin string) bool {
	for _, o := range h.opts.Origins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		httpapi.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "the video bridge takes GET with a WebSocket upgrade")
		return
	}
	if !secret.Matches(r, h.opts.Secret) {
		httpapi.WriteError(w, http.StatusUnauthorized, "unauthorized", "launch token missing or wrong")
		return
	}
	if origin := r.Header.Get("Origin"); !h.originAllowed(origin) {
		h.opts.Log.Warn().Str("origin", origin).Msg("refused video bridge connection from a foreign origin")
		httpapi.WriteError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("origin %q may not use the video bridge", origin))
		return
	}
	// Without camera and stream the socket is multiplexed: the view opens
	// its streams as channels on it (docs/PROTOCOLS.md).
	q := r.URL.Query()
	multiplexed := !q.Has("camera") && !q.Has("stream")
	var key media.Key
	var opens []opening
	var err error
	if multiplexed {
		opens, err = parseOpenings(q["open"])
	} else {
		key, err = parseCamera(q.Get("camera"), q.Get("stream"))
	}
	if err != nil {
		httpapi.WriteError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		httpapi.WriteError(w, http.StatusBadRequest, "bad_request", "the video bridge needs a WebSocket upgrade")
		return
	}
	if h.ctx.Err() != nil {
		httpapi.WriteError(w, http.StatusServiceUnavailable, "shutting_down", "the console is shutting down")
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has answered the client already.
		h.opts.Log.Debug().Err(err).Msg("WebSocket upgrade failed")
		return
	}
	h.wg.Add(1)
	defer h.wg.Done()
	defer ws.Close()
	// Registered before subscribing, so that EndAll reaches a connection
	// that got its source from the sign-in being ended.
	ctx, cancel := context.WithCancelCause(h.ctx)
	defer cancel(nil)
	h.mu.Lock()
	h.conns[ws] = cancel
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, ws)
		h.mu.Unlock()
	}()
	out := &wsWriter{ws: ws}
	if multiplexed {
		h.serveMux(ctx, out, opens)
	} else {
		h.serveOne(ctx, out, key)
	}
}

// serveOne carries one stream on the socket until either side ends it.
func (h *Handler) serveOne(parent context.Context, out *wsWriter, key media.Key) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	// The view sends nothing we need, but reading is how close frames and
	// a vanished peer are noticed.
	go func() {
		defer cancel()
		out.ws.SetReadLimit(4 << 10)
		for {
			if _, _, err := out.ws.NextReader(); err != nil {
				return
			}
		}
	}()
	go out.pingUntil(ctx, cancel)
	c := newConn(socketSink{out}, key, h.opts)
	err := c.run(ctx, h.opts.Sources)
	var refused subscribeError
	var ended sessionEnded
	switch {
	case errors.As(err, &refused):
		out.close(websocket.CloseTryAgainLater, closeReason(refused.Error()))
	case errors.As(context.Cause(parent), &ended):
		out.close(CloseSessionEnded, ended.reason)
	case parent.Err() != nil:
		out.close(websocket.CloseGoingAway, "console shutting down")
	case err != nil:
		c.log.Debug().Err(err).Msg("writing to view")
	}
}

// item is one queued message: an access unit or a state event.
type item struct {
	au    avc.AccessUnit
	state *media.State
	// catchUp: a unit of the picture the source held when the view joined
	// (its GOP so far), with a newer one of that picture behind it. The view
	// decodes it without showing it, so its first picture is the newest.
	catchUp bool
}

// Flags of a binary message's first byte (docs/PROTOCOLS.md).
const (
	flagKeyframe = 0x01
	flagCatchUp  = 0x02
)

// conn is one stream to a view: a socket of its own or a channel of a
// multiplexed one.
type conn struct {
	out  sink
	key  media.Key
	opts Options
	log  zerolog.Logger
	wake chan struct{}

	mu       sync.Mutex
	queue    []item
	units    int
	bytes    int
	waitKey  bool // dropping until a keyframe
	overflow int  // times the queue overflowed
}

func newConn(out sink, key media.Key, opts Options) *conn {
	return &conn{
		out: out, key: key, opts: opts,
		log:     opts.Log.With().Str("camera", key.String()).Logger(),
		wake:    make(chan struct{}, 1),
		waitKey: true, // start every connection at a keyframe
	}
}

// OnAccessUnit queues au; it never blocks the source.
func (c *conn) OnAccessUnit(au avc.AccessUnit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waitKey && !au.Keyframe {
		return
	}
	c.waitKey = false
	if c.units >= c.opts.QueueUnits || c.bytes+au.Size() > c.opts.QueueBytes {
		c.dropUnits()
		if !au.Keyframe {
			c.waitKey = true
			return
		}
	}
	c.queue = append(c.queue, item{au: au})
	c.units++
	c.bytes += au.Size()
	c.signal()
}

// OnState queues a state event. States are never dropped; a newer one
// replaces one still waiting at the tail.
func (c *conn) OnState(s media.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.queue); n > 0 && c.queue[n-1].state != nil {
		c.queue[n-1].state = &s
	} else {
		c.queue = append(c.queue, item{state: &s})
	}
	c.signal()
}

// dropUnits empties the queue of access units, keeping state events; it
// must be called with c.mu held.
func (c *conn) dropUnits() {
	kept := c.queue[:0]
	for _, it := range c.queue {
		if it.state != nil {
			kept = append(kept, it)
		}
	}
	clear(c.queue[len(kept):])
	c.queue, c.units, c.bytes = kept, 0, 0
	c.overflow++
	c.log.Debug().Int("overflows", c.overflow).Msg("view too slow; dropping to the next keyframe")
}

// joined marks what Subscribe handed over at once, the source's GOP so
// far, as catch-up, all but its newest unit. A unit that came live before
// joined ran is marked with the GOP, which only moves the first picture
// shown to the newest there is.
func (c *conn) joined() {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := -1
	for i, it := range c.queue {
		if it.state == nil {
			last = i
		}
	}
	for i := range last {
		if c.queue[i].state == nil {
			c.queue[i].catchUp = true
		}
	}
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) take() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue, c.units, c.bytes = nil, 0, 0
	return q
}

// subscribeError is why a stream could not start: the view may try again.
type subscribeError struct{ err error }

func (e subscribeError) Error() string { return e.err.Error() }
func (e subscribeError) Unwrap() error { return e.err }

// run subscribes to the stream and sends it until ctx ends (nil) or
// subscribing or a write fails.
func (c *conn) run(ctx context.Context, sources Sources) error {
	unsubscribe, err := sources.Subscribe(c.key, c)
	if err != nil {
		c.log.Info().Err(err).Msg("subscribing to camera stream")
		return subscribeError{fmt.Errorf("subscribing to %s: %w", c.key, err)}
	}
	defer unsubscribe()
	c.joined()
	c.log.Info().Msg("view connected")
	err = c.writeLoop(ctx)
	c.log.Info().Int("overflows", c.overflow).Msg("view disconnected")
	return err
}

// closeReason fits text into a close frame's 123 bytes, whole characters.
func closeReason(text string) string {
	if len(text) <= 123 {
		return text
	}
	cut := 120
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "..."
}

// configEvent and stateEvent are the JSON events of docs/PROTOCOLS.md.
type configEvent struct {
	Type string `json:"type"`
	avc.StreamInfo
}

type stateEvent struct {
	Type   string `json:"type"`
	State  string `json:"state"`
	Since  string `json:"since"`
	Reason string `json:"reason"`
}

func (c *conn) writeLoop(ctx context.Context) error {
	var sps []byte  // the SPS the view is configured for
	needKey := true // until a keyframe with a usable SPS went out
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.wake:
		}
		for _, it := range c.take() {
			if ctx.Err() != nil {
				return nil
			}
			if it.state != nil {
				s := it.state
				ev := stateEvent{Type: "state", State: string(s.State), Since: s.Since.UTC().Format(time.RFC3339), Reason: s.Reason}
				if err := c.out.event(ev); err != nil {
					return err
				}
				continue
			}
			au := it.au
			if au.Keyframe {
				if s, _ := au.ParamSets(); s != nil && !bytes.Equal(s, sps) {
					info, err := avc.ParseSPS(s)
					if err != nil {
						c.log.Warn().Err(err).Msg("unusable SPS; waiting for the next keyframe")
						needKey = true
						continue
					}
					if err := c.out.event(configEvent{Type: "config", StreamInfo: info}); err != nil {
						return err
					}
					sps = s
				}
				if sps != nil {
					needKey = false
				}
			}
			if needKey {
				continue
			}
			if err := c.writeUnit(au, it.catchUp); err != nil {
				return err
			}
		}
	}
}

// writeUnit sends a binary message: flags, PTS in µs (big-endian), Annex-B.
func (c *conn) writeUnit(au avc.AccessUnit, catchUp bool) error {
	data, err := au.AnnexB()
	if err != nil {
		c.log.Warn().Err(err).Msg("skipping access unit")
		return nil
	}
	var head [9]byte
	if au.Keyframe {
		head[0] |= flagKeyframe
	}
	if catchUp {
		head[0] |= flagCatchUp
	}
	binary.BigEndian.PutUint64(head[1:], uint64(max(au.PTS.Microseconds(), 0)))
	return c.out.unit(head[:], data)
}

// sink is where a stream's messages go: its own socket or its channel.
type sink interface {
	event(v any) error
	unit(head, data []byte) error
}

// wsWriter is a socket's sending side, shared by the streams on it: a
// WebSocket takes one message at a time.
type wsWriter struct {
	ws *websocket.Conn
	mu sync.Mutex
}

func (w *wsWriter) text(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := w.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("sending event: %w", err)
	}
	return nil
}

// binary sends parts as one binary message.
func (w *wsWriter) binary(parts ...[]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	mw, err := w.ws.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return fmt.Errorf("sending access unit: %w", err)
	}
	for _, p := range parts {
		if _, err = mw.Write(p); err != nil {
			break
		}
	}
	if cerr := mw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sending access unit: %w", err)
	}
	return nil
}

// pingUntil pings every pingEvery until ctx ends; a failed ping calls
// failed, since the peer is gone.
func (w *wsWriter) pingUntil(ctx context.Context, failed func()) {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// WriteControl may run beside the other writes.
			if err := w.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				failed()
				return
			}
		}
	}
}

func (w *wsWriter) close(code int, text string) {
	msg := websocket.FormatCloseMessage(code, text)
	_ = w.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// socketSink is a socket carrying one stream.
type socketSink struct{ w *wsWriter }

func (s socketSink) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	return s.w.text(b)
}

func (s socketSink) unit(head, data []byte) error { return s.w.binary(head, data) }
