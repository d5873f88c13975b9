package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLoginLimiter(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginLimiter(3, 5, time.Minute, clk.Now)
	try := func(user, addr string) (time.Duration, bool) { return l.Attempt(user, addr) }

	for i := range 3 {
		if _, ok := try("duty", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	wait, ok := try("duty", "10.0.0.1")
	if ok || wait != 20*time.Second {
		t.Fatalf("fourth failure for one user from one address: ok=%v wait=%v, want refused for 20s", ok, wait)
	}
	// Another user from the first address has the address's two left.
	for i := range 2 {
		if _, ok := try(fmt.Sprintf("user%d", i), "10.0.0.1"); !ok {
			t.Fatalf("other user %d refused", i)
		}
	}
	if _, ok := try("user9", "10.0.0.1"); ok {
		t.Fatal("address limit not applied")
	}

	// The buckets drain: one more attempt per window/limit.
	clk.t = clk.t.Add(20 * time.Second)
	if _, ok := try("duty", "10.0.0.1"); !ok {
		t.Fatal("user still refused after draining")
	}
	if _, ok := try("duty", "10.0.0.1"); ok {
		t.Fatal("drained more than one attempt")
	}

	// A success forgets the user's failures and refunds the address.
	clk.t = clk.t.Add(time.Minute)
	for range 2 {
		try("zhao", "10.0.0.4")
	}
	l.Succeeded("zhao", "10.0.0.4")
	for i := range 3 {
		if _, ok := try("zhao", "10.0.0.4"); !ok {
			t.Fatalf("attempt %d after a success refused", i+1)
		}
	}
}

// Failing on purpose with the duty officer's name from one PC does not lock
// the duty officer out of theirs (issue 12: the per-user bucket did).
func TestLoginLimiterDoesNotLockAUserOutFromElsewhere(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginLimiter(5, 20, 5*time.Minute, clk.Now)
	for range 5 {
		if _, ok := l.Attempt("duty", "10.0.0.66"); !ok {
			t.Fatal("the attacker's guesses refused before the limit")
		}
	}
	if _, ok := l.Attempt("duty", "10.0.0.66"); ok {
		t.Fatal("the attacker's sixth guess let through")
	}
	if wait, ok := l.Attempt("duty", "10.0.0.7"); !ok {
		t.Fatalf("the duty officer's own sign-in from their PC refused for %v", wait)
	}
}

// A spray of user names (and addresses) keeps the limiter's tables at
// their bound: memory stays bounded.
func TestLoginLimiterMemoryIsBounded(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLoginLimiter(5, 1_000_000, 5*time.Minute, clk.Now)
	const names = 100_000
	for i := range names {
		l.Attempt(fmt.Sprint("guess", i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if n := l.pairs.len(); n != MaxTrackedLogins || len(l.pairs.byKey) != MaxTrackedLogins {
		t.Fatalf("%d pairs of name and address kept after %d names, want the bound %d", n, names, MaxTrackedLogins)
	}
	if n := l.addrs.len(); n != MaxTrackedLogins {
		t.Fatalf("%d addresses kept, want the bound %d", n, MaxTrackedLogins)
	}
	// The newest are those kept: a guess just made is still counted.
	for range 4 {
		l.Attempt(fmt.Sprint("guess", names-1), "10.1.134.159")
	}
	if _, ok := l.Attempt(fmt.Sprint("guess", names-1), "10.1.134.159"); ok {
		t.Fatal("the most recent pair's failures were forgotten")
	}
}
