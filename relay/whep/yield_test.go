package whep_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
	"github.com/qianliyan/qianliyan/relay/whep"
)

// probe counts the units sessions send and lets a goroutine wait for the first.
type probe struct {
	sent  atomic.Int64
	first chan struct{}
}

func (p *probe) FirstKeyframe(time.Duration) {}

func (p *probe) Sent(int, int) {
	if p.sent.Add(1) == 1 {
		close(p.first)
	}
}

// TestSendingYieldsBetweenUnits: a session with a backlog (here the cached
// GOP, 100 units at once) lets other goroutines run between its units. On
// one P, a goroutine woken by the first unit runs before the second: were
// the session to send its whole backlog first, a relay with hundreds of
// lagging viewers would starve its publishers' socket readers until ICE
// dropped them, as bench fanout found.
func TestSendingYieldsBetweenUnits(t *testing.T) {
	const gop = 100
	units, err := testmedia.Units(testmedia.Spec{Width: 160, Height: 96, FPS: 10, GOP: gop, Seconds: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, st := storetest.Open(t)

	h := hub.New(hub.Config{})
	defer h.Close()
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain}
	src, err := h.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range units[:gop] {
		src.Write(au)
	}

	p := &probe{first: make(chan struct{})}
	srv, stop := newServer(t, ctx, whep.Config{Hub: h, Recorder: st, Observer: p})
	defer stop()
	web := offers(func(ctx context.Context, offer string) (whep.Session, error) {
		return srv.Play(ctx, whep.Request{Key: key, User: "duty", Offer: offer})
	})
	defer web.Close()

	seen := make(chan int64, 1)
	go func() {
		<-p.first
		seen <- p.sent.Load()
	}()
	// One P: who runs when is the scheduler's choice alone.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	v, err := webrtcclient.Play(ctx, web.URL+"/whep/site-01/doff1", webrtcclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.PC.Close()
	var got atomic.Int64
	go v.Read(ctx, func(avc.AccessUnit) { got.Add(1) })

	select {
	case n := <-seen:
		if n > 5 {
			t.Fatalf("the session sent %d of its %d queued units before letting another goroutine run", n, gop)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing sent within 10 s")
	}
	// Yielding does not stop the session: the whole backlog goes out, and
	// the viewer has video. (Not necessarily every unit: on one P the
	// viewer's socket reader runs only when the sender yields to it, and a
	// burst may overflow its socket.)
	deadline := time.Now().Add(10 * time.Second)
	for p.sent.Load() < gop || got.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("within 10 s the session sent %d of %d units and the viewer got %d", p.sent.Load(), gop, got.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
