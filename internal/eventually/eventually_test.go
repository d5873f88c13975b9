package eventually

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is a testing.TB that records a failure instead of ending the
// test, so that True's verdict can be checked.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestTrue(t *testing.T) {
	var polls atomic.Int32
	r := &recorder{TB: t}
	True(r, Ceiling, "the third poll", func() bool { return polls.Add(1) >= 3 })
	if r.failed != "" || polls.Load() != 3 {
		t.Fatalf("after %d polls: failed %q", polls.Load(), r.failed)
	}

	// Fatalf ends a real test; the recorder returns, so the condition
	// turning true stops the loop after the verdict.
	r = &recorder{TB: t}
	var calls int
	True(r, 50*time.Millisecond, "a condition that never holds", func() bool { calls++; return r.failed != "" })
	if want := "a condition that never holds: not within 50ms"; r.failed != want {
		t.Fatalf("failure %q, want %q", r.failed, want)
	}
	if calls < 2 {
		t.Fatalf("cond polled %d times", calls)
	}
}
