package fakeclock

import (
	"sync"
	"testing"
	"time"
)

func TestAdvance(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	c := New(t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { // readers meanwhile, for the race detector
			defer wg.Done()
			for range 100 {
				_ = c.Now()
			}
		}()
	}
	for range 10 {
		c.Advance(time.Second)
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("Now() = %v after ten seconds from %v", got, t0)
	}
}
