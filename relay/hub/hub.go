// Package hub is the relay's stream registry. A stream (one camera's main or
// sub stream) has at most one source and any number of readers; the hub keeps
// the stream's last group of pictures so a reader that joins starts at once
// from a keyframe, then follows the live units. It knows nothing of HTTP, SDP
// or RTP: sources and readers are adapters around it (WHIP, RTSP, WHEP).
package hub

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// Stream names a camera has.
const (
	StreamMain = "main"
	StreamSub  = "sub"
)

// Key names one stream.
type Key struct {
	Site   string
	Camera string
	Stream string // StreamMain or StreamSub
}

func (k Key) String() string { return k.Site + "/" + k.Camera + "/" + k.Stream }

// Other returns the key of the camera's other stream (main ↔ sub).
func (k Key) Other() Key {
	if k.Stream == StreamSub {
		k.Stream = StreamMain
	} else {
		k.Stream = StreamSub
	}
	return k
}

// ErrAlreadyPublishing is returned by Publish when the stream has a source.
var ErrAlreadyPublishing = errors.New("stream already has a source")

// ErrClosed is returned by Publish, Subscribe and Reader.Read once the hub is closed.
var ErrClosed = errors.New("hub closed")

// Defaults for Config fields left zero.
const (
	DefaultReaderQueue = 120 // about 4 s at 30 fps
	DefaultMaxLag      = 2 * time.Second
	DefaultMaxGOP      = 1000 // units; longer GOPs are not cached
	DefaultStallAfter  = 2 * time.Second
	// DefaultKeyframeRequestInterval keeps fifty viewers joining at once
	// from asking a camera for fifty keyframes: one a second is plenty, as
	// every waiting reader starts from the same one.
	DefaultKeyframeRequestInterval = time.Second
	// RateWindow is how far back frame and bit rates look.
	RateWindow = 3 * time.Second
)

// Status is a stream's health.
type Status string

// The statuses of a stream (docs/PROTOCOLS.md).
const (
	StatusOnline  Status = "online"  // a source is attached and units arrive
	StatusStalled Status = "stalled" // a source is attached, but no unit for more than StallAfter
	StatusOffline Status = "offline" // no source
)

// Rank orders statuses from worst to best, for "the camera's best stream".
func (s Status) Rank() int {
	switch s {
	case StatusOnline:
		return 2
	case StatusStalled:
		return 1
	}
	return 0
}

// Config tunes a hub. Zero fields take the defaults.
type Config struct {
	// ReaderQueue is how many live units a reader may fall behind before
	// the hub drops units for it and skips to the next keyframe.
	ReaderQueue int
	// MaxLag is how far behind, in stream time, a reader may fall before
	// the same happens: a duty officer watching a doffing room needs what
	// happens now, and a queue of units is seconds long at one frame rate
	// and minutes at another. Zero takes DefaultMaxLag.
	MaxLag time.Duration
	// MaxGOP caps the cached group of pictures. A source whose GOP grows
	// past it (a camera that never sends keyframes) is not cached: new
	// readers then wait for its next keyframe.
	MaxGOP int
	// StallAfter is how long a stream with a source may go without a unit
	// before it is stalled.
	StallAfter time.Duration
	// KeyframeRequestInterval is the least time between two keyframe
	// requests passed on to a stream's source.
	KeyframeRequestInterval time.Duration
	// Now is the clock (time.Now when nil); tests inject their own.
	Now func() time.Time
}

// Hub holds every stream of the relay.
type Hub struct {
	cfg Config

	mu      sync.Mutex
	streams map[Key]*stream
	closed  bool
}

// New returns an empty hub.
func New(cfg Config) *Hub {
	if cfg.ReaderQueue <= 0 {
		cfg.ReaderQueue = DefaultReaderQueue
	}
	if cfg.MaxLag <= 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.MaxGOP <= 0 {
		cfg.MaxGOP = DefaultMaxGOP
	}
	if cfg.StallAfter <= 0 {
		cfg.StallAfter = DefaultStallAfter
	}
	if cfg.KeyframeRequestInterval <= 0 {
		cfg.KeyframeRequestInterval = DefaultKeyframeRequestInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Hub{cfg: cfg, streams: make(map[Key]*stream)}
}

// streamLocked returns the stream for key, creating it; h.mu must be held.
func (h *Hub) streamLocked(key Key) *stream {
	s, ok := h.streams[key]
	if !ok {
		s = &stream{key: key, hub: h, readers: make(map[*leg]struct{}), since: h.cfg.Now()}
		h.streams[key] = s
	}
	return s
}

// Publish makes the caller the source of the stream. It fails with
// ErrAlreadyPublishing while another source is attached.
func (h *Hub) Publish(key Key) (*Source, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	s := h.streamLocked(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.source != nil {
		return nil, fmt.Errorf("publishing %s: %w", key, ErrAlreadyPublishing)
	}
	src := &Source{stream: s}
	s.source = src
	s.since = h.cfg.Now()
	s.flowingSince = s.since
	s.sps, s.pps = nil, nil
	s.rebase = true
	s.samples.reset()
	s.firstFrame = time.Time{}
	s.lastKeyPTS, s.keyInterval, s.seenKey = 0, 0, false
	return src, nil
}

// Subscribe adds a reader to the stream. The reader first gets the cached
// GOP (keyframe first, carrying SPS and PPS), then live units. A reader may
// subscribe to a stream that has no source: it waits for one. When the
// stream has a source but no cached keyframe, the source is asked for one.
//
// A stalled stream's cached GOP is held back until its source sends again,
// and then handed over with the new unit: given at once, it would pass for
// live video what the camera sent before it froze, and a viewer that asks
// again and again (as the console does after seconds of silence) would see
// the same second and a half over and over. Held back rather than dropped,
// it still lets the reader decode the source's first units after the
// freeze, which belong to the same GOP.
func (h *Hub) Subscribe(key Key) (*Reader, error) {
	return h.subscribe(key, key)
}

// SubscribeUntil adds a reader to stream key in place of stream want (the
// camera's other stream, which has no source now), and moves it to want at
// want's first keyframe: a viewer served the main stream because the sub
// stream it asked for was not back yet (after a relay restart, say) gets
// the sub stream once it returns. Units of key still queued then are
// dropped: the next unit is want's keyframe. When want has a source
// already, or key is want, it is Subscribe(want).
func (h *Hub) SubscribeUntil(key, want Key) (*Reader, error) {
	return h.subscribe(key, want)
}

func (h *Hub) subscribe(key, want Key) (*Reader, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	r := &Reader{notify: make(chan struct{}, 1)}
	if key != want {
		ws := h.streamLocked(want)
		ws.mu.Lock()
		if ws.source != nil {
			key = want
		} else {
			r.next = ws.subscribeLocked(r)
		}
		ws.mu.Unlock()
	}
	s := h.streamLocked(key)
	s.mu.Lock()
	r.leg = s.subscribeLocked(r)
	var ask func()
	if len(s.gop) == 0 {
		ask = s.keyframeRequestLocked()
	}
	s.mu.Unlock()
	h.mu.Unlock()
	if ask != nil {
		ask()
	}
	return r, nil
}

// subscribeLocked adds a leg of r to the stream; s.mu must be held.
func (s *stream) subscribeLocked(r *Reader) *leg {
	h := s.hub
	l := &leg{
		stream:   s,
		reader:   r,
		limit:    h.cfg.ReaderQueue,
		maxLag:   h.cfg.MaxLag,
		skipping: len(s.gop) == 0,
	}
	switch {
	case len(s.gop) == 0:
	case s.stalledLocked(h.cfg.Now()):
		l.held = true
	default:
		l.give(s.gop)
	}
	s.readers[l] = struct{}{}
	return l
}

// keyframeRequestLocked returns the source's keyframe request to make now,
// or nil when there is no source, it cannot be asked, or it was asked less
// than KeyframeRequestInterval ago; s.mu must be held.
func (s *stream) keyframeRequestLocked() func() {
	if s.source == nil || s.source.requestKeyframe == nil {
		return nil
	}
	now := s.hub.cfg.Now()
	if !s.lastKeyRequest.IsZero() && now.Sub(s.lastKeyRequest) < s.hub.cfg.KeyframeRequestInterval {
		s.keyRequestsLimited++
		return nil
	}
	s.lastKeyRequest = now
	s.keyRequests++
	return s.source.requestKeyframe
}

// Online reports whether the stream has a source.
func (h *Hub) Online(key Key) bool {
	h.mu.Lock()
	s, ok := h.streams[key]
	h.mu.Unlock()
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.source != nil
}

// State is what the hub knows of one stream, for health and the camera list.
type State struct {
	Key Key
	// Online reports whether a source is attached (Status online or stalled).
	Online bool
	// Since is when the stream last went online or offline.
	Since time.Time
	// Status is the stream's health now, and StatusSince when it began:
	// for stalled, when the last unit arrived (or the source attached, if
	// none has since).
	Status      Status
	StatusSince time.Time
	// LastFrame is when the last unit arrived; zero if none has.
	LastFrame time.Time
	// Info is the stream's codec and size from its latest SPS; zero until one arrived.
	Info    avc.StreamInfo
	Readers int
	Frames  uint64
	Bytes   uint64
	// Drops counts units not delivered to slow readers, over all readers ever.
	Drops uint64
	// FPS and Bitrate (bits per second) are measured over the last
	// RateWindow of the current source; zero without one.
	FPS, Bitrate float64
	// KeyframeInterval is the time between the source's last two
	// keyframes; zero until it has sent two.
	KeyframeInterval time.Duration
	// KeyframeRequests counts requests passed on to sources, and
	// KeyframeRequestsLimited those held back by the rate limit.
	KeyframeRequests, KeyframeRequestsLimited uint64
}

// State returns the state of one stream; ok is false if the hub has never
// seen it.
func (h *Hub) State(key Key) (st State, ok bool) {
	h.mu.Lock()
	s, ok := h.streams[key]
	h.mu.Unlock()
	if !ok {
		return State{Key: key}, false
	}
	return s.state(), true
}

// States returns the state of every stream, ordered by key.
func (h *Hub) States() []State {
	h.mu.Lock()
	streams := make([]*stream, 0, len(h.streams))
	for _, s := range h.streams {
		streams = append(streams, s)
	}
	h.mu.Unlock()
	out := make([]State, 0, len(streams))
	for _, s := range streams {
		out = append(out, s.state())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key.String() < out[j].Key.String() })
	return out
}

// Close detaches every source and reader; readers' Read returns ErrClosed.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	streams := h.streams
	h.streams = make(map[Key]*stream)
	h.mu.Unlock()
	for _, s := range streams {
		s.mu.Lock()
		if s.source != nil {
			s.source.closed = true
			s.source = nil
		}
		readers := s.readers
		s.readers = make(map[*leg]struct{})
		s.mu.Unlock()
		for l := range readers {
			l.close()
		}
	}
}

type stream struct {
	key Key
	hub *Hub

	mu      sync.Mutex
	source  *Source
	readers map[*leg]struct{}
	since   time.Time

	// gop is the last group of pictures, keyframe first; empty when there
	// is none to hand out (no keyframe yet, or the GOP outgrew MaxGOP).
	gop      []avc.AccessUnit
	gopValid bool
	sps, pps []byte
	info     avc.StreamInfo

	// flowingSince is when units began arriving after the source attached
	// or after a stall.
	flowingSince time.Time
	firstFrame   time.Time // of the current source
	samples      rateSamples
	lastKeyPTS   time.Duration
	keyInterval  time.Duration
	seenKey      bool

	lastKeyRequest                  time.Time
	keyRequests, keyRequestsLimited uint64

	// The hub keeps a stream's presentation times increasing across
	// sources, so a reader that outlives a source change sees no jump back.
	rebase    bool
	ptsOffset time.Duration
	lastPTS   time.Duration
	lastStep  time.Duration
	sentAny   bool

	lastFrame            time.Time
	frames, bytes, drops uint64
}

func (s *stream) state() State {
	now := s.hub.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{
		Key:                     s.key,
		Online:                  s.source != nil,
		Since:                   s.since,
		LastFrame:               s.lastFrame,
		Info:                    s.info,
		Readers:                 len(s.readers),
		Frames:                  s.frames,
		Bytes:                   s.bytes,
		Drops:                   s.drops,
		KeyframeRequests:        s.keyRequests,
		KeyframeRequestsLimited: s.keyRequestsLimited,
	}
	if s.source == nil {
		st.Status, st.StatusSince = StatusOffline, s.since
		return st
	}
	st.KeyframeInterval = s.keyInterval
	if s.stalledLocked(now) {
		st.Status, st.StatusSince = StatusStalled, s.lastActivityLocked()
		return st
	}
	st.Status, st.StatusSince = StatusOnline, s.flowingSince
	if !s.firstFrame.IsZero() {
		// Over the window, or since the source's first unit when it is
		// younger; a second at least, so one unit does not make a rate.
		span := min(max(now.Sub(s.firstFrame), time.Second), RateWindow)
		n, bytes := s.samples.since(now.Add(-span))
		st.FPS = float64(n) / span.Seconds()
		st.Bitrate = float64(bytes*8) / span.Seconds()
	}
	return st
}

// lastActivityLocked is when the current source last sent a unit, or
// attached if it has sent none: a source that never sends stalls too.
func (s *stream) lastActivityLocked() time.Time {
	if s.firstFrame.IsZero() {
		return s.since
	}
	return s.lastFrame
}

// stalledLocked reports whether the stream's source has sent nothing for
// longer than StallAfter; s.mu must be held.
func (s *stream) stalledLocked(now time.Time) bool {
	return s.source != nil && now.Sub(s.lastActivityLocked()) > s.hub.cfg.StallAfter
}

// writeLocked takes one unit from the source; s.mu must be held.
func (s *stream) writeLocked(au avc.AccessUnit) {
	now := s.hub.cfg.Now()
	s.frames++
	s.bytes += uint64(au.Size())
	if s.stalledLocked(now) {
		s.flowingSince = now // the first unit after a stall
	}
	if s.firstFrame.IsZero() {
		s.firstFrame = now
	}
	s.lastFrame = now
	s.samples.add(now, au.Size())

	if sps, pps := au.ParamSets(); sps != nil || pps != nil {
		if sps != nil && string(sps) != string(s.sps) {
			s.sps = sps
			if info, err := avc.ParseSPS(sps); err == nil {
				s.info = info
			}
		}
		if pps != nil {
			s.pps = pps
		}
	}

	if s.rebase {
		s.rebase = false
		if s.sentAny {
			step := s.lastStep
			if step <= 0 || step > time.Second {
				step = 33 * time.Millisecond
			}
			s.ptsOffset = s.lastPTS + step - au.PTS
		} else {
			s.ptsOffset = 0
		}
	}
	au.PTS += s.ptsOffset
	if s.sentAny {
		s.lastStep = au.PTS - s.lastPTS
	}
	s.lastPTS, s.sentAny = au.PTS, true

	if au.Keyframe {
		if s.seenKey {
			s.keyInterval = au.PTS - s.lastKeyPTS
		}
		s.lastKeyPTS, s.seenKey = au.PTS, true
		// A decoder joining here needs the parameter sets even when the
		// camera sent them only once.
		au = au.WithParamSets(s.sps, s.pps)
		s.gop = append(s.gop[:0:0], au)
		s.gopValid = true
	} else if s.gopValid {
		if len(s.gop) >= s.hub.cfg.MaxGOP {
			s.gop, s.gopValid = nil, false
		} else {
			s.gop = append(s.gop, au)
		}
	}

	var gop []avc.AccessUnit // ends with au when valid
	if s.gopValid {
		gop = s.gop
	}
	for l := range s.readers {
		s.drops += l.push(au, gop)
	}
}

// Source feeds one stream. Only one source is attached to a stream at a time.
type Source struct {
	stream *stream
	// Guarded by stream.mu.
	closed          bool
	requestKeyframe func()
}

// OnKeyframeRequest sets how readers' keyframe requests reach the source
// (a WebRTC publisher gets a PLI). The hub rate-limits them per stream and
// calls fn without holding its locks; fn must not block. Sources that
// cannot be asked (RTSP cameras) leave it unset.
func (src *Source) OnKeyframeRequest(fn func()) {
	s := src.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	src.requestKeyframe = fn
}

// Write hands one access unit to the stream. Readers share the unit's NAL
// unit bytes, so the caller must not modify them afterwards. Write never
// blocks on readers.
func (src *Source) Write(au avc.AccessUnit) {
	if len(au.NALUs) == 0 {
		return
	}
	s := src.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if src.closed {
		return
	}
	s.writeLocked(au)
}

// Close detaches the source: the stream goes offline, its cached GOP is
// forgotten (a new source starts from its own keyframe), and its readers
// stay, waiting for the next source's keyframe. Close is idempotent.
func (src *Source) Close() {
	s := src.stream
	s.mu.Lock()
	defer s.mu.Unlock()
	if src.closed {
		return
	}
	src.closed = true
	if s.source != src {
		return
	}
	s.source = nil
	s.since = s.hub.cfg.Now()
	s.gop, s.gopValid = nil, false
	s.rebase = true
	for l := range s.readers {
		l.waitKeyframe()
	}
}

// Key returns the stream the source feeds.
func (src *Source) Key() Key { return src.stream.key }

// Reader follows one stream (two for a moment: see SubscribeUntil). Its
// queue is bounded: when the reader falls ReaderQueue units or MaxLag
// behind, the hub drops units for it and resumes at the next keyframe, so
// the reader never gets a GOP with a hole in it and never slows the source
// or other readers.
type Reader struct {
	notify chan struct{} // signalled by its legs

	mu      sync.Mutex
	leg     *leg // the stream read now
	next    *leg // the stream asked for, until its first keyframe; nil when leg is it
	dropped uint64

	// Presentation times go on increasing when the reader moves to the
	// other stream, whose clock is its own: what reads it (a WHEP
	// session's packetizer) sees one stream. Guarded by mu.
	moved            bool
	offset           time.Duration
	lastPTS, lastGap time.Duration
	readAny          bool
}

// leg is a reader's queue on one stream.
type leg struct {
	stream *stream
	reader *Reader
	limit  int
	maxLag time.Duration

	mu       sync.Mutex
	queue    []avc.AccessUnit
	extra    int  // cached units still queued, allowed on top of limit
	skipping bool // dropping until the next keyframe
	// held is set while the reader waits for a stalled stream's source to
	// send again, to be given the cached GOP with that unit.
	held bool
	// overflowed is set while skipping because the reader fell behind
	// (rather than waiting for a first keyframe).
	overflowed bool
	dropped    uint64
	closed     bool
}

// give queues a cached GOP; l.mu must be held or l not yet shared.
func (l *leg) give(gop []avc.AccessUnit) {
	l.queue = append(make([]avc.AccessUnit, 0, len(gop)+8), gop...)
	// The cached GOP goes in whole, beyond the live limit: cut short, it
	// would not decode.
	l.extra = len(gop)
	l.skipping = false
	l.reader.signal()
}

// push queues one unit and returns how many units it dropped doing so. gop
// is the stream's cached GOP, ending with au, or nil when there is none.
func (l *leg) push(au avc.AccessUnit, gop []avc.AccessUnit) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0
	}
	if l.held {
		l.held = false
		if len(gop) > 0 {
			l.give(gop)
			return 0
		}
		l.skipping = true
	}
	var dropped uint64
	if l.skipping {
		if !au.Keyframe {
			// Units passing while the reader waits for its first keyframe
			// (or for a new source's) were never its to lose.
			if l.overflowed {
				l.dropped++
				return 1
			}
			return 0
		}
		if l.overflowed {
			// Resume at the keyframe; whatever is still queued is stale,
			// and a decoder may jump from any unit to a keyframe.
			dropped = uint64(len(l.queue))
			l.queue = l.queue[:0]
			l.extra = 0
		}
		l.skipping, l.overflowed = false, false
	} else if len(l.queue) >= l.limit+l.extra || l.laggingLocked(au) {
		l.skipping, l.overflowed = true, true
		l.dropped++
		return 1
	}
	l.dropped += dropped
	l.queue = append(l.queue, au)
	l.reader.signal()
	return dropped
}

// laggingLocked reports whether au comes more than maxLag after the oldest
// live unit still queued. The cached GOP a reader starts with does not
// count: it is sent in a burst. A stream whose clock went back (a new
// source) is not lagging.
func (l *leg) laggingLocked(au avc.AccessUnit) bool {
	if len(l.queue) <= l.extra {
		return false
	}
	return au.PTS-l.queue[l.extra].PTS > l.maxLag
}

// waitKeyframe makes the leg skip until a keyframe (its source left).
func (l *leg) waitKeyframe() {
	l.mu.Lock()
	l.skipping, l.held = true, false
	l.mu.Unlock()
}

// pop takes the next queued unit; closed is set once the leg is closed.
func (l *leg) pop() (au avc.AccessUnit, ok, closed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return avc.AccessUnit{}, false, true
	}
	if len(l.queue) == 0 {
		return avc.AccessUnit{}, false, false
	}
	au = l.queue[0]
	l.queue[0] = avc.AccessUnit{}
	l.queue = l.queue[1:]
	if l.extra > 0 {
		l.extra--
	}
	return au, true, false
}

// ready reports whether the leg has a unit queued.
func (l *leg) ready() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) > 0
}

// leave removes the leg from its stream and closes it.
func (l *leg) leave() {
	s := l.stream
	s.mu.Lock()
	delete(s.readers, l)
	s.mu.Unlock()
	l.close()
}

func (l *leg) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.queue = nil
	l.mu.Unlock()
	l.reader.signal()
}

func (r *Reader) signal() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// current returns the leg to read, first moving to the stream asked for if
// its first keyframe has come.
func (r *Reader) current() *leg {
	r.mu.Lock()
	next, old := r.next, r.leg
	if next == nil || !next.ready() {
		r.mu.Unlock()
		return old
	}
	r.leg, r.next = next, nil
	r.moved = true
	old.mu.Lock()
	r.dropped += old.dropped
	old.mu.Unlock()
	r.mu.Unlock()
	old.leave()
	return next
}

// stamp puts au on the reader's clock.
func (r *Reader) stamp(au avc.AccessUnit) avc.AccessUnit {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.moved {
		r.moved = false
		gap := r.lastGap
		if gap <= 0 || gap > time.Second {
			gap = 33 * time.Millisecond
		}
		r.offset = r.lastPTS + gap - au.PTS
	}
	au.PTS += r.offset
	if r.readAny {
		r.lastGap = au.PTS - r.lastPTS
	}
	r.lastPTS, r.readAny = au.PTS, true
	return au
}

// Read returns the next unit, waiting for one until ctx is done or the
// reader is closed (ErrClosed). The returned unit shares its bytes with
// other readers: do not modify it.
func (r *Reader) Read(ctx context.Context) (avc.AccessUnit, error) {
	for {
		au, ok, closed := r.current().pop()
		if closed {
			return avc.AccessUnit{}, ErrClosed
		}
		if ok {
			return r.stamp(au), nil
		}
		select {
		case <-r.notify:
		case <-ctx.Done():
			return avc.AccessUnit{}, ctx.Err()
		}
	}
}

// Dropped returns how many units this reader lost to overflow.
func (r *Reader) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leg.mu.Lock()
	defer r.leg.mu.Unlock()
	return r.dropped + r.leg.dropped
}

// Key returns the stream the reader follows now.
func (r *Reader) Key() Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leg.stream.key
}

// RequestKeyframe asks the source of the stream the reader follows for a
// keyframe on behalf of the reader (a viewer lost one). It reports whether
// the request was passed on: not when the stream has no source that can
// be asked, or the source was asked less than KeyframeRequestInterval ago.
func (r *Reader) RequestKeyframe() bool {
	r.mu.Lock()
	s := r.leg.stream
	r.mu.Unlock()
	s.mu.Lock()
	ask := s.keyframeRequestLocked()
	s.mu.Unlock()
	if ask == nil {
		return false
	}
	ask()
	return true
}

// Close removes the reader from its streams. Close is idempotent.
func (r *Reader) Close() {
	r.mu.Lock()
	l, next := r.leg, r.next
	r.next = nil
	r.mu.Unlock()
	l.leave()
	if next != nil {
		next.leave()
	}
}

// rateSamples remembers the arrival time and size of recent units, enough
// for RateWindow at the frame rates cameras send.
type rateSamples struct {
	at   [512]time.Time
	size [512]int
	next int
	n    int
}

func (r *rateSamples) reset() { r.next, r.n = 0, 0 }

func (r *rateSamples) add(t time.Time, size int) {
	r.at[r.next], r.size[r.next] = t, size
	r.next = (r.next + 1) % len(r.at)
	r.n = min(r.n+1, len(r.at))
}

// since counts the units, and their bytes, that arrived at t or later.
func (r *rateSamples) since(t time.Time) (n int, bytes int) {
	for i := 1; i <= r.n; i++ {
		j := (r.next - i + len(r.at)) % len(r.at)
		if r.at[j].Before(t) {
			break
		}
		n++
		bytes += r.size[j]
	}
	return n, bytes
}
