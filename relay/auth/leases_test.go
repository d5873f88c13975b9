package auth_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
)

// leaseRig is leases over a real relay database with users duty and mgr,
// and a signer, on a clock standing still until advanced.
type leaseRig struct {
	st     *store.Store
	clock  *fakeclock.Clock
	signer *auth.Signer
	leases *auth.Leases
}

func newLeaseRig(t *testing.T, limits auth.Limits) *leaseRig {
	t.Helper()
	_, st := storetest.Open(t)
	for _, u := range []store.User{{Name: "duty", Role: "duty", PasswordHash: "x"}, {Name: "mgr", Role: "site_manager", PasswordHash: "x"}} {
		if err := st.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	clock := fakeclock.New(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	signer, err := auth.NewSigner(bytes.Repeat([]byte{1}, auth.KeySize), time.Hour, 12*time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &leaseRig{st: st, clock: clock, signer: signer,
		leases: auth.NewLeases(auth.LeasesConfig{Users: st, Limits: limits, Now: clock.Now, Log: zerolog.Nop()})}
}

// signIn returns the claims of a fresh sign-in of user.
func (r *leaseRig) signIn(t *testing.T, user string) auth.Claims {
	t.Helper()
	u, err := r.st.User(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := r.signer.Issue(user, auth.Role(u.Role), auth.AudienceAPI, u.TokenGeneration)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (r *leaseRig) check(t *testing.T) {
	t.Helper()
	if err := r.leases.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func ended(l *auth.Lease) bool {
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}

func code(err error) string {
	if f := fault.As(err); f != nil {
		return f.Code
	}
	return ""
}

// One user holds at most their limit of each resource; a release makes
// room, and the limit is the user's, not everyone's.
func TestLeaseLimits(t *testing.T) {
	r := newLeaseRig(t, auth.Limits{WHEPSessions: 3, EventStreams: 1, LongPolls: 2})
	duty := r.signIn(t, "duty")
	var held []*auth.Lease
	for i := range 3 {
		l, err := r.leases.Acquire(auth.WHEPSession, duty)
		if err != nil {
			t.Fatalf("WHEP session %d: %v", i+1, err)
		}
		held = append(held, l)
	}
	_, err := r.leases.Acquire(auth.WHEPSession, duty)
	if f := fault.As(err); f == nil || f.Kind != fault.TooMany || f.Code != "too_many_open" {
		t.Fatalf("a fourth WHEP session: %v, want 429 too_many_open", err)
	}
	if f := fault.As(err); !bytes.Contains([]byte(f.Message), []byte("limits.whep_sessions_per_user")) {
		t.Fatalf("the refusal %q does not name the limit", f.Message)
	}
	// Other resources and other users have their own counts.
	if _, err := r.leases.Acquire(auth.EventStream, duty); err != nil {
		t.Fatalf("an event stream beside the WHEP sessions: %v", err)
	}
	if _, err := r.leases.Acquire(auth.EventStream, duty); code(err) != "too_many_open" {
		t.Fatalf("a second event stream: %v, want too_many_open", err)
	}
	if _, err := r.leases.Acquire(auth.WHEPSession, r.signIn(t, "mgr")); err != nil {
		t.Fatalf("another user's WHEP session: %v", err)
	}
	held[0].Release()
	held[0].Release() // twice is once
	if _, err := r.leases.Acquire(auth.WHEPSession, duty); err != nil {
		t.Fatalf("a WHEP session after one closed: %v", err)
	}
	if n := r.leases.Held("duty", auth.WHEPSession); n != 3 {
		t.Fatalf("duty holds %d WHEP sessions, want 3", n)
	}
}

// A lease ends, with the reason, once its user's tokens are revoked,
// whatever revoked them; others' leases hold.
func TestLeasesEndOnRevocation(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		revoke func(st *store.Store) error
	}{
		{"disabled", func(st *store.Store) error { return st.SetDisabled(ctx, "mgr", true) }},
		{"password changed", func(st *store.Store) error { return st.SetPassword(ctx, "mgr", "y") }},
		{"sites changed", func(st *store.Store) error {
			if err := st.PutSite(ctx, store.Site{ID: "site-01", TimeZone: "Asia/Shanghai"}, nil); err != nil {
				return err
			}
			return st.PutUser(ctx, store.User{Name: "mgr", Role: "site_manager", PasswordHash: "x", Sites: []string{"site-01"}})
		}},
		{"role changed", func(st *store.Store) error {
			return st.PutUser(ctx, store.User{Name: "mgr", Role: "duty", PasswordHash: "x"})
		}},
		{"signed out", func(st *store.Store) error { _, err := st.AdvanceTokenGeneration(ctx, "mgr"); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newLeaseRig(t, auth.Limits{})
			mgr, err := r.leases.Acquire(auth.WHEPSession, r.signIn(t, "mgr"))
			if err != nil {
				t.Fatal(err)
			}
			duty, _ := r.leases.Acquire(auth.EventStream, r.signIn(t, "duty"))
			r.check(t)
			if ended(mgr) || ended(duty) || mgr.Err() != nil {
				t.Fatal("a lease ended with nothing revoked")
			}
			if err := c.revoke(r.st); err != nil {
				t.Fatal(err)
			}
			r.check(t)
			if !ended(mgr) || code(mgr.Err()) != "token_revoked" {
				t.Fatalf("the revoked user's lease: ended %v, %v; want ended, token_revoked", ended(mgr), mgr.Err())
			}
			if ended(duty) {
				t.Fatal("another user's lease ended")
			}
			if n := r.leases.Held("mgr", auth.WHEPSession); n != 0 {
				t.Fatalf("the ended lease still counts: %d", n)
			}
		})
	}
}

// A lease lives as long as its sign-in is renewed, and no longer than the
// session's longest life.
func TestLeasesFollowTheirSession(t *testing.T) {
	r := newLeaseRig(t, auth.Limits{})
	c := r.signIn(t, "duty")
	watching, _ := r.leases.Acquire(auth.WHEPSession, c)
	other, _ := r.leases.Acquire(auth.WHEPSession, r.signIn(t, "mgr"))

	// Renewed ahead of expiry, the session's lease lives on; the other
	// sign-in, never renewed, lapses.
	for range 3 {
		r.clock.Advance(55 * time.Minute)
		var err error
		if _, c, err = r.signer.Renew(c, auth.RoleDuty, 0); err != nil {
			t.Fatal(err)
		}
		r.leases.Renewed(c)
		r.check(t)
		if ended(watching) {
			t.Fatalf("a renewed session's lease ended: %v", watching.Err())
		}
	}
	if !ended(other) || code(other.Err()) != "unauthorized" {
		t.Fatalf("the lease of a sign-in never renewed: ended %v, %v", ended(other), other.Err())
	}

	// At the session's longest life it ends, renewed or not.
	for !c.Final {
		r.clock.Advance(55 * time.Minute)
		var err error
		if _, c, err = r.signer.Renew(c, auth.RoleDuty, 0); err != nil {
			t.Fatal(err)
		}
		r.leases.Renewed(c)
	}
	r.clock.Advance(c.Expires.Sub(r.clock.Now()))
	r.check(t)
	if !ended(watching) || code(watching.Err()) != "session_expired" {
		t.Fatalf("the lease at the session's end: ended %v, %v; want session_expired", ended(watching), watching.Err())
	}
}

// Run acts on revocations made by another process (relay user disable
// writes the database beside the relay) on its own.
func TestLeasesRunChecks(t *testing.T) {
	r := newLeaseRig(t, auth.Limits{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.leases.Run(ctx, 20*time.Millisecond)
	l, _ := r.leases.Acquire(auth.WHEPSession, r.signIn(t, "mgr"))
	if err := r.st.SetDisabled(ctx, "mgr", true); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the disabled user's lease ending", func() bool { return ended(l) })
}
