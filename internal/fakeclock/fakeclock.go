// Package fakeclock is a clock a test sets by hand, for code that takes the
// time from an injected Now (stream health, stalls, token expiry, timers),
// so that a test of it never waits for time to pass.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is safe for the code under test to read while the test advances it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the time the clock stands at.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
