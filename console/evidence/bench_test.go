package evidence

import (
	"runtime"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/internal/avc"
)

// arrivals is a camera stream's access units as they arrive: fresh memory
// each, as the depacketizer hands them over, with the arrival clock moved
// one frame per unit. A keyframe weighs eight P frames, carries SPS and PPS,
// and comes every gop.
func arrivals(kbps, fps int, gop, span time.Duration, at *time.Time, push func(avc.AccessUnit)) {
	perGOP := int(gop.Seconds() * float64(fps))
	gopBytes := int(float64(kbps) * 1000 / 8 * gop.Seconds())
	p := gopBytes / (perGOP - 1 + 8)
	frames := int(span.Seconds() * float64(fps))
	for i := range frames {
		var nalus [][]byte
		if i%perGOP == 0 {
			nalus = [][]byte{{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8}, {0x68, 0xce, 0x3c, 0x80}, make([]byte, 8*p)}
			nalus[2][0] = 0x65
		} else {
			nalus = [][]byte{make([]byte, p)}
			nalus[0][0] = 0x41
		}
		*at = at.Add(time.Second / time.Duration(fps))
		push(avc.NewAccessUnit(nalus, time.Duration(i)*time.Second/time.Duration(fps)))
	}
}

// BenchmarkBufferMemory measures what a stream's rolling buffer holds once
// full: 40 s of a 15 fps stream with a 2 s GOP go through the media tap into
// a buffer keeping 30 s. heap-B/stream is the live heap the buffer keeps
// (payload and bookkeeping), payload-B its access units' bytes.
func BenchmarkBufferMemory(b *testing.B) {
	for _, c := range []struct {
		name string
		kbps int
	}{{"sub-300kbps", 300}, {"main-2Mbps", 2000}} {
		b.Run(c.name, func(b *testing.B) {
			var heap, payload, held float64
			for range b.N {
				at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
				buffers := NewBuffers(30*time.Second, MaxBufferBytes, func() time.Time { return at })
				key := media.Key{Site: "site-01", Camera: "doff1", Stream: c.name}
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				sub, done := buffers.Tap(key)
				arrivals(c.kbps, 15, 2*time.Second, 40*time.Second, &at, sub.OnAccessUnit)
				runtime.GC()
				runtime.ReadMemStats(&after)
				ring, _ := buffers.Ring(key)
				_, bytes, span := ring.Stats()
				heap = float64(after.HeapAlloc) - float64(before.HeapAlloc)
				payload, held = float64(bytes), span.Seconds()
				done()
			}
			b.ReportMetric(heap, "heap-B/stream")
			b.ReportMetric(payload, "payload-B")
			b.ReportMetric(held, "s-held")
		})
	}
}
