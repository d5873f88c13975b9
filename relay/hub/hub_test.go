package hub

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
)

// An SPS for 640x360 constrained baseline level 3.1, as x264 writes it.
var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x8f, 0x18, 0x32, 0x48}
	testPPS = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
)

var key = Key{Site: "site-01", Camera: "doff1", Stream: StreamMain}

// frameStep is the spacing of the synthetic stream, 25 fps.
const frameStep = 40 * time.Millisecond

// unit builds access unit n of a synthetic stream: a keyframe when key is
// set, with SPS and PPS when withParams is; its payload carries n so tests
// can tell units apart.
func unit(n int, keyframe, withParams bool) avc.AccessUnit {
	var nalus [][]byte
	if withParams {
		nalus = append(nalus, testSPS, testPPS)
	}
	if keyframe {
		nalus = append(nalus, []byte{0x65, 0x88, byte(n >> 8), byte(n)})
	} else {
		nalus = append(nalus, []byte{0x41, 0x9a, byte(n >> 8), byte(n)})
	}
	return avc.NewAccessUnit(nalus, time.Duration(n)*frameStep)
}

// number recovers n from a unit built by unit.
func number(au avc.AccessUnit) int {
	last := au.NALUs[len(au.NALUs)-1]
	return int(last[2])<<8 | int(last[3])
}

// readN reads n units, failing the test if they do not come.
func readN(t *testing.T, r *Reader, n int) []avc.AccessUnit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventually.Ceiling)
	defer cancel()
	out := make([]avc.AccessUnit, 0, n)
	for range n {
		au, err := r.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d units: %v", len(out), n, err)
		}
		out = append(out, au)
	}
	return out
}

// expectEmpty fails if the reader has a unit queued.
func expectEmpty(t *testing.T, r *Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if au, err := r.Read(ctx); err == nil {
		t.Fatalf("unexpected unit %d queued", number(au))
	}
}

func numbers(units []avc.AccessUnit) []int {
	out := make([]int, len(units))
	for i, au := range units {
		out[i] = number(au)
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNewReaderGetsCachedGOPThenLive(t *testing.T) {
	h := New(Config{})
	src, err := h.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	// First GOP carries its parameter sets; the second keyframe does not,
	// as with cameras that send them once.
	src.Write(unit(0, true, true))
	src.Write(unit(1, false, false))
	src.Write(unit(2, true, false))
	src.Write(unit(3, false, false))
	src.Write(unit(4, false, false))

	r, err := h.Subscribe(key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := readN(t, r, 3)
	if !equalInts(numbers(got), []int{2, 3, 4}) {
		t.Fatalf("cached units %v, want [2 3 4]", numbers(got))
	}
	first := got[0]
	if !first.Keyframe {
		t.Fatal("first unit is not a keyframe")
	}
	if sps, pps := first.ParamSets(); !bytes.Equal(sps, testSPS) || !bytes.Equal(pps, testPPS) {
		t.Fatalf("cached keyframe lacks SPS/PPS: %d NAL units", len(first.NALUs))
	}
	expectEmpty(t, r)

	src.Write(unit(5, false, false))
	if n := number(readN(t, r, 1)[0]); n != 5 {
		t.Fatalf("live unit %d, want 5", n)
	}
}

func TestReaderBeforeFirstKeyframeWaitsForIt(t *testing.T) {
	h := New(Config{})
	src, _ := h.Publish(key)
	src.Write(unit(0, false, false)) // joined a camera mid-GOP
	r, _ := h.Subscribe(key)
	defer r.Close()
	src.Write(unit(1, false, false))
	expectEmpty(t, r)
	src.Write(unit(2, true, true))
	src.Write(unit(3, false, false))
	if got := numbers(readN(t, r, 2)); !equalInts(got, []int{2, 3}) {
		t.Fatalf("got %v, want [2 3]", got)
	}
	if r.Dropped() != 0 {
		t.Fatalf("waiting for the first keyframe counted %d drops", r.Dropped())
	}
}

func TestOverflowDropsUntilNextKeyframe(t *testing.T) {
	cases := []struct {
		name string
		// readAfter is how many units the reader consumes after unit
		// number readAt has been written (-1: never reads until the end).
		readAt, readAfter int
		want              []int
		wantDrops         uint64
	}{
		// Queue of 3 fills with 0,1,2; 3 and 4 are dropped; keyframe 5
		// replaces the stale queue.
		{name: "reader asleep", readAt: -1, want: []int{5, 6}, wantDrops: 5},
		// The reader takes 0 and 1 after the overflow at 3; at keyframe 5
		// the unread 2 is stale and goes.
		{name: "reader catches up partly", readAt: 4, readAfter: 2, want: []int{0, 1, 5, 6}, wantDrops: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(Config{ReaderQueue: 3})
			src, _ := h.Publish(key)
			r, _ := h.Subscribe(key)
			defer r.Close()
			var got []avc.AccessUnit
			for n := range 7 {
				src.Write(unit(n, n == 0 || n == 5, n == 0))
				if n == c.readAt {
					got = append(got, readN(t, r, c.readAfter)...)
				}
			}
			got = append(got, readN(t, r, len(c.want)-len(got))...)
			expectEmpty(t, r)
			if !equalInts(numbers(got), c.want) {
				t.Fatalf("reader got %v, want %v", numbers(got), c.want)
			}
			if r.Dropped() != c.wantDrops {
				t.Fatalf("reader dropped %d, want %d", r.Dropped(), c.wantDrops)
			}
			if st, _ := h.State(key); st.Drops != c.wantDrops {
				t.Fatalf("stream counted %d drops, want %d", st.Drops, c.wantDrops)
			}
		})
	}
}

// TestLagInTimeDropsUntilNextKeyframe: with room for many units, a reader
// more than MaxLag behind in stream time is cut to the next keyframe all
// the same, and a reader that keeps up loses nothing.
func TestLagInTimeDropsUntilNextKeyframe(t *testing.T) {
	cases := []struct {
		name      string
		reads     bool
		want      []int
		wantDrops uint64
	}{
		// 0 to 5 span 200 ms and stay; 6 is 240 ms after 0 and starts the
		// skipping (6 to 9); keyframe 10 replaces the stale 0 to 5.
		{name: "reader asleep", want: []int{10, 11, 12, 13, 14}, wantDrops: 10},
		{name: "reader keeps up", reads: true, want: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(Config{ReaderQueue: 1000, MaxLag: 5 * frameStep})
			src, _ := h.Publish(key)
			r, _ := h.Subscribe(key)
			defer r.Close()
			var got []avc.AccessUnit
			for n := range 15 {
				src.Write(unit(n, n%10 == 0, n == 0))
				if c.reads {
					got = append(got, readN(t, r, 1)...)
				}
			}
			got = append(got, readN(t, r, len(c.want)-len(got))...)
			expectEmpty(t, r)
			if !equalInts(numbers(got), c.want) {
				t.Fatalf("reader got %v, want %v", numbers(got), c.want)
			}
			if r.Dropped() != c.wantDrops {
				t.Fatalf("reader dropped %d, want %d", r.Dropped(), c.wantDrops)
			}
		})
	}
}

func TestSlowReaderDoesNotHoldBackOthers(t *testing.T) {
	h := New(Config{ReaderQueue: 10})
	src, _ := h.Publish(key)
	slow, _ := h.Subscribe(key)
	defer slow.Close()
	fast, _ := h.Subscribe(key)
	defer fast.Close()

	const total = 200
	got := make(chan []int, 1)
	var read atomic.Int64
	reading := make(chan struct{})
	go func() {
		defer close(reading)
		var ns []int
		ctx, cancel := context.WithTimeout(context.Background(), eventually.Ceiling)
		defer cancel()
		for len(ns) < total {
			au, err := fast.Read(ctx)
			if err != nil {
				break
			}
			ns = append(ns, number(au))
			read.Add(1)
		}
		got <- ns
	}()
	// The source must never wait for the slow reader: every Write returns
	// at once. The fast reader reads everything as long as its consumer
	// keeps up, which the writer waits for every ten units (its queue's
	// length), however late a busy machine runs the consumer.
	written := make(chan struct{})
	go func() {
		defer close(written)
		for n := range total {
			src.Write(unit(n, n%25 == 0, n == 0))
			for n%10 == 9 && read.Load() <= int64(n) {
				select {
				case <-reading:
					return
				case <-time.After(time.Millisecond):
				}
			}
		}
	}()
	select {
	case <-written:
	case <-time.After(eventually.Ceiling):
		t.Fatal("source blocked by a reader")
	}
	ns := <-got
	if len(ns) != total || fast.Dropped() != 0 {
		t.Fatalf("fast reader got %d of %d units, dropped %d", len(ns), total, fast.Dropped())
	}
	for i, n := range ns {
		if n != i {
			t.Fatalf("fast reader's unit %d is %d", i, n)
		}
	}
	if slow.Dropped() == 0 {
		t.Fatal("slow reader dropped nothing")
	}
	// Whatever the slow reader has queued starts at a keyframe or follows on
	// from what it had: no unit follows a gap unless it is a keyframe.
	prev := -1
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for {
		au, err := slow.Read(ctx)
		if err != nil {
			break
		}
		if n := number(au); n != prev+1 && !au.Keyframe {
			t.Fatalf("slow reader got unit %d after %d, and it is no keyframe", n, prev)
		} else {
			prev = n
		}
	}
}

func TestSourceLeaveAndReturn(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	h := New(Config{Now: clock.Now})
	if h.Online(key) {
		t.Fatal("unknown stream online")
	}
	src, err := h.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish(key); !errors.Is(err, ErrAlreadyPublishing) {
		t.Fatalf("second publisher: %v, want ErrAlreadyPublishing", err)
	}
	r, _ := h.Subscribe(key)
	defer r.Close()
	src.Write(unit(0, true, true))
	src.Write(unit(1, false, false))
	readN(t, r, 2)

	clock.Advance(time.Minute)
	src.Close()
	src.Close() // idempotent
	src.Write(unit(2, false, false))
	st, _ := h.State(key)
	if st.Online || !st.Since.Equal(clock.Now()) || st.Frames != 2 {
		t.Fatalf("after leave: %+v", st)
	}
	if h.Online(key) {
		t.Fatal("stream online without a source")
	}
	// A reader joining now gets nothing stale from the old source.
	late, _ := h.Subscribe(key)
	defer late.Close()

	// The new source starts its own clock at zero, mid-GOP.
	src2, err := h.Publish(key)
	if err != nil {
		t.Fatalf("publishing after the source left: %v", err)
	}
	src2.Write(unit(0, false, false))
	expectEmpty(t, r)
	expectEmpty(t, late)
	src2.Write(unit(1, true, true))
	src2.Write(unit(2, false, false))
	for _, rd := range []*Reader{r, late} {
		got := readN(t, rd, 2)
		if !got[0].Keyframe || number(got[0]) != 1 || number(got[1]) != 2 {
			t.Fatalf("after return: units %v", numbers(got))
		}
		// Presentation times go on increasing across the source change.
		if rd == r && got[0].PTS <= frameStep {
			t.Fatalf("PTS went back to %v after the source change", got[0].PTS)
		}
		if got[1].PTS-got[0].PTS != frameStep {
			t.Fatalf("PTS step %v, want %v", got[1].PTS-got[0].PTS, frameStep)
		}
	}
	if st, _ := h.State(key); !st.Online || st.Readers != 2 {
		t.Fatalf("after return: %+v", st)
	}
}

func TestStateCountsAndInfo(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	h := New(Config{Now: clock.Now})
	src, _ := h.Publish(key)
	au := unit(0, true, true)
	src.Write(au)
	clock.Advance(time.Second)
	src.Write(unit(1, false, false))
	r, _ := h.Subscribe(key)
	st, ok := h.State(key)
	if !ok {
		t.Fatal("stream unknown")
	}
	wantBytes := uint64(au.Size() + unit(1, false, false).Size())
	if st.Frames != 2 || st.Bytes != wantBytes || !st.LastFrame.Equal(clock.Now()) || st.Readers != 1 {
		t.Fatalf("state %+v, want 2 frames, %d bytes, last frame %v, 1 reader", st, wantBytes, clock.Now())
	}
	if st.Info.Codec != "avc1.42c01f" || st.Info.Width != 640 || st.Info.Height != 360 {
		t.Fatalf("stream info %+v", st.Info)
	}
	r.Close()
	r.Close()
	if st, _ := h.State(key); st.Readers != 0 {
		t.Fatalf("closed reader still counted: %d readers", st.Readers)
	}
	if _, err := r.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("read on closed reader: %v", err)
	}
	if _, ok := h.State(Key{Site: "x", Camera: "y", Stream: StreamSub}); ok {
		t.Fatal("unknown stream reported")
	}
	if n := len(h.States()); n != 1 {
		t.Fatalf("%d streams, want 1", n)
	}
}

func TestOversizedGOPIsNotCached(t *testing.T) {
	h := New(Config{MaxGOP: 3})
	src, _ := h.Publish(key)
	for n := range 5 { // keyframe and four more: over the cap
		src.Write(unit(n, n == 0, n == 0))
	}
	r, _ := h.Subscribe(key)
	defer r.Close()
	src.Write(unit(5, false, false))
	expectEmpty(t, r) // a partial GOP would not decode
	src.Write(unit(6, true, false))
	got := readN(t, r, 1)[0]
	if number(got) != 6 {
		t.Fatalf("got unit %d, want keyframe 6", number(got))
	}
	if sps, pps := got.ParamSets(); sps == nil || pps == nil {
		t.Fatal("keyframe lacks remembered parameter sets")
	}
}

func TestCachedGOPLongerThanQueueIsDeliveredWhole(t *testing.T) {
	h := New(Config{ReaderQueue: 2})
	src, _ := h.Publish(key)
	for n := range 6 {
		src.Write(unit(n, n == 0, n == 0))
	}
	r, _ := h.Subscribe(key)
	defer r.Close()
	src.Write(unit(6, false, false))
	if got := numbers(readN(t, r, 7)); !equalInts(got, []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Fatalf("got %v", got)
	}
	if r.Dropped() != 0 {
		t.Fatalf("dropped %d", r.Dropped())
	}
}

func TestReadStopsOnCancelAndHubClose(t *testing.T) {
	h := New(Config{})
	r, _ := h.Subscribe(key)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("read after cancel: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(context.Background())
		done <- err
	}()
	h.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("read after hub close: %v", err)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("read did not return after hub close")
	}
	if _, err := h.Publish(key); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
	if _, err := h.Subscribe(key); !errors.Is(err, ErrClosed) {
		t.Fatalf("subscribe after close: %v", err)
	}
}

func TestKeyOther(t *testing.T) {
	if got := key.Other(); got.Stream != StreamSub || got.Site != key.Site {
		t.Fatalf("%v", got)
	}
	if got := key.Other().Other(); got != key {
		t.Fatalf("%v", got)
	}
}

func TestStatusOnlineStalledOffline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	clock := fakeclock.New(t0)
	h := New(Config{Now: clock.Now, StallAfter: 2 * time.Second})
	status := func() (Status, time.Time) {
		st, _ := h.State(key)
		return st.Status, st.StatusSince
	}
	expect := func(step string, want Status, since time.Time) {
		t.Helper()
		if got, at := status(); got != want || !at.Equal(since) {
			t.Fatalf("%s: %s since %v, want %s since %v", step, got, at.Sub(t0), want, since.Sub(t0))
		}
	}

	src, _ := h.Publish(key)
	expect("attached", StatusOnline, t0)
	clock.Advance(2 * time.Second)
	expect("2 s without a unit is not yet a stall", StatusOnline, t0)
	clock.Advance(time.Millisecond)
	expect("a source that never sends stalls", StatusStalled, t0)

	src.Write(unit(0, true, true))
	resumed := clock.Now()
	expect("first unit", StatusOnline, resumed)
	for n := 1; n <= 10; n++ {
		clock.Advance(frameStep)
		src.Write(unit(n, false, false))
	}
	expect("flowing", StatusOnline, resumed)
	last := clock.Now()
	clock.Advance(2*time.Second + time.Millisecond)
	expect("frames stopped", StatusStalled, last)
	src.Write(unit(11, false, false))
	expect("frames again", StatusOnline, clock.Now())

	clock.Advance(time.Second)
	src.Close()
	expect("source gone", StatusOffline, clock.Now())
	if st, _ := h.State(key); st.Online || st.FPS != 0 {
		t.Fatalf("offline state %+v", st)
	}
}

func TestRatesAndKeyframeInterval(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	h := New(Config{Now: clock.Now})
	src, _ := h.Publish(key)
	// 25 fps, a keyframe every 50 units (2 s), for 6 s.
	size := 0
	for n := range 150 {
		au := unit(n, n%50 == 0, n == 0)
		if n >= 150-75 { // the last RateWindow
			size += au.Size()
		}
		src.Write(au)
		clock.Advance(frameStep)
	}
	st, _ := h.State(key)
	if st.FPS < 24.9 || st.FPS > 25.1 {
		t.Fatalf("fps %.2f, want 25", st.FPS)
	}
	if want := float64(size*8) / RateWindow.Seconds(); st.Bitrate < want*0.99 || st.Bitrate > want*1.01 {
		t.Fatalf("bitrate %.0f, want %.0f", st.Bitrate, want)
	}
	if st.KeyframeInterval != 50*frameStep {
		t.Fatalf("keyframe interval %v, want %v", st.KeyframeInterval, 50*frameStep)
	}

	// A young source's rate is over its own life, not the whole window.
	src.Close()
	src, _ = h.Publish(key)
	for n := range 30 { // 1.2 s
		src.Write(unit(n, n == 0, n == 0))
		clock.Advance(frameStep)
	}
	if st, _ := h.State(key); st.FPS < 24.9 || st.FPS > 25.1 || st.KeyframeInterval != 0 {
		t.Fatalf("young source: fps %.2f, keyframe interval %v", st.FPS, st.KeyframeInterval)
	}
}

func TestKeyframeRequestsAreRateLimited(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	h := New(Config{Now: clock.Now, KeyframeRequestInterval: time.Second})
	var asked int
	src, _ := h.Publish(key)
	src.OnKeyframeRequest(func() { asked++ })

	// A reader joining a stream with nothing cached asks for a keyframe.
	r1, _ := h.Subscribe(key)
	defer r1.Close()
	if asked != 1 {
		t.Fatalf("joining without a cached keyframe asked %d times, want 1", asked)
	}
	// Fifty more at once make no more requests.
	for range 50 {
		r, _ := h.Subscribe(key)
		defer r.Close()
	}
	if r1.RequestKeyframe() || asked != 1 {
		t.Fatalf("requests within the interval passed on: %d", asked)
	}
	clock.Advance(time.Second)
	if !r1.RequestKeyframe() || asked != 2 {
		t.Fatalf("request after the interval not passed on: %d", asked)
	}
	// With a keyframe cached, joining asks nothing.
	src.Write(unit(0, true, true))
	clock.Advance(time.Second)
	r2, _ := h.Subscribe(key)
	defer r2.Close()
	if asked != 2 {
		t.Fatalf("joining with a cached keyframe asked: %d", asked)
	}
	st, _ := h.State(key)
	if st.KeyframeRequests != 2 || st.KeyframeRequestsLimited != 51 {
		t.Fatalf("counted %d requests, %d limited; want 2, 51", st.KeyframeRequests, st.KeyframeRequestsLimited)
	}
	// Without a source nobody is asked.
	src.Close()
	clock.Advance(time.Second)
	if r1.RequestKeyframe() {
		t.Fatal("request passed on without a source")
	}
}

// TestStalledStreamHoldsItsGOPUntilTheSourceSends: a reader joining a
// stalled stream is not handed the cached GOP as if it were live (a viewer
// asking again every few seconds would see the last second and a half
// before the freeze over and over); it gets it, for decoding, with the
// source's first new unit.
func TestStalledStreamHoldsItsGOPUntilTheSourceSends(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
	h := New(Config{Now: clock.Now, StallAfter: 2 * time.Second})
	src, _ := h.Publish(key)
	for n := range 3 {
		src.Write(unit(n, n == 0, n == 0))
		clock.Advance(frameStep)
	}
	clock.Advance(2 * time.Second)
	if st, _ := h.State(key); st.Status != StatusStalled {
		t.Fatalf("status %s, want stalled", st.Status)
	}
	frozen, _ := h.Subscribe(key)
	defer frozen.Close()
	again, _ := h.Subscribe(key) // the viewer asking again
	defer again.Close()
	expectEmpty(t, frozen)
	expectEmpty(t, again)

	// The camera sends again, mid-GOP: the held readers get the GOP they
	// need to decode it, ending with the new unit.
	src.Write(unit(3, false, false))
	for _, r := range []*Reader{frozen, again} {
		if got := numbers(readN(t, r, 4)); !equalInts(got, []int{0, 1, 2, 3}) {
			t.Fatalf("after the stall: units %v, want [0 1 2 3]", got)
		}
	}
	// Flowing again: a new reader gets the cached GOP at once.
	late, _ := h.Subscribe(key)
	defer late.Close()
	if got := numbers(readN(t, late, 4)); !equalInts(got, []int{0, 1, 2, 3}) {
		t.Fatalf("live again: cached units %v", got)
	}

	// A reader held by a stall whose source then leaves waits for the next
	// source's keyframe.
	clock.Advance(3 * time.Second)
	held, _ := h.Subscribe(key)
	defer held.Close()
	src.Close()
	src2, _ := h.Publish(key)
	src2.Write(unit(10, false, false))
	expectEmpty(t, held)
	src2.Write(unit(11, true, true))
	if got := number(readN(t, held, 1)[0]); got != 11 {
		t.Fatalf("after the source changed: unit %d, want keyframe 11", got)
	}
}

// TestSubscribeUntilMovesToTheStreamAskedFor: a viewer of the sub stream
// served the main one while the sub stream had no source (a relay restart
// in which the main stream came back first) moves to the sub stream at its
// first keyframe.
func TestSubscribeUntilMovesToTheStreamAskedFor(t *testing.T) {
	h := New(Config{})
	sub := key.Other()
	mainSrc, _ := h.Publish(key)
	mainSrc.Write(unit(0, true, true))
	mainSrc.Write(unit(1, false, false))

	r, err := h.SubscribeUntil(key, sub)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := numbers(readN(t, r, 2)); !equalInts(got, []int{0, 1}) || r.Key() != key {
		t.Fatalf("before the sub stream: units %v of %v, want [0 1] of the main stream", got, r.Key())
	}

	// The sub stream comes back mid-GOP: the viewer stays on the main
	// stream until the sub stream's keyframe.
	subSrc, _ := h.Publish(sub)
	subSrc.Write(unit(1000, false, false))
	mainSrc.Write(unit(2, false, false))
	if got := number(readN(t, r, 1)[0]); got != 2 || r.Key() != key {
		t.Fatalf("unit %d of %v, want main's 2", got, r.Key())
	}
	subSrc.Write(unit(1001, true, true))
	mainSrc.Write(unit(3, false, false))
	subSrc.Write(unit(1002, false, false))
	got := readN(t, r, 2)
	if !equalInts(numbers(got), []int{1001, 1002}) || !got[0].Keyframe || r.Key() != sub {
		t.Fatalf("after the sub stream's keyframe: units %v of %v, want [1001 1002] of the sub stream", numbers(got), r.Key())
	}
	// One clock for the reader, going on from the main stream's.
	if got[0].PTS != 3*frameStep || got[1].PTS != 4*frameStep {
		t.Fatalf("PTS %v, %v after main's %v, want one step after another", got[0].PTS, got[1].PTS, 2*frameStep)
	}
	mainSrc.Write(unit(4, false, false))
	expectEmpty(t, r)
	if st, _ := h.State(key); st.Readers != 0 {
		t.Fatalf("the main stream still counts %d readers", st.Readers)
	}

	// Asked for a stream that is there, it is an ordinary reader of it.
	direct, _ := h.SubscribeUntil(key, sub)
	defer direct.Close()
	if first := readN(t, direct, 1)[0]; number(first) != 1001 || direct.Key() != sub {
		t.Fatalf("first unit %d of %v, want the sub stream's cached keyframe", number(first), direct.Key())
	}
	r.Close()
	direct.Close()
	if st, _ := h.State(sub); st.Readers != 0 {
		t.Fatalf("closed readers still counted: %d", st.Readers)
	}
}
