package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/fault"
)

// Resource is something a signed-in user holds open on the relay.
type Resource int

// The resources held under a lease.
const (
	WHEPSession Resource = iota // a viewer's video
	EventStream                 // GET /api/v1/events
	LongPoll                    // GET /api/v1/findings/changes, /site/changes
)

func (r Resource) String() string {
	switch r {
	case WHEPSession:
		return "WHEP sessions"
	case EventStream:
		return "event streams"
	case LongPoll:
		return "long polls"
	}
	return fmt.Sprintf("resource %d", int(r))
}

// Limits caps what one user may hold open at once, by resource; 0 is no
// cap.
type Limits struct {
	WHEPSessions int
	EventStreams int
	LongPolls    int
}

// limitKey names r's limit as the relay's configuration file does, for the
// refusal's message.
func (r Resource) limitKey() string {
	switch r {
	case WHEPSession:
		return "limits.whep_sessions_per_user"
	case EventStream:
		return "limits.event_streams_per_user"
	case LongPoll:
		return "limits.long_polls_per_user"
	}
	return ""
}

func (l Limits) of(r Resource) int {
	switch r {
	case WHEPSession:
		return l.WHEPSessions
	case EventStream:
		return l.EventStreams
	case LongPoll:
		return l.LongPolls
	}
	return 0
}

// Generations reads the token generation of every user who may sign in
// (store.Store.TokenGenerations); a disabled user is left out.
type Generations interface {
	TokenGenerations(ctx context.Context) (map[string]int64, error)
}

// LeasesConfig is what Leases needs.
type LeasesConfig struct {
	Users  Generations
	Limits Limits
	// Now is the clock of token expiry (time.Now when nil).
	Now func() time.Time
	Log zerolog.Logger
}

// Leases are what signed-in users hold open (WHEP sessions, event streams,
// long polls), each under the sign-in that opened it: a user may hold so
// many of each at once (Limits), and a lease ends, with the reason, once
// its user may no longer hold it: their tokens revoked (a password, role
// or sites change, a disable, a sign-out), or their session lapsed (its
// newest token expired unrenewed, or the session reached its longest
// life). Revocations made in this process are acted on at once (Check);
// those of the command line, which writes the database beside the relay,
// within Run's interval.
type Leases struct {
	cfg LeasesConfig

	mu     sync.Mutex
	byUser map[string]map[*Lease]struct{}
}

// NewLeases returns an empty set of leases.
func NewLeases(cfg LeasesConfig) *Leases {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Leases{cfg: cfg, byUser: make(map[string]map[*Lease]struct{})}
}

// Lease is one resource held open under a sign-in.
type Lease struct {
	leases   *Leases
	resource Resource
	user     string
	session  sessionKey
	done     chan struct{}

	// Under leases.mu.
	expires time.Time
	final   bool
	err     error
	reason  string
}

// sessionKey names a sign-in: its tokens share their user, audience and
// start, and hold the same generation while they are valid.
type sessionKey struct {
	user       string
	audience   Audience
	started    int64
	generation int64
}

func keyOf(c Claims) sessionKey {
	return sessionKey{user: c.User, audience: c.Audience, started: c.Started.Unix(), generation: c.Generation}
}

// Acquire opens a lease on r for the sign-in of c (verified and admitted).
// It fails with a 429 fault (code too_many_open) when c's user already
// holds their limit of r.
func (l *Leases) Acquire(r Resource, c Claims) (*Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if limit := l.cfg.Limits.of(r); limit > 0 {
		held := 0
		for other := range l.byUser[c.User] {
			if other.resource == r {
				held++
			}
		}
		if held >= limit {
			return nil, fault.New(fault.TooMany, "too_many_open",
				"user %s has %d %s open, the most one user may (%s); close one and retry", c.User, held, r, r.limitKey())
		}
	}
	lease := &Lease{leases: l, resource: r, user: c.User, session: keyOf(c), done: make(chan struct{}),
		expires: c.Expires, final: c.Final}
	if l.byUser[c.User] == nil {
		l.byUser[c.User] = make(map[*Lease]struct{})
	}
	l.byUser[c.User][lease] = struct{}{}
	return lease, nil
}

// Renewed tells the leases that c's sign-in has a fresh token: what it
// holds lives until c expires.
func (l *Leases) Renewed(c Claims) {
	key := keyOf(c)
	l.mu.Lock()
	defer l.mu.Unlock()
	for lease := range l.byUser[c.User] {
		// A renewal keeps the session's start; the generation is the
		// user's now, which a lease of a revoked generation no longer is.
		if lease.session == key && c.Expires.After(lease.expires) {
			lease.expires, lease.final = c.Expires, c.Final
		}
	}
}

// Check ends the leases whose users may no longer hold them. The relay
// calls it when it revokes a user's tokens itself (a sign-out), and Run
// every interval for the revocations of other processes and for expiry.
func (l *Leases) Check(ctx context.Context) error {
	l.mu.Lock()
	empty := len(l.byUser) == 0
	l.mu.Unlock()
	if empty {
		return nil
	}
	gens, err := l.cfg.Users.TokenGenerations(ctx)
	if err != nil {
		return fmt.Errorf("checking leases: %w", err)
	}
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for user, held := range l.byUser {
		gen, enabled := gens[user]
		for lease := range held {
			switch {
			case !enabled || gen != lease.session.generation:
				lease.endLocked(errRevoked, "token_revoked")
			case !now.Before(lease.expires) && lease.final:
				lease.endLocked(errSessionOver, "session_expired")
			case !now.Before(lease.expires):
				lease.endLocked(errLapsed, "token_expired")
			}
		}
	}
	return nil
}

// Run checks the leases every interval until ctx ends.
func (l *Leases) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A database that cannot be read ends nothing: leases are ended
		// for what is known, never for what could not be checked.
		err := l.Check(ctx)
		if err != nil && !failing && ctx.Err() == nil {
			l.cfg.Log.Warn().Err(err).Msg("checking what revoked users hold open")
		}
		failing = err != nil
	}
}

// Held returns how many leases user holds on r.
func (l *Leases) Held(user string, r Resource) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for lease := range l.byUser[user] {
		if lease.resource == r {
			n++
		}
	}
	return n
}

// Why a lease ended: the answers a client gets, so that it can tell the
// user.
var (
	errRevoked = fault.New(fault.Unauthenticated, "token_revoked",
		"the sign-in was revoked (password, role or sites changed, account disabled, or signed out); sign in again")
	errSessionOver = fault.New(fault.Unauthenticated, "session_expired",
		"the sign-in reached the longest a session may last; sign in again")
	errLapsed = fault.New(fault.Unauthenticated, "unauthorized",
		"the sign-in's token expired without being renewed")
)

// ErrorFor is the fault a request answers with for err from Verify or
// Admit: 401 with a code saying why (token_revoked, session_expired, or
// unauthorized for a token that is missing, expired, forged or for
// another use).
func ErrorFor(err error) *fault.Error {
	switch {
	case err == nil:
		return nil
	case fault.As(err) != nil:
		return fault.As(err)
	case errors.Is(err, ErrRevoked):
		return errRevoked
	case errors.Is(err, ErrSessionOver):
		return errSessionOver
	case errors.Is(err, ErrExpiredToken):
		return fault.New(fault.Unauthenticated, "unauthorized", "the token has expired; sign in again")
	case errors.Is(err, ErrWrongAudience):
		return fault.New(fault.Unauthenticated, "unauthorized", "the token is not for this use (a site page session is no API token, and the reverse)")
	}
	return fault.New(fault.Unauthenticated, "unauthorized", "the token is not valid")
}

// Done is closed when the lease ends for its user's loss of the right to
// it (not when released).
func (le *Lease) Done() <-chan struct{} { return le.done }

// Err says why the lease ended, as a 401 fault (code token_revoked,
// session_expired or unauthorized); nil while it holds.
func (le *Lease) Err() error {
	le.leases.mu.Lock()
	defer le.leases.mu.Unlock()
	return le.err
}

// Reason says in a word why the lease ended, for records:
// token_revoked, session_expired or token_expired; "" while it holds.
func (le *Lease) Reason() string {
	le.leases.mu.Lock()
	defer le.leases.mu.Unlock()
	return le.reason
}

// Release gives the lease back: its resource has closed. It may be called
// more than once.
func (le *Lease) Release() {
	l := le.leases
	l.mu.Lock()
	defer l.mu.Unlock()
	le.removeLocked()
}

func (le *Lease) endLocked(err *fault.Error, reason string) {
	le.err, le.reason = err, reason
	close(le.done)
	le.removeLocked()
}

func (le *Lease) removeLocked() {
	l := le.leases
	held := l.byUser[le.user]
	if _, ok := held[le]; !ok {
		return
	}
	delete(held, le)
	if len(held) == 0 {
		delete(l.byUser, le.user)
	}
}
