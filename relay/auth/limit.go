package auth

import (
	"container/list"
	"sync"
	"time"
)

// LoginLimiter slows password guessing: a user name may fail a sign-in a
// number of times from one client address within a window, and each
// address a (larger) number of times whatever the names, and then once
// more every window/number. A leaky bucket per key does it: each attempt
// fills it by one, and it drains at number per window.
//
// There is no bucket per user name alone: one would let anyone who knows
// a name lock its owner out from their own PC by failing on purpose. A
// guesser spread over many addresses is slowed by bcrypt alone.
//
// Attempts are counted when they start and refunded when they succeed, so
// that many guesses in parallel cannot all slip under the limit while their
// bcrypt comparisons run.
type LoginLimiter struct {
	perPair, perAddr float64
	window           time.Duration
	now              func() time.Time

	mu    sync.Mutex
	pairs *buckets // by user name and address
	addrs *buckets // by address
}

// MaxTrackedLogins bounds each of the limiter's tables (pairs of user name
// and address, addresses): beyond it the least recently tried is
// forgotten, so that a spray of names or addresses cannot grow the relay's
// memory. Forgetting only ever lets an attempt through early, and filling
// a table takes that many distinct keys, each of them limited.
const MaxTrackedLogins = 10000

type bucket struct {
	key   string
	level float64
	at    time.Time
}

// buckets is a table of buckets by key that forgets its least recently
// used beyond max.
type buckets struct {
	max   int
	byKey map[string]*list.Element // of *bucket
	order *list.List               // most recently used first
}

func newBuckets(max int) *buckets {
	return &buckets{max: max, byKey: make(map[string]*list.Element), order: list.New()}
}

// peek returns key's bucket, or nil; it does not count as a use.
func (t *buckets) peek(key string) *bucket {
	if e, ok := t.byKey[key]; ok {
		return e.Value.(*bucket)
	}
	return nil
}

// use returns key's bucket, making it (empty, at now) if need be, and
// marks it most recently used.
func (t *buckets) use(key string, now time.Time) *bucket {
	if e, ok := t.byKey[key]; ok {
		t.order.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if t.order.Len() >= t.max {
		oldest := t.order.Back()
		t.order.Remove(oldest)
		delete(t.byKey, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, at: now}
	t.byKey[key] = t.order.PushFront(b)
	return b
}

func (t *buckets) remove(key string) {
	if e, ok := t.byKey[key]; ok {
		t.order.Remove(e)
		delete(t.byKey, key)
	}
}

func (t *buckets) len() int { return t.order.Len() }

// NewLoginLimiter allows perUser failures of one user name from one client
// address, and perAddr from one address, within window. now is the clock
// (time.Now when nil).
func NewLoginLimiter(perUser, perAddr int, window time.Duration, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{
		perPair: float64(max(perUser, 1)), perAddr: float64(max(perAddr, 1)), window: window, now: now,
		pairs: newBuckets(MaxTrackedLogins), addrs: newBuckets(MaxTrackedLogins),
	}
}

func pairKey(user, addr string) string { return addr + "\x00" + user }

// drain brings b's level to now and returns it.
func (l *LoginLimiter) drain(b *bucket, capacity float64, now time.Time) float64 {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.level = max(0, b.level-capacity*elapsed.Seconds()/l.window.Seconds())
		b.at = now
	}
	return b.level
}

// wait returns how long until b (nil: an empty bucket) has room for one
// more attempt.
func (l *LoginLimiter) wait(b *bucket, capacity float64, now time.Time) time.Duration {
	if b == nil {
		return 0
	}
	over := l.drain(b, capacity, now) + 1 - capacity
	if over <= 0 {
		return 0
	}
	return time.Duration(over * float64(l.window) / capacity)
}

// Attempt starts a sign-in of user from addr. When the pair or the address
// has used up its failures, it returns false and how long until an attempt
// is allowed; a refused attempt is not counted and adds nothing to the
// tables.
func (l *LoginLimiter) Attempt(user, addr string) (retryAfter time.Duration, ok bool) {
	now := l.now()
	key := pairKey(user, addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	pWait := l.wait(l.pairs.peek(key), l.perPair, now)
	aWait := l.wait(l.addrs.peek(addr), l.perAddr, now)
	if wait := max(pWait, aWait); wait > 0 {
		return wait, false
	}
	l.pairs.use(key, now).level++
	l.addrs.use(addr, now).level++
	return 0, true
}

// Succeeded refunds an attempt that signed in: the user's failures from
// addr are forgotten, the address's attempt is given back.
func (l *LoginLimiter) Succeeded(user, addr string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pairs.remove(pairKey(user, addr))
	if b := l.addrs.peek(addr); b != nil {
		l.drain(b, l.perAddr, now)
		b.level = max(0, b.level-1)
	}
}
