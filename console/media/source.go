// Package media brings camera video from the relay into the console: a WHEP
// puller, and per camera stream a source that pulls while anyone watches,
// reconnects when the relay or camera goes away, keeps the current GOP for
// late joiners and tells its subscribers whether the picture is live.
//
// Only new video counts as live: a session's first units may be ones the
// source has had before (the relay hands every new viewer its cached GOP),
// and those are neither passed on again nor taken as a sign of life, so a
// frozen camera is never shown live, and the evidence buffers and clips
// never hold the same second twice.
package media

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/avc"
)

// Key names one stream of one camera.
type Key struct {
	Site, Camera string
	Stream       string // "main" or "sub"
}

func (k Key) String() string { return k.Site + "/" + k.Camera + "?stream=" + k.Stream }

// StateName is what a viewer is told about a stream.
type StateName string

// Stream states, as the bridge sends them to the view.
const (
	Connecting StateName = "connecting"
	Live       StateName = "live"
	// Stalled: connected, but no access unit for longer than StallAfter.
	Stalled StateName = "stalled"
	// Offline: the last attempt failed; the source keeps retrying.
	Offline StateName = "offline"
)

// Reasons that go with a state; relay error codes (camera_offline,
// unknown_camera, unauthorized, …) are passed through as they are.
const (
	ReasonNoVideo          = "no_video"
	ReasonConnectionLost   = "connection_lost"
	ReasonRelayUnreachable = "relay_unreachable"
	ReasonError            = "error"
	// ReasonCameraOffline is the relay's code for a camera without a
	// publisher, in an offer's answer or in its event stream.
	ReasonCameraOffline = "camera_offline"
	// ReasonSessionExpired: the relay refused to renew the sign-in.
	ReasonSessionExpired = "session_expired"
)

// State is a stream's state since a moment, with why.
type State struct {
	State  StateName
	Since  time.Time
	Reason string
}

// Subscriber receives a source's output. Both methods are called with the
// source locked, in stream order, and must return at once without calling
// back into the source: a subscriber that may be slow queues and drops.
// Access units are shared between subscribers and must not be modified.
type Subscriber interface {
	OnAccessUnit(avc.AccessUnit)
	OnState(State)
}

// Puller runs one pull session; WHEP is the one the console uses.
type Puller interface {
	Pull(ctx context.Context, key Key, fn func(avc.AccessUnit)) error
}

// Clock is the time a source measures stalls with; tests drive their own.
type Clock interface {
	Now() time.Time
	// NewTicker returns a channel ticking every d and a stop function.
	NewTicker(d time.Duration) (<-chan time.Time, func())
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Options tunes sources. Zero values take the defaults.
type Options struct {
	Clock Clock
	// StallAfter without an access unit makes a live stream stalled (2 s).
	StallAfter time.Duration
	// RestartAfter without an access unit ends the session and starts a new
	// one (6 s): the relay keeps a session open over a camera whose
	// publisher left, and only a new offer learns that it is offline.
	RestartAfter time.Duration
	// BackoffMin and BackoffMax bound the wait between attempts (0.5 s, 30 s).
	BackoffMin, BackoffMax time.Duration
	// Tap, when set, is called as each source is created; the subscriber it
	// returns gets the source's states and units for as long as the source
	// pulls, without keeping it pulling (the console's rolling evidence
	// buffers). done, when not nil, is called once the source has stopped.
	Tap func(Key) (sub Subscriber, done func())
	Log zerolog.Logger
}

func (o *Options) defaults() {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.StallAfter <= 0 {
		o.StallAfter = 2 * time.Second
	}
	if o.RestartAfter <= 0 {
		o.RestartAfter = 6 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 500 * time.Millisecond
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(30*time.Second, o.BackoffMin)
	}
}

// Limits of the GOP kept for late joiners: a camera with a very long
// keyframe interval makes joiners wait for the next keyframe instead.
const (
	maxGOPUnits = 600
	maxGOPBytes = 16 << 20
)

// Source is one camera stream: it pulls while it has subscribers and fans
// what it gets out to them.
type Source struct {
	key    Key
	puller Puller
	opts   Options
	log    zerolog.Logger

	mu       sync.Mutex
	subs     map[int]Subscriber
	nextID   int
	state    State
	gop      []avc.AccessUnit
	gopBytes int
	sps, pps []byte
	lastAU   time.Time // clock time of the last new unit, or of the session start
	lastNew  time.Time // clock time of the last new unit
	pts      ptsRebase
	seen     history                 // the last keyframe passed on
	replay   replay                  // the current session's check for units seen before
	restart  context.CancelCauseFunc // ends the current session, nil between sessions
	wake     chan struct{}           // cuts a wait between sessions short
	tap      Subscriber              // Options.Tap's, until the source stops
	tapDone  func()

	cancel context.CancelFunc // stops the pull; nil until it starts
}

func newSource(key Key, puller Puller, opts Options) *Source {
	s := &Source{
		key:    key,
		puller: puller,
		opts:   opts,
		log:    opts.Log.With().Str("camera", key.String()).Logger(),
		subs:   make(map[int]Subscriber),
		state:  State{State: Connecting, Since: opts.Clock.Now()},
		wake:   make(chan struct{}, 1),
		seen:   history{seed: maphash.MakeSeed()},
	}
	if opts.Tap != nil {
		s.tap, s.tapDone = opts.Tap(key)
		if s.tap != nil {
			s.tap.OnState(s.state)
		}
	}
	return s
}

// add subscribes sub; the first subscriber starts the pull under parent.
// The subscriber gets the state, then the current GOP, then live units.
func (s *Source) add(parent context.Context, sub Subscriber, wg *sync.WaitGroup) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	s.subs[id] = sub
	sub.OnState(s.state)
	for _, au := range s.gop {
		sub.OnAccessUnit(au)
	}
	if s.cancel == nil {
		ctx, cancel := context.WithCancel(parent)
		s.cancel = cancel
		wg.Add(2)
		go func() { defer wg.Done(); s.run(ctx) }()
		go func() { defer wg.Done(); s.watch(ctx) }()
	}
	return id
}

// remove unsubscribes id and reports how many subscribers are left.
func (s *Source) remove(id int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, id)
	return len(s.subs)
}

// stop ends the pull; run ends the WHEP session on its way out. The tap
// hears nothing more of the source, even from a unit still in flight.
func (s *Source) stop() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	done := s.tapDone
	s.tap, s.tapDone = nil, nil
	s.mu.Unlock()
	if done != nil {
		done()
	}
}

// errStalled ends a session that delivered nothing for RestartAfter.
var errStalled = errors.New("no video from the relay")

func (s *Source) run(ctx context.Context) {
	backoff := s.opts.BackoffMin
	for ctx.Err() == nil {
		sctx, restart := context.WithCancelCause(ctx)
		s.mu.Lock()
		s.restart = restart
		s.lastAU = s.opts.Clock.Now()
		s.pts.newSession()
		s.replay = replay{checking: true}
		s.mu.Unlock()

		delivered := false
		err := s.puller.Pull(sctx, s.key, func(au avc.AccessUnit) {
			if s.deliver(au) {
				delivered = true
			}
		})
		if cause := context.Cause(sctx); ctx.Err() == nil && errors.Is(cause, errStalled) {
			err = cause
		}
		restart(nil)
		if ctx.Err() != nil {
			return
		}

		reason := reasonOf(err)
		s.mu.Lock()
		s.restart = nil
		switch {
		case errors.Is(err, errStalled) && s.state.State == Stalled:
			// The camera is still frozen, as it has been since its last
			// picture: a new session changes nothing the officer should
			// see, and a joiner gets the state first, then the picture to
			// decode the camera's next units on.
		default:
			// The picture of a dead session must not pass for live to a joiner.
			s.gop, s.gopBytes = nil, 0
			if reason == ReasonCameraOffline {
				// The relay has no source for the camera, and with it
				// forgot its cached GOP: whatever the next source sends
				// is new, however it looks.
				s.seen.reset()
			}
			s.setState(Offline, reason)
		}
		s.mu.Unlock()
		s.log.Info().Err(err).Str("reason", reason).Msg("camera stream ended; retrying")

		if delivered {
			backoff = s.opts.BackoffMin
		}
		wait := backoff
		var rerr *relayclient.Error
		switch {
		case errors.Is(err, errStalled):
			// The relay answered and kept the session up: ask again at once,
			// as only a new offer learns whether the camera is still there.
			wait = 0
		case errors.As(err, &rerr) && rerr.RetryAfter > 0:
			// The relay is up and says when to ask again (an offline
			// camera): follow it rather than back off further, so the
			// picture returns within seconds of the camera.
			wait = min(max(rerr.RetryAfter, s.opts.BackoffMin), s.opts.BackoffMax)
		default:
			backoff = min(backoff*2, s.opts.BackoffMax)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.wake:
			t.Stop()
			backoff = s.opts.BackoffMin
		}
	}
}

// watch turns silence into the stalled state, and long silence into a new
// session.
func (s *Source) watch(ctx context.Context) {
	tick, stop := s.opts.Clock.NewTicker(min(s.opts.StallAfter/4, 250*time.Millisecond))
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		s.mu.Lock()
		silent := s.opts.Clock.Now().Sub(s.lastAU)
		if s.state.State == Live && silent > s.opts.StallAfter {
			// The picture on screen is from the last unit: stalled since then.
			s.setStateSince(Stalled, ReasonNoVideo, s.lastAU)
		}
		if s.restart != nil && silent > s.opts.RestartAfter {
			s.log.Info().Dur("silent", silent).Msg("no video; restarting the session")
			s.restart(errStalled)
			s.restart = nil
		}
		s.mu.Unlock()
	}
}

// deliver passes on one unit of the session, unless the source has had it
// before, and reports whether it was new.
func (s *Source) deliver(au avc.AccessUnit) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum uint64 // of keyframes only: where a repeat starts
	if au.Keyframe {
		sum = s.seen.sum(au)
	}
	if s.replay.checking {
		if at, ok := s.replay.match(&s.seen, s.pts.last, au, sum); ok {
			// Seen before: on the stream's clock, its next units follow
			// it as they did the first time.
			s.pts.anchor(au.PTS, at)
			return false
		}
		s.replay.checking = false
	}
	now := s.opts.Clock.Now()
	if s.pts.fresh && !s.lastNew.IsZero() {
		// A session that does not begin with what the source had: its
		// clock's relation to the stream's is unknown, and the time that
		// passed is the best guess of the gap.
		s.pts.after(now.Sub(s.lastNew))
	}
	s.lastAU, s.lastNew = now, now
	if sps, pps := au.ParamSets(); sps != nil || pps != nil {
		if sps != nil {
			s.sps = sps
		}
		if pps != nil {
			s.pps = pps
		}
	}
	keyframe := au.Keyframe
	size := au.Size()
	if keyframe {
		// Every keyframe carries the parameter sets, so any subscriber can
		// start decoding at any keyframe.
		au = au.WithParamSets(s.sps, s.pps)
	}
	au.PTS = s.pts.next(au.PTS)
	s.seen.add(keyframe, sum, size, au.PTS)

	switch {
	case au.Keyframe:
		s.gop, s.gopBytes = append(s.gop[:0:0], au), au.Size()
	case len(s.gop) > 0 && len(s.gop) < maxGOPUnits && s.gopBytes+au.Size() <= maxGOPBytes:
		s.gop = append(s.gop, au)
		s.gopBytes += au.Size()
	default:
		s.gop, s.gopBytes = nil, 0
	}
	if s.state.State != Live {
		s.setState(Live, "")
	}
	if s.tap != nil {
		s.tap.OnAccessUnit(au)
	}
	for _, sub := range s.subs {
		sub.OnAccessUnit(au)
	}
	return true
}

// setState must be called with s.mu held.
func (s *Source) setState(name StateName, reason string) {
	s.setStateSince(name, reason, s.opts.Clock.Now())
}

// setStateSince must be called with s.mu held.
func (s *Source) setStateSince(name StateName, reason string, since time.Time) {
	if s.state.State == name && s.state.Reason == reason {
		return
	}
	if s.state.State == name {
		// Same state, new reason (offline, then offline for another cause):
		// it has been so since the first.
		since = s.state.Since
	}
	s.state = State{State: name, Since: since, Reason: reason}
	s.log.Debug().Str("state", string(name)).Str("reason", reason).Msg("stream state")
	if s.tap != nil {
		s.tap.OnState(s.state)
	}
	for _, sub := range s.subs {
		sub.OnState(s.state)
	}
}

// relayReport applies what the relay says of the camera. Offline shows at
// once, rather than after the stall and a new offer; online cuts a wait
// between attempts short, so the picture returns with the camera.
func (s *Source) relayReport(online bool, since time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return
	}
	if online {
		// Kept if the source is not waiting yet: the news may come while
		// it is still taking in its last attempt's refusal.
		select {
		case s.wake <- struct{}{}:
		default:
		}
		return
	}
	// Without a source the relay has no cached GOP to hand out again.
	s.seen.reset()
	if s.state.State == Offline && s.state.Reason == ReasonCameraOffline {
		return
	}
	if since.IsZero() || since.After(s.opts.Clock.Now()) {
		since = s.opts.Clock.Now()
	}
	// A camera cannot have been offline since before its last picture.
	if s.state.State == Live || s.state.State == Stalled {
		since = later(since, s.lastAU)
	}
	s.gop, s.gopBytes = nil, 0
	s.setStateSince(Offline, ReasonCameraOffline, since)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// reasonOf says in a word why a session ended, for the view to translate.
func reasonOf(err error) string {
	var rerr *relayclient.Error
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.Is(err, relayclient.ErrSessionExpired):
		return ReasonSessionExpired
	case errors.As(err, &rerr):
		return rerr.Code
	case errors.Is(err, errStalled):
		return ReasonNoVideo
	case errors.Is(err, ErrConnectionLost):
		return ReasonConnectionLost
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return ReasonRelayUnreachable
	default:
		return ReasonError
	}
}

// ptsRebase keeps presentation times increasing across sessions, which each
// start their clock at zero, so a decoder never sees time run backwards.
type ptsRebase struct {
	started bool
	last    time.Duration // last output
	offset  time.Duration // added to this session's times
	fresh   bool          // no unit yet in this session
	gap     time.Duration // between the sessions, when longer than sessionGap
}

// sessionGap is the time put between the last unit of one session and the
// first of the next: about a frame.
const sessionGap = 40 * time.Millisecond

func (p *ptsRebase) newSession() { p.fresh, p.gap = true, 0 }

// after says how long it has been since the last session's last unit.
func (p *ptsRebase) after(d time.Duration) { p.gap = d }

// anchor puts this session's time pts at out, a time already given: the
// session's first units were ones the source had before.
func (p *ptsRebase) anchor(pts, out time.Duration) {
	p.fresh = false
	p.offset = out - pts
}

func (p *ptsRebase) next(pts time.Duration) time.Duration {
	if p.fresh {
		p.fresh = false
		if p.started {
			p.offset = p.last + max(sessionGap, p.gap) - pts
		} else {
			p.offset = -pts
		}
	}
	out := pts + p.offset
	if p.started && out <= p.last {
		out = p.last + time.Microsecond
	}
	p.started, p.last = true, out
	return out
}

// history remembers the keyframe a source last passed on, by content and
// time: where a relay replaying its cached GOP to a new session starts.
type history struct {
	seed maphash.Seed
	key  seenUnit // zero until a keyframe is passed on
}

type seenUnit struct {
	sum  uint64
	size int
	pts  time.Duration // as passed on
}

// sum is a digest of the unit's content as the puller gave it.
func (h *history) sum(au avc.AccessUnit) uint64 {
	var d maphash.Hash
	d.SetSeed(h.seed)
	var n [4]byte
	for _, nalu := range au.NALUs {
		binary.BigEndian.PutUint32(n[:], uint32(len(nalu)))
		d.Write(n[:])
		d.Write(nalu)
	}
	return d.Sum64()
}

func (h *history) add(keyframe bool, sum uint64, size int, pts time.Duration) {
	if keyframe {
		h.key = seenUnit{sum: sum, size: size, pts: pts}
	}
}

func (h *history) reset() { h.key = seenUnit{} }

// replay follows a session's first units, which may repeat what the source
// had before: the relay's cached GOP, which starts at the keyframe the
// source last passed on. Once that keyframe is recognised, the session's
// times are the stream's (the relay keeps one clock for a stream), and a
// unit no later than the last one passed on is a repeat, or one the source
// missed and is too late for now. The first later unit ends the check; the
// rest of the session is new.
type replay struct {
	checking bool
	anchored bool
	offset   time.Duration // the session's time to the time given, once anchored
}

// pastTolerance absorbs the rounding of times to the RTP clock's ticks,
// which differs between sessions that start their clocks at other units; a
// new unit comes a frame later.
const pastTolerance = time.Millisecond

// match reports whether au, with digest sum when a keyframe, is one the source had before
// (or can have no more), given h and the last time passed on, and the time
// it has on the stream's clock.
func (r *replay) match(h *history, last time.Duration, au avc.AccessUnit, sum uint64) (time.Duration, bool) {
	if !r.anchored {
		if h.key.size == 0 || !au.Keyframe || h.key.sum != sum || h.key.size != au.Size() {
			return 0, false
		}
		r.anchored, r.offset = true, h.key.pts-au.PTS
		return h.key.pts, true
	}
	at := au.PTS + r.offset
	return at, at <= last+pastTolerance
}

// Sources is the registry of sources by key: a source exists while it has
// subscribers.
type Sources struct {
	ctx    context.Context
	cancel context.CancelFunc
	puller Puller
	opts   Options
	wg     sync.WaitGroup

	mu     sync.Mutex
	byKey  map[Key]*Source
	closed bool
}

// ErrClosed is returned by Subscribe after Close.
var ErrClosed = errors.New("media sources closed")

// NewSources returns an empty registry; its sources pull until ctx is
// cancelled or Close is called.
func NewSources(ctx context.Context, puller Puller, opts Options) *Sources {
	opts.defaults()
	ctx, cancel := context.WithCancel(ctx)
	return &Sources{ctx: ctx, cancel: cancel, puller: puller, opts: opts, byKey: make(map[Key]*Source)}
}

// Subscribe adds sub to the source of key, starting the pull if it is the
// first. The returned function unsubscribes; the last to leave stops the pull.
func (r *Sources) Subscribe(key Key, sub Subscriber) (unsubscribe func(), err error) {
	if key.Site == "" || key.Camera == "" || key.Stream == "" {
		return nil, fmt.Errorf("subscribing to %q: site, camera and stream are required", key)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.ctx.Err() != nil {
		return nil, ErrClosed
	}
	src := r.byKey[key]
	if src == nil {
		src = newSource(key, r.puller, r.opts)
		r.byKey[key] = src
	}
	id := src.add(r.ctx, sub, &r.wg)
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if src.remove(id) == 0 {
				src.stop()
				if r.byKey[key] == src {
					delete(r.byKey, key)
				}
			}
		})
	}, nil
}

// RelayReport passes on what the relay's event stream says of a camera
// ("site", "camera"): whether it is online, and since when.
func (r *Sources) RelayReport(site, camera string, online bool, since time.Time) {
	r.mu.Lock()
	var hit []*Source
	for k, src := range r.byKey {
		if k.Site == site && k.Camera == camera {
			hit = append(hit, src)
		}
	}
	r.mu.Unlock()
	for _, src := range hit {
		src.relayReport(online, since)
	}
}

// Close stops every pull and waits until their sessions are ended.
func (r *Sources) Close() {
	r.mu.Lock()
	r.closed = true
	srcs := make([]*Source, 0, len(r.byKey))
	for _, src := range r.byKey {
		srcs = append(srcs, src)
	}
	r.mu.Unlock()
	for _, src := range srcs {
		src.stop()
	}
	r.cancel()
	r.wg.Wait()
}
