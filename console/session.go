package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/bridge"
	"github.com/qianliyan/qianliyan/console/events"
	"github.com/qianliyan/qianliyan/console/forward"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/server"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// Reasons the backend is signed out, for the view to translate.
const (
	ReasonSignedOut      = "signed_out"      // the user signed out, or never signed in
	ReasonSessionExpired = "session_expired" // the relay refused to renew the token
)

// session is one sign-in to a relay: its client, which holds and renews
// the token, and the camera pulls made under it.
type session struct {
	client  *relayclient.Client
	sources *media.Sources
	relay   string
	user    relayclient.User
	camera  string // shown first
	ctx     context.Context
	cancel  context.CancelFunc
	log     zerolog.Logger

	mu     sync.Mutex
	cams   []relayclient.Camera // the last list seen, for the default tour and the flags
	online map[string]bool      // by "site/camera", as last reported to the sources
}

// signedOut is why there is no session.
type signedOut struct {
	reason, message string
	retrying        bool // the start's sign-in is being retried
}

// current returns the session, or why there is none.
func (b *Backend) current() (*session, signedOut) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess, b.out
}

// Session describes the sign-in for the view.
func (b *Backend) Session(context.Context) server.Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sess; s != nil {
		u := s.user
		return server.Session{SignedIn: true, Relay: s.relay, User: &u, ExpiresAt: s.client.Session().ExpiresAt}
	}
	return server.Session{Relay: b.relayURL, Reason: b.out.reason, Message: b.out.message, Retrying: b.out.retrying}
}

// SignIn signs in to a relay as the view asks. A session already running
// ends once the new one has begun; a failed attempt leaves it running.
func (b *Backend) SignIn(ctx context.Context, in server.SignIn) (server.Session, error) {
	in.Relay = strings.TrimSpace(in.Relay)
	switch {
	case in.Relay == "":
		return server.Session{}, badField("relay", "the relay address is required")
	case in.User == "":
		return server.Session{}, badField("user", "the user name is required")
	case in.Password == "":
		return server.Session{}, badField("password", "the password is required")
	}
	if _, err := relayclient.New(in.Relay, relayclient.Options{}); err != nil {
		return server.Session{}, badField("relay", err.Error())
	}
	b.mu.Lock()
	runCtx, stopRetry := b.runCtx, b.stopRetry
	b.stopRetry = nil
	if b.out.retrying {
		b.out = signedOut{reason: ReasonSignedOut}
	}
	b.mu.Unlock()
	if runCtx == nil {
		return server.Session{}, fault.New(fault.Unavailable, "starting", "the console is still starting")
	}
	// The user takes over from the start's sign-in.
	if stopRetry != nil {
		stopRetry()
	}
	// The attempt outlives a view that gives up waiting, but not the console.
	ctx, cancel := context.WithCancel(runCtx)
	defer cancel()
	if _, err := b.signIn(ctx, in); err != nil {
		return server.Session{}, err
	}
	return b.Session(ctx), nil
}

// badField is a sign-in form's bad field, with the code the view's sign-in
// form translates.
func badField(field, msg string) *fault.Error {
	e := fault.New(fault.Invalid, "bad_request", "%s: %s", field, msg)
	e.Field = field
	return e
}

// SignOut ends the session, if any, and every pull; the start's sign-in,
// if still being retried, is given up.
func (b *Backend) SignOut(context.Context) error {
	b.mu.Lock()
	stopRetry := b.stopRetry
	b.stopRetry = nil
	b.mu.Unlock()
	if stopRetry != nil {
		stopRetry()
	}
	b.switchMu.Lock()
	defer b.switchMu.Unlock()
	if s, _ := b.current(); s != nil {
		b.endLocked(s, ReasonSignedOut, "")
	}
	b.mu.Lock()
	b.out = signedOut{reason: ReasonSignedOut}
	b.mu.Unlock()
	return nil
}

// signIn logs in and, once the relay has said yes, makes the new session
// the current one. Failures are *fault.Error values the view can show.
func (b *Backend) signIn(ctx context.Context, in server.SignIn) (*session, error) {
	log := b.opts.Log
	client, err := relayclient.New(in.Relay, relayclient.Options{Log: log.With().Str("component", "relayclient").Logger()})
	if err != nil {
		return nil, badField("relay", err.Error())
	}
	relay := client.BaseURL()
	actx, cancel := context.WithTimeout(ctx, b.opts.SignInTimeout)
	defer cancel()
	sess, err := client.Login(actx, in.User, in.Password)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, signInFault(relay, err)
	}
	cams, err := client.Cameras(actx)
	if err != nil {
		// Signed in all the same; the list comes with the view's next ask.
		b.log.Warn().Err(err).Str("relay", relay).Msg("listing cameras after sign-in")
	}
	puller, err := media.NewWHEP(relay, client, log.With().Str("component", "whep").Logger())
	if err != nil {
		return nil, err
	}

	b.switchMu.Lock()
	defer b.switchMu.Unlock()
	// A sign-out or another sign-in may have given this one up meanwhile.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if old, _ := b.current(); old != nil {
		b.endLocked(old, ReasonSignedOut, "signed in again")
	}
	b.mu.Lock()
	if b.closed || b.runCtx.Err() != nil {
		b.mu.Unlock()
		return nil, errors.New("the console is stopping")
	}
	sctx, scancel := context.WithCancel(b.runCtx)
	s := &session{
		client: client, relay: relay, user: sess.User, ctx: sctx, cancel: scancel,
		camera: b.firstCamera(cams),
		log:    b.log.With().Str("relay", relay).Str("user", sess.User.Name).Logger(),
		cams:   cams, online: make(map[string]bool),
	}
	s.sources = media.NewSources(sctx, puller, media.Options{Tap: b.finds.buffers.Tap, Log: log.With().Str("component", "media").Logger()})
	b.sess, b.out, b.relayURL = s, signedOut{}, relay
	st := b.store
	b.wg.Add(3)
	b.mu.Unlock()

	go func() { defer b.wg.Done(); b.renew(s) }()
	go func() { defer b.wg.Done(); b.forward(s, st) }()
	go func() {
		defer b.wg.Done()
		select {
		case <-sctx.Done():
		case <-client.Expired():
			b.switchMu.Lock()
			defer b.switchMu.Unlock()
			b.endLocked(s, ReasonSessionExpired, endedMessage(client.EndedBy()))
		}
	}()
	// Views hear of the sign-in before the camera list it brings.
	b.publishSession()
	b.hub.Follow(client.Events, s.relayEvent)
	if err := st.SetSetting(ctx, settingRelay, relay); err != nil {
		b.log.Warn().Err(err).Msg("remembering the relay")
	}
	s.log.Info().Time("expires_at", sess.ExpiresAt).Int("cameras", len(cams)).Str("camera", s.camera).Msg("signed in")
	return s, nil
}

// forward sends the outbox to the relay and follows the relay's changes
// of findings for as long as the session lasts, with its token.
func (b *Backend) forward(s *session, st *store.Store) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = forward.New(forward.Options{Store: st, Relay: s.client, OnChange: b.findingsChanged,
			Log: b.opts.Log.With().Str("component", "forward").Logger()}).Run(s.ctx)
	}()
	go func() {
		defer wg.Done()
		_ = forward.NewConsumer(forward.ConsumerOptions{Store: st, Relay: s.client, Self: s.user.Name, OnChange: b.findingsChanged,
			Log: b.opts.Log.With().Str("component", "changes").Logger()}).Run(s.ctx)
	}()
	wg.Wait()
}

// findingsChanged tells the views which findings to read again.
func (b *Backend) findingsChanged(ids []string) { b.hub.Publish(events.FindingsChanged(ids)) }

// signInFault turns a failed login into what the view is told.
func signInFault(relay string, err error) error {
	var rerr *relayclient.Error
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &rerr) && rerr.Status == http.StatusUnauthorized:
		return withCause(fault.New(fault.Unauthenticated, "wrong_password", "the relay at %s refused this user name and password", relay), err)
	case errors.As(err, &rerr):
		return withCause(fault.New(fault.Upstream, "relay_error", "the relay at %s answered %d: %s", relay, rerr.Status, rerr.Message), err)
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return unreachable(relay, err)
	default:
		return withCause(fault.New(fault.Upstream, "relay_error", "%s did not answer as a relay: %v", relay, err), err)
	}
}

// withCause keeps err as e's cause, for errors.Is/As and the log, where
// e's message says it in fewer words.
func withCause(e *fault.Error, err error) *fault.Error {
	e.Err = err
	return e
}

// unreachable is a relay that could not be reached.
func unreachable(relay string, err error) *fault.Error {
	return withCause(fault.New(fault.Upstream, "relay_unreachable", "cannot reach the relay at %s: %v", relay, rootCause(err)), err)
}

// rootCause is the innermost error, which says what went wrong in the
// fewest words ("connection refused").
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// retryable is a failed sign-in that may succeed later on its own.
func retryable(err error) bool {
	e := fault.As(err)
	if e == nil {
		return false
	}
	var rerr *relayclient.Error
	return e.Code == "relay_unreachable" || (errors.As(err, &rerr) && rerr.Status >= 500)
}

// startSignIn signs in with the start's credentials. A relay that cannot
// be reached is tried again with backoff in the background, the password
// kept only until then; the view shows why meanwhile.
func (b *Backend) startSignIn(ctx context.Context, in server.SignIn) {
	_, err := b.signIn(ctx, in)
	if err == nil || ctx.Err() != nil {
		return
	}
	b.log.Warn().Err(err).Str("relay", in.Relay).Bool("retrying", retryable(err)).Msg("signing in at start")
	out := signedOut{reason: "sign_in_failed", message: err.Error()}
	if e := fault.As(err); e != nil {
		out = signedOut{reason: e.Code, message: e.Message}
	}
	if !retryable(err) {
		b.mu.Lock()
		b.out = out
		b.mu.Unlock()
		return
	}
	rctx, stop := context.WithCancel(ctx)
	out.retrying = true
	b.mu.Lock()
	b.out, b.stopRetry = out, stop
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		defer stop()
		wait := b.opts.RetryMin
		for {
			t := time.NewTimer(wait)
			select {
			case <-rctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			_, err := b.signIn(rctx, in)
			if rctx.Err() != nil {
				return
			}
			b.mu.Lock()
			if err == nil {
				b.stopRetry = nil
				b.mu.Unlock()
				return
			}
			if e := fault.As(err); e != nil {
				b.out = signedOut{reason: e.Code, message: e.Message, retrying: retryable(err)}
			}
			if !retryable(err) {
				b.stopRetry = nil
			}
			b.mu.Unlock()
			if !retryable(err) {
				b.log.Warn().Err(err).Msg("signing in at start: giving up")
				return
			}
			wait = min(wait*2, b.opts.RetryMax)
			b.log.Info().Err(err).Dur("retry_in", wait).Msg("signing in at start: relay still unreachable")
		}
	}()
}

// endLocked ends s, if it is still the session, with reason: its pulls stop
// and their WHEP sessions end, the views' video streams close and the
// views are told. It must be called holding switchMu.
func (b *Backend) endLocked(s *session, reason, message string) {
	b.mu.Lock()
	if b.sess != s {
		b.mu.Unlock()
		return
	}
	b.sess = nil
	b.out = signedOut{reason: reason, message: message}
	bridges := append([]*bridge.Handler(nil), b.bridges...)
	b.mu.Unlock()

	b.hub.Follow(nil, nil)
	s.cancel()
	s.sources.Close()
	for _, br := range bridges {
		br.EndAll(reason)
	}
	// Nothing is on a signed-out officer's screen: what they watched ends
	// now, not when the view next reports (it may never: the window closed).
	b.mu.Lock()
	st := b.store
	b.mu.Unlock()
	if st != nil {
		if err := st.EndWatching(context.Background(), time.Now()); err != nil {
			s.log.Error().Err(err).Msg("ending the officer's watches")
		}
	}
	b.publishSession()
	s.log.Info().Str("reason", reason).Msg("session ended")
}

// publishSession tells the views the sign-in changed.
func (b *Backend) publishSession() {
	s := b.Session(context.Background())
	if !s.SignedIn && s.Reason == "" {
		s.Reason = ReasonSignedOut
	}
	data, err := json.Marshal(s)
	if err != nil {
		b.log.Error().Err(err).Msg("encoding session event")
		return
	}
	b.hub.Publish(events.Event{Name: events.Session, Data: data})
}

// renew refreshes the token ahead of its expiry for as long as the session
// lasts. A relay that refuses ends the session (through Expired); one that
// cannot be reached is asked again with backoff.
func (b *Backend) renew(s *session) {
	backoff := time.Second
	for {
		t := time.NewTimer(max(time.Until(s.client.RenewAt()), 0))
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		_, err := s.client.Refresh(s.ctx)
		switch {
		case err == nil:
			backoff = time.Second
			continue
		case s.ctx.Err() != nil, errors.Is(err, relayclient.ErrSessionExpired):
			return
		}
		s.log.Warn().Err(err).Dur("retry_in", backoff).Msg("renewing the sign-in")
		t = time.NewTimer(backoff)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// firstCamera is the camera to show first: the one asked for if the relay
// has it, else the first of the list.
func (b *Backend) firstCamera(cams []relayclient.Camera) string {
	want := b.opts.Camera
	for _, c := range cams {
		if c.Path() == want {
			return want
		}
	}
	if want != "" && len(cams) > 0 {
		b.log.Warn().Str("camera", want).Int("cameras", len(cams)).Msg("the camera asked for is not in the relay's list; showing the first")
	}
	if len(cams) == 0 {
		return ""
	}
	return cams[0].Path()
}

// Cameras is the relay's camera list with health, fetched afresh.
func (b *Backend) Cameras(ctx context.Context) ([]relayclient.Camera, error) {
	s, err := b.signedIn()
	if err != nil {
		return nil, err
	}
	cams, err := s.client.Cameras(ctx)
	if errors.Is(err, relayclient.ErrSessionExpired) {
		return nil, expiredFault()
	}
	if err != nil {
		return nil, relayFault(s.relay, err)
	}
	s.setCameras(cams)
	return cams, nil
}

// signedIn returns the session, or why there is none.
func (b *Backend) signedIn() (*session, error) {
	s, out := b.current()
	if s != nil {
		return s, nil
	}
	if out.reason == ReasonSessionExpired {
		return nil, expiredFault()
	}
	return nil, fault.New(fault.Unauthenticated, ReasonSignedOut, "not signed in to a relay")
}

func expiredFault() error {
	return fault.New(fault.Unauthenticated, ReasonSessionExpired, "the relay ended the session; sign in again")
}

// relayFault says what failed talking to the relay of a session.
func relayFault(relay string, err error) error {
	var rerr *relayclient.Error
	var nerr net.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &rerr):
		return withCause(fault.New(fault.Upstream, "relay_error", "the relay at %s answered %d %s: %s", relay, rerr.Status, rerr.Code, rerr.Message), err)
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return unreachable(relay, err)
	}
	return err
}

func (s *session) setCameras(cams []relayclient.Camera) {
	s.mu.Lock()
	s.cams = cams
	s.mu.Unlock()
	for _, c := range cams {
		s.report(c)
	}
}

func (s *session) cameras() []relayclient.Camera {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cams
}

// relayEvent learns from the relay's event stream: the list for the
// default tour, and each camera's state for the pulls.
func (s *session) relayEvent(ev relayclient.Event) {
	switch ev.Name {
	case events.Cameras:
		var list struct {
			Cameras []relayclient.Camera `json:"cameras"`
		}
		if err := json.Unmarshal(ev.Data, &list); err != nil {
			s.log.Warn().Err(err).Msg("unreadable camera list from the relay's events")
			return
		}
		s.setCameras(list.Cameras)
	case events.Camera:
		var c relayclient.Camera
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			s.log.Warn().Err(err).Msg("unreadable camera from the relay's events")
			return
		}
		s.mu.Lock()
		for i := range s.cams {
			if s.cams[i].Path() == c.Path() {
				s.cams = append(s.cams[:i:i], append([]relayclient.Camera{c}, s.cams[i+1:]...)...)
			}
		}
		s.mu.Unlock()
		s.report(c)
	}
}

// report passes a camera's change between online and offline to the pulls.
// A stalled camera is left to the pulls, which see that for themselves.
func (s *session) report(c relayclient.Camera) {
	var online bool
	switch c.State {
	case relayclient.StateOnline:
		online = true
	case relayclient.StateOffline:
	case "":
		online = c.Online // a relay without health
	default:
		return
	}
	s.mu.Lock()
	was, known := s.online[c.Path()]
	s.online[c.Path()] = online
	s.mu.Unlock()
	if known && was == online {
		return
	}
	s.sources.RelayReport(c.Site, c.ID, online, c.SinceTime())
}

// endedMessage says why the relay ended a sign-in, in its own words where
// it gave them (the password was changed, the user disabled, the shift's
// session cap reached), so the officer knows whether signing in again helps.
func endedMessage(by *relayclient.Error) string {
	if by == nil || by.Message == "" {
		return "the relay refused to renew the sign-in; sign in again"
	}
	return fmt.Sprintf("the relay ended the sign-in (%s: %s); sign in again", by.Code, by.Message)
}
