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
	DefaultReaderQueue = 120  // about 4 s at 30 fps
	DefaultMaxGOP      = 1000 // units; longer GOPs are not cached
)

// Config tunes a hub. Zero fields take the defaults.
type Config struct {
	// ReaderQueue is how many live units a reader may fall behind before
	// the hub drops units for it and skips to the next keyframe.
	ReaderQueue int
	// MaxGOP caps the cached group of pictures. A source whose GOP grows
	// past it (a camera that never sends keyframes) is not cached: new
	// readers then wait for its next keyframe.
	MaxGOP int
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
	if cfg.MaxGOP <= 0 {
		cfg.MaxGOP = DefaultMaxGOP
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
		s = &stream{key: key, hub: h, readers: make(map[*Reader]struct{}), since: h.cfg.Now()}
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
	s.sps, s.pps = nil, nil
	s.rebase = true
	return src, nil
}

// Subscribe adds a reader to the stream. The reader first gets the cached
// GOP (keyframe first, carrying SPS and PPS), then live units. A reader may
// subscribe to a stream that has no source: it waits for one.
func (h *Hub) Subscribe(key Key) (*Reader, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	s := h.streamLocked(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &Reader{
		stream:   s,
		limit:    h.cfg.ReaderQueue,
		notify:   make(chan struct{}, 1),
		done:     make(chan struct{}),
		skipping: len(s.gop) == 0,
		// The cached GOP goes in whole, beyond the live limit: cut short,
		// it would not decode.
		extra: len(s.gop),
	}
	r.queue = append(make([]avc.AccessUnit, 0, len(s.gop)+8), s.gop...)
	if len(r.queue) > 0 {
		r.signal()
	}
	s.readers[r] = struct{}{}
	return r, nil
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
	Key    Key
	Online bool
	// Since is when the stream last went online or offline.
	Since time.Time
	// LastFrame is when the last unit arrived; zero if none has.
	LastFrame time.Time
	// Info is the stream's codec and size from its latest SPS; zero until one arrived.
	Info    avc.StreamInfo
	Readers int
	Frames  uint64
	Bytes   uint64
	// Drops counts units not delivered to slow readers, over all readers ever.
	Drops uint64
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
		s.readers = make(map[*Reader]struct{})
		s.mu.Unlock()
		for r := range readers {
			r.close()
		}
	}
}

type stream struct {
	key Key
	hub *Hub

	mu      sync.Mutex
	source  *Source
	readers map[*Reader]struct{}
	since   time.Time

	// gop is the last group of pictures, keyframe first; empty when there
	// is none to hand out (no keyframe yet, or the GOP outgrew MaxGOP).
	gop      []avc.AccessUnit
	gopValid bool
	sps, pps []byte
	info     avc.StreamInfo

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
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{
		Key:       s.key,
		Online:    s.source != nil,
		Since:     s.since,
		LastFrame: s.lastFrame,
		Info:      s.info,
		Readers:   len(s.readers),
		Frames:    s.frames,
		Bytes:     s.bytes,
		Drops:     s.drops,
	}
}

// writeLocked takes one unit from the source; s.mu must be held.
func (s *stream) writeLocked(au avc.AccessUnit) {
	s.frames++
	s.bytes += uint64(au.Size())
	s.lastFrame = s.hub.cfg.Now()

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

	for r := range s.readers {
		s.drops += r.push(au)
	}
}

// Source feeds one stream. Only one source is attached to a stream at a time.
type Source struct {
	stream *stream
	closed bool // guarded by stream.mu
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
	for r := range s.readers {
		r.waitKeyframe()
	}
}

// Key returns the stream the source feeds.
func (src *Source) Key() Key { return src.stream.key }

// Reader follows one stream. Its queue is bounded: when the reader falls
// ReaderQueue units behind, the hub drops units for it and resumes at the
// next keyframe, so the reader never gets a GOP with a hole in it and never
// slows the source or other readers.
type Reader struct {
	stream *stream
	limit  int
	notify chan struct{}
	done   chan struct{}

	mu       sync.Mutex
	queue    []avc.AccessUnit
	extra    int  // cached units still queued, allowed on top of limit
	skipping bool // dropping until the next keyframe
	// overflowed is set while skipping because the reader fell behind
	// (rather than waiting for a first keyframe).
	overflowed bool
	dropped    uint64
	closed     bool
}

// push queues one unit and returns how many units it dropped doing so.
func (r *Reader) push(au avc.AccessUnit) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0
	}
	var dropped uint64
	if r.skipping {
		if !au.Keyframe {
			// Units passing while the reader waits for its first keyframe
			// (or for a new source's) were never its to lose.
			if r.overflowed {
				r.dropped++
				return 1
			}
			return 0
		}
		if r.overflowed {
			// Resume at the keyframe; whatever is still queued is stale,
			// and a decoder may jump from any unit to a keyframe.
			dropped = uint64(len(r.queue))
			r.queue = r.queue[:0]
			r.extra = 0
		}
		r.skipping, r.overflowed = false, false
	} else if len(r.queue) >= r.limit+r.extra {
		r.skipping, r.overflowed = true, true
		r.dropped++
		return 1
	}
	r.dropped += dropped
	r.queue = append(r.queue, au)
	r.signal()
	return dropped
}

// waitKeyframe makes the reader skip until a keyframe (its source left).
func (r *Reader) waitKeyframe() {
	r.mu.Lock()
	r.skipping = true
	r.mu.Unlock()
}

func (r *Reader) signal() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Read returns the next unit, waiting for one until ctx is done or the
// reader is closed (ErrClosed). The returned unit shares its bytes with
// other readers: do not modify it.
func (r *Reader) Read(ctx context.Context) (avc.AccessUnit, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return avc.AccessUnit{}, ErrClosed
		}
		if len(r.queue) > 0 {
			au := r.queue[0]
			r.queue[0] = avc.AccessUnit{}
			r.queue = r.queue[1:]
			if r.extra > 0 {
				r.extra--
			}
			r.mu.Unlock()
			return au, nil
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-r.done:
		case <-ctx.Done():
			return avc.AccessUnit{}, ctx.Err()
		}
	}
}

// Dropped returns how many units this reader lost to overflow.
func (r *Reader) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Key returns the stream the reader follows.
func (r *Reader) Key() Key { return r.stream.key }

// Close removes the reader from its stream. Close is idempotent.
func (r *Reader) Close() {
	s := r.stream
	s.mu.Lock()
	delete(s.readers, r)
	s.mu.Unlock()
	r.close()
}

func (r *Reader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	r.queue = nil
	close(r.done)
}
