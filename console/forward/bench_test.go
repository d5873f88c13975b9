package forward

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// photoJPEG is a 640x360 JPEG of noise: about the size of a real frame's.
func photoJPEG(b *testing.B, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewGray(image.Rect(0, 0, 640, 360))
	for i := range img.Pix {
		img.Pix[i] = uint8(128 + rng.IntN(48))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkBacklogDrain: the outbox a relay outage left, 200 findings each
// with a 640x360 snapshot and a 512 KiB clip, sent once the relay answers
// again (from the first pass: the backoff's wait for the relay comes on
// top, at most MaxBackoff).
func BenchmarkBacklogDrain(b *testing.B) {
	const backlog, clipBytes = 200, 512 << 10
	ctx := context.Background()
	tr := relaytest.Start(b, relaytest.Options{})
	duty := asDuty(b, tr)
	var bytesSent int64
	var elapsed time.Duration
	for i := range b.N {
		b.StopTimer()
		st := openStore(b)
		for j := range backlog {
			fl := flagNumber(j, true)
			fl.Snapshot = photoJPEG(b, uint64(i*backlog+j))
			f, err := st.Create(ctx, fl)
			if err != nil {
				b.Fatal(err)
			}
			clip := make([]byte, clipBytes)
			copy(clip, "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
			copy(clip[32:], f.ID)
			writeClip(b, st, f, clip)
			bytesSent += int64(len(fl.Snapshot) + clipBytes)
		}
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() {
			defer close(done)
			New(Options{Store: st, Relay: duty, Log: testLog(b)}).Run(ctx)
		}()
		for pending(b, st) > 0 {
			time.Sleep(time.Millisecond)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		cancel()
		<-done
	}
	secs := elapsed.Seconds()
	b.ReportMetric(float64(backlog*b.N)/secs, "findings/s")
	b.ReportMetric(float64(bytesSent)/secs/1e6, "MB/s")
}

// BenchmarkFlagToRelay: from a flag's commit to the finding and its
// snapshot being at the relay, with the forwarder waiting idle.
func BenchmarkFlagToRelay(b *testing.B) {
	ctx := context.Background()
	tr := relaytest.Start(b, relaytest.Options{})
	duty := asDuty(b, tr)
	st := openStore(b)
	runForwarder(b, st, duty, Options{})
	db := tr.DB(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		fl := flagNumber(i, false)
		fl.Snapshot = photoJPEG(b, uint64(i))
		start := time.Now()
		f, err := st.Create(ctx, fl)
		if err != nil {
			b.Fatal(err)
		}
		for count(b, db, `SELECT count(*) FROM finding_evidence WHERE finding_id = ? AND kind = 'snapshot'`, f.ID) == 0 {
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
		// Idle between flags, as an officer is.
		b.StopTimer()
		time.Sleep(5 * time.Millisecond)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99_ms")
}
