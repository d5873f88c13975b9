// Package eventually waits, in tests, for what other goroutines and
// processes bring about. A test states the condition it checks and a ceiling
// that only catches a hang: on a machine busy with other builds and tests a
// condition may take many times longer than it does on an idle one, and that
// is not a failure.
package eventually

import (
	"testing"
	"time"
)

// Ceiling is the wait for what takes a moment on an idle machine (a peer
// connecting, ffmpeg starting, a stream coming online): long enough that
// load is not mistaken for a hang, short enough that a hang ends the test.
const Ceiling = time.Minute

// True polls cond until it holds; the test fails, naming what it waited
// for, if within passes first.
func True(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
