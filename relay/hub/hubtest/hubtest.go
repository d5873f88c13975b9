// Package hubtest waits on a hub the way the tests of its producers (RTSP
// pull, the site simulator) need: until a camera is online and its first
// unit, the cached keyframe, can be read.
package hubtest

import (
	"context"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/relay/hub"
)

// FirstUnit waits up to within for key to come online in h and returns the
// first unit a new reader gets; the test fails if none comes.
func FirstUnit(t testing.TB, ctx context.Context, h *hub.Hub, key hub.Key, within time.Duration) avc.AccessUnit {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if !h.Online(key) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		r, err := h.Subscribe(key)
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, time.Until(deadline))
		au, err := r.Read(rctx)
		cancel()
		r.Close()
		if err == nil {
			return au
		}
	}
	t.Fatalf("no unit of %s in the hub within %v", key, within)
	return avc.AccessUnit{}
}
