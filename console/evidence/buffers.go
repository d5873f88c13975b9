// Package evidence keeps the video findings are proven with: a rolling
// buffer of the last seconds of every stream the console pulls, and the
// recorder that cuts a finding's clip from that buffer and the live stream.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/internal/avc"
)

// Defaults of the rolling buffers.
const (
	// KeepMargin is kept beyond the clip's pre-roll: the officer takes a few
	// seconds to confirm a finding after the frame it shows.
	KeepMargin = 10 * time.Second
	// MaxBufferBytes caps a stream's buffer: about a minute of a 2 Mbit/s
	// main stream, whatever its keyframe interval.
	MaxBufferBytes = 16 << 20
	// MatchWithin is how far the nearest buffered frame may be from the
	// presentation time the view names and still be taken for it.
	MatchWithin = time.Second
)

// Errors of Locate.
var (
	ErrNotPulled = errors.New("the console is not pulling this stream")
	ErrNoFrame   = errors.New("no buffered frame at this presentation time")
)

// Buffers keeps a clip.Ring per stream for as long as the console pulls it.
// Its Tap goes into media.Options.Tap.
type Buffers struct {
	keep     time.Duration
	maxBytes int
	now      func() time.Time

	mu    sync.Mutex
	rings map[media.Key]*clip.Ring
}

// NewBuffers returns buffers keeping at least keep of every stream, within
// maxBytes each; now stamps each unit as it arrives (nil: time.Now).
func NewBuffers(keep time.Duration, maxBytes int, now func() time.Time) *Buffers {
	if now == nil {
		now = time.Now
	}
	return &Buffers{keep: keep, maxBytes: maxBytes, now: now, rings: make(map[media.Key]*clip.Ring)}
}

// Tap starts a buffer for a stream the console starts pulling, and drops it
// when the pull stops. It has the signature of media.Options.Tap.
func (b *Buffers) Tap(key media.Key) (media.Subscriber, func()) {
	ring := clip.NewRing(b.keep, b.maxBytes)
	b.mu.Lock()
	b.rings[key] = ring
	b.mu.Unlock()
	return feeder{ring: ring, now: b.now}, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.rings[key] == ring {
			delete(b.rings, key)
		}
	}
}

// Ring returns the buffer of a stream being pulled.
func (b *Buffers) Ring(key media.Key) (*clip.Ring, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rings[key]
	return r, ok
}

// WaitFrame waits until the buffer of a stream being pulled holds its
// first frame, or ctx ends: a flag can arrive right after the stream
// started, before its first keyframe did.
func (b *Buffers) WaitFrame(ctx context.Context, key media.Key) error {
	ring, ok := b.Ring(key)
	if !ok {
		return fmt.Errorf("waiting for a frame of %s: %w", key, ErrNotPulled)
	}
	select {
	case <-ring.Ready():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a frame of %s: %w", key, ctx.Err())
	}
}

// Locate returns when the console received the frame the view showed with
// presentation time pts: the arrival time of the buffered unit nearest to
// it, if one lies within MatchWithin.
func (b *Buffers) Locate(key media.Key, pts time.Duration) (time.Time, error) {
	ring, ok := b.Ring(key)
	if !ok {
		return time.Time{}, fmt.Errorf("locating frame of %s: %w", key, ErrNotPulled)
	}
	units := ring.Since(time.Time{})
	if len(units) == 0 {
		return time.Time{}, fmt.Errorf("locating frame of %s: %w: the buffer is empty", key, ErrNoFrame)
	}
	best := units[0]
	for _, u := range units[1:] {
		if absDur(u.AU.PTS-pts) < absDur(best.AU.PTS-pts) {
			best = u
		}
	}
	if d := absDur(best.AU.PTS - pts); d > MatchWithin {
		return time.Time{}, fmt.Errorf("locating frame of %s: %w: the buffer holds %v to %v, %v from %v",
			key, ErrNoFrame, units[0].AU.PTS, units[len(units)-1].AU.PTS, d, pts)
	}
	return best.At, nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// feeder puts a source's units into its ring, stamped with their arrival.
type feeder struct {
	ring *clip.Ring
	now  func() time.Time
}

func (f feeder) OnAccessUnit(au avc.AccessUnit) { f.ring.Push(clip.Unit{AU: au, At: f.now()}) }

// OnState ignores states: a stream that stalls or drops keeps what it had,
// and the next session's units follow with later times.
func (f feeder) OnState(media.State) {}
