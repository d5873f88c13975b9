package auth

import (
	"sync"
	"time"
)

// LoginLimiter slows password guessing: each user name and each client
// address may fail a sign-in a number of times within a window, and then
// once more every window/number. A leaky bucket per key does it: each
// attempt fills it by one, and it drains at number per window.
//
// Attempts are counted when they start and refunded when they succeed, so
// that many guesses in parallel cannot all slip under the limit while their
// bcrypt comparisons run.
type LoginLimiter struct {
	perUser, perAddr float64
	window           time.Duration
	now              func() time.Time

	mu    sync.Mutex
	users map[string]*bucket
	addrs map[string]*bucket
}

type bucket struct {
	level float64
	at    time.Time
}

// pruneAt is the map size beyond which drained buckets are forgotten, so
// guesses at many names or from many addresses do not grow memory for good.
const pruneAt = 4096

// NewLoginLimiter allows perUser failures per user name and perAddr per
// client address within window. now is the clock (time.Now when nil).
func NewLoginLimiter(perUser, perAddr int, window time.Duration, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{
		perUser: float64(max(perUser, 1)), perAddr: float64(max(perAddr, 1)), window: window, now: now,
		users: make(map[string]*bucket), addrs: make(map[string]*bucket),
	}
}

// drain brings b's level to now and returns it.
func (l *LoginLimiter) drain(b *bucket, capacity float64, now time.Time) float64 {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.level = max(0, b.level-capacity*elapsed.Seconds()/l.window.Seconds())
		b.at = now
	}
	return b.level
}

func (l *LoginLimiter) get(m map[string]*bucket, key string, now time.Time) *bucket {
	b, ok := m[key]
	if !ok {
		if len(m) >= pruneAt {
			l.prune(m, now)
		}
		b = &bucket{at: now}
		m[key] = b
	}
	return b
}

func (l *LoginLimiter) prune(m map[string]*bucket, now time.Time) {
	for k, b := range m {
		// Either capacity drains a bucket by the window's end.
		if now.Sub(b.at) >= l.window {
			delete(m, k)
		}
	}
}

// Attempt starts a sign-in of user from addr. When either has used up its
// failures, it returns false and how long until an attempt is allowed.
func (l *LoginLimiter) Attempt(user, addr string) (retryAfter time.Duration, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	ub, ab := l.get(l.users, user, now), l.get(l.addrs, addr, now)
	uWait := l.wait(ub, l.perUser, now)
	aWait := l.wait(ab, l.perAddr, now)
	if wait := max(uWait, aWait); wait > 0 {
		return wait, false
	}
	ub.level++
	ab.level++
	return 0, true
}

// wait returns how long until b has room for one more attempt.
func (l *LoginLimiter) wait(b *bucket, capacity float64, now time.Time) time.Duration {
	over := l.drain(b, capacity, now) + 1 - capacity
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(l.window) / capacity)
}

// Succeeded refunds an attempt that signed in: the user's failures are
// forgotten, the address's attempt is given back.
func (l *LoginLimiter) Succeeded(user, addr string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.users, user)
	if b, ok := l.addrs[addr]; ok {
		l.drain(b, l.perAddr, now)
		b.level = max(0, b.level-1)
	}
}
