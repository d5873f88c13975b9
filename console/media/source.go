// Package media brings camera video from the relay into the console: a WHEP
// puller, and per camera stream a source that pulls while anyone watches,
// reconnects when the relay or camera goes away, keeps the current GOP for
// late joiners and tells its subscribers whether the picture is live.
package media

import (
	"context"
	"errors"
	"fmt"
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
	lastAU   time.Time // clock time of the last unit, or of the session start
	pts      ptsRebase
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
		s.mu.Unlock()

		delivered := false
		err := s.puller.Pull(sctx, s.key, func(au avc.AccessUnit) {
			delivered = true
			s.deliver(au)
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
		// The picture of a dead session must not pass for live to a joiner.
		s.gop, s.gopBytes = nil, 0
		s.setState(Offline, reason)
		s.mu.Unlock()
		s.log.Info().Err(err).Str("reason", reason).Msg("camera stream ended; retrying")

		if delivered {
			backoff = s.opts.BackoffMin
		}
		wait := backoff
		var rerr *relayclient.Error
		if errors.As(err, &rerr) && rerr.RetryAfter > 0 {
			// The relay is up and says when to ask again (an offline
			// camera): follow it rather than back off further, so the
			// picture returns within seconds of the camera.
			wait = min(max(rerr.RetryAfter, s.opts.BackoffMin), s.opts.BackoffMax)
		} else {
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

func (s *Source) deliver(au avc.AccessUnit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastAU = s.opts.Clock.Now()
	if sps, pps := au.ParamSets(); sps != nil || pps != nil {
		if sps != nil {
			s.sps = sps
		}
		if pps != nil {
			s.pps = pps
		}
	}
	if au.Keyframe {
		// Every keyframe carries the parameter sets, so any subscriber can
		// start decoding at any keyframe.
		au = au.WithParamSets(s.sps, s.pps)
	}
	au.PTS = s.pts.next(au.PTS)

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
}

// sessionGap is the time put between the last unit of one session and the
// first of the next: about a frame.
const sessionGap = 40 * time.Millisecond

func (p *ptsRebase) newSession() { p.fresh = true }

func (p *ptsRebase) next(pts time.Duration) time.Duration {
	if p.fresh {
		p.fresh = false
		if p.started {
			p.offset = p.last + sessionGap - pts
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
