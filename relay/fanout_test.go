package relay

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/hub"
)

// pace publishes units at fps, looping them with increasing PTS, until ctx
// ends; sent counts the units written.
func pace(ctx context.Context, p *publisher, units []avc.AccessUnit, fps int, sent *atomic.Int64) <-chan error {
	errc := make(chan error, 1)
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(fps))
		defer tick.Stop()
		for i := 0; ; i++ {
			au := units[i%len(units)]
			au.PTS = time.Duration(i) * time.Second / time.Duration(fps)
			pkts, err := p.pz.Packetize(au)
			if err != nil {
				errc <- err
				return
			}
			for _, pkt := range pkts {
				if err := p.track.WriteRTP(pkt); err != nil {
					errc <- fmt.Errorf("writing RTP: %w", err)
					return
				}
			}
			sent.Add(1)
			select {
			case <-ctx.Done():
				errc <- nil
				return
			case <-tick.C:
			}
		}
	}()
	return errc
}

// publishPaced publishes units to site/camera's main stream with pace until
// the test ends, and returns the count of units sent.
func publishPaced(t *testing.T, ctx context.Context, r *Relay, site, camera string, units []avc.AccessUnit, fps int) *atomic.Int64 {
	t.Helper()
	p := publish(t, r, site, camera, "main")
	sent := new(atomic.Int64)
	ctx, stop := context.WithCancel(ctx)
	fed := pace(ctx, p, units, fps, sent)
	t.Cleanup(func() {
		stop()
		if err := <-fed; err != nil {
			t.Errorf("publishing: %v", err)
		}
	})
	return sent
}

// sendMore waits for the publisher to send n more units than it had: a
// window counted in units, which a busy machine may stretch in time but
// not shorten.
func sendMore(t *testing.T, sent *atomic.Int64, n int64, fps int) {
	t.Helper()
	from := sent.Load()
	nominal := time.Duration(n) * time.Second / time.Duration(fps)
	eventually.True(t, nominal+eventually.Ceiling, fmt.Sprintf("the publisher sending %d units", n), func() bool { return sent.Load()-from >= n })
}

// hangGuard bounds a whole fan-out test, whose waits each have
// eventually.Ceiling.
const hangGuard = 5 * eventually.Ceiling

// fanViewer is one of many viewers joining at once.
type fanViewer struct {
	c     *webrtcclient.Viewer
	first chan avc.AccessUnit // the first unit read
	units atomic.Int64
	// stop ends the viewer's reading (it stalls); read returns when it has.
	stop context.CancelFunc
	read chan error
}

// joinAll starts n viewers of url concurrently, each reading its track.
func joinAll(t *testing.T, ctx context.Context, url, token string, n int) []*fanViewer {
	t.Helper()
	api, err := webrtcclient.NewAPI(url) // one for all: they share a machine
	if err != nil {
		t.Fatal(err)
	}
	cfg := webrtcclient.Config{Token: token, API: api}
	viewers := make([]*fanViewer, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := webrtcclient.Play(ctx, url, cfg)
			if err != nil {
				errs <- fmt.Errorf("viewer %d: %w", i, err)
				return
			}
			v := &fanViewer{c: c, first: make(chan avc.AccessUnit, 1)}
			viewers[i] = v
			v.startReading(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for _, v := range viewers {
		if v != nil {
			t.Cleanup(func() { v.c.PC.Close() })
		}
	}
	for err := range errs {
		t.Fatal(err)
	}
	return viewers
}

func (v *fanViewer) startReading(ctx context.Context) {
	readCtx, stop := context.WithCancel(ctx)
	v.stop, v.read = stop, make(chan error, 1)
	go func() {
		v.read <- v.c.Read(readCtx, func(au avc.AccessUnit) {
			if v.units.Add(1) == 1 {
				v.first <- au
			}
		})
	}()
}

// firstUnits checks that every viewer's first unit is a keyframe a decoder
// can start from.
func firstUnits(t *testing.T, viewers []*fanViewer) {
	t.Helper()
	timeout := time.After(eventually.Ceiling)
	for i, v := range viewers {
		select {
		case au := <-v.first:
			if sps, pps := au.ParamSets(); !au.Keyframe || sps == nil || pps == nil {
				t.Fatalf("viewer %d: first unit keyframe=%v, SPS and PPS %v", i, au.Keyframe, sps != nil && pps != nil)
			}
		case <-timeout:
			t.Fatalf("viewer %d: no video within %v of joining (peer %s, %d units)", i, eventually.Ceiling, v.c.PC.ConnectionState(), v.units.Load())
		}
	}
}

// stats returns every viewer's packet counts so far.
func stats(viewers []*fanViewer) []webrtcclient.Stats {
	out := make([]webrtcclient.Stats, len(viewers))
	for i, v := range viewers {
		out[i] = v.c.Stats()
	}
	return out
}

// checkLoss fails when the viewers together lost more than 2 % of the
// packets sent them between two counts. On loopback nothing is lost while
// the machine keeps up; a loaded machine (the race detector, other builds)
// loses a little when a viewer's goroutine is late to drain its socket,
// which is the clients' share of the machine, not the relay's doing.
func checkLoss(t *testing.T, before, after []webrtcclient.Stats) {
	t.Helper()
	// Signed: a retransmission may fill a gap counted before.
	var lost, expected int64
	for i := range before {
		lost += int64(after[i].Lost) - int64(before[i].Lost)
		expected += int64(after[i].Expected) - int64(before[i].Expected)
	}
	if expected == 0 || lost*50 > expected {
		t.Errorf("the viewers lost %d of %d packets", lost, expected)
	}
}

// keptUp checks that every viewer receives the want units sent since it
// had before[i]. A machine busy with other work delays the viewers, which
// is not what the tests check, so the ceiling only catches a hang: a viewer
// held up by another's stall gets nothing while the stall lasts.
func keptUp(t *testing.T, viewers []*fanViewer, before []int64, want int64) {
	t.Helper()
	for i, v := range viewers {
		// A unit may be in flight at either end of the count.
		eventually.True(t, eventually.Ceiling, fmt.Sprintf("viewer %d receiving the %d units sent", i, want), func() bool {
			return v.units.Load()-before[i] >= want-2
		})
	}
}

// counts returns every viewer's units so far.
func counts(viewers []*fanViewer) []int64 {
	out := make([]int64, len(viewers))
	for i, v := range viewers {
		out[i] = v.units.Load()
	}
	return out
}

func TestFiftyViewersOfOneCamera(t *testing.T) {
	// A sub stream: fifty viewers and their relay sessions share the
	// test's process and two cores.
	const fps = 10
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 180, FPS: fps, GOP: 2 * fps, Seconds: 4, Kbps: 200})
	if err != nil {
		t.Fatal(err)
	}
	// Fifty sessions of one sign-in: over a console's limit.
	r := startDemo(t, writeConfig(t, "limits: {whep_sessions_per_user: 50}\n"))
	token := login(t, r, "duty", r.Demo().Password)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	sent := publishPaced(t, ctx, r, "site-01", "doff1", units, fps)

	viewers := joinAll(t, ctx, r.URL()+"/whep/site-01/doff1?stream=main", token, 50)
	firstUnits(t, viewers)
	if n := len(r.Viewers()); n != 50 {
		t.Fatalf("relay has %d viewers, want 50", n)
	}

	// Every viewer gets every unit the camera sends, 3 s of them.
	const window = 3 * fps
	before, sentBefore, statsBefore := counts(viewers), sent.Load(), stats(viewers)
	sendMore(t, sent, window, fps)
	keptUp(t, viewers, before, sent.Load()-sentBefore)
	checkLoss(t, statsBefore, stats(viewers))
	st, _ := r.hub.State(hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain})
	if st.Readers != 50 || st.Drops != 0 {
		t.Fatalf("stream has %d readers, dropped %d units", st.Readers, st.Drops)
	}
}

func TestStalledViewerDoesNotSlowTheOthers(t *testing.T) {
	// A main stream of 2 Mbit/s: the stalled viewer's receive buffer (pion
	// keeps 1 MB per track) overflows after about 4 s.
	const fps = 15
	units, err := testmedia.Units(testmedia.Spec{Width: 640, Height: 360, FPS: fps, GOP: 2 * fps, Seconds: 4, Kbps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	r := startDemo(t, "")
	token := login(t, r, "duty", r.Demo().Password)
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	sent := publishPaced(t, ctx, r, "site-02", "gate", units, fps)

	viewers := joinAll(t, ctx, r.URL()+"/whep/site-02/gate?stream=main", token, 4)
	firstUnits(t, viewers)
	stalled, others := viewers[0], viewers[1:]

	// The stalled viewer stops reading its track; the relay keeps sending,
	// 8 s of the stream, twice what the stalled viewer's buffer holds.
	stalled.stop()
	<-stalled.read
	const window = 8 * fps
	before, sentBefore, statsBefore := counts(others), sent.Load(), stats(others)
	sendMore(t, sent, window, fps)
	keptUp(t, others, before, sent.Load()-sentBefore)
	checkLoss(t, statsBefore, stats(others))

	// Read again, the stalled viewer works through what its buffer kept,
	// finds the packets dropped once it was full missing, and goes on.
	stalled.startReading(ctx)
	eventually.True(t, eventually.Ceiling, "the stalled viewer counting the packets its full buffer dropped", func() bool { return stalled.c.Stats().Lost >= 300 })
	resumed := stalled.units.Load()
	eventually.True(t, eventually.Ceiling, "the stalled viewer receiving again", func() bool { return stalled.units.Load() >= resumed+15 })
	st := stalled.c.Stats()
	t.Logf("stalled viewer: %d of %d packets lost", st.Lost, st.Expected)
	// The relay itself held nothing back: its queue for the stalled viewer
	// never filled, since pion's sending never blocks on a slow reader.
	hs, _ := r.hub.State(hub.Key{Site: "site-02", Camera: "gate", Stream: hub.StreamMain})
	if hs.Readers != 4 || hs.Drops != 0 {
		t.Fatalf("stream has %d readers, dropped %d units", hs.Readers, hs.Drops)
	}
}
