// Package clip keeps the evidence video of a stream: a rolling buffer of the
// last seconds of access units, and an fMP4 writer that turns units into a
// file ordinary players and the console can play. A clip always starts at a
// keyframe, and every fragment is written whole, so a file cut short by a
// crash still plays up to its last fragment.
package clip

import (
	"sync"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// Unit is an access unit with the wall-clock time the console received it.
type Unit struct {
	AU avc.AccessUnit
	At time.Time
}

// Ring holds at least the last Keep of a stream, trimmed a whole GOP at a
// time so that it always begins at a keyframe. MaxBytes caps its memory when
// a camera's GOP is longer than Keep or its bitrate is high.
type Ring struct {
	keep     time.Duration
	maxBytes int

	ready chan struct{} // closed at the first unit kept

	mu    sync.Mutex
	units []Unit
	bytes int
}

// NewRing returns an empty ring keeping at least keep of video, within maxBytes.
func NewRing(keep time.Duration, maxBytes int) *Ring {
	return &Ring{keep: keep, maxBytes: maxBytes, ready: make(chan struct{})}
}

// Ready is closed once the ring holds its first unit, a keyframe: from
// then on it always holds one.
func (r *Ring) Ready() <-chan struct{} { return r.ready }

// Push appends a unit. Units before the first keyframe are not kept: nothing
// could decode them.
func (r *Ring) Push(u Unit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.units) == 0 && !u.AU.Keyframe {
		return
	}
	r.units = append(r.units, u)
	if len(r.units) == 1 {
		select {
		case <-r.ready:
		default:
			close(r.ready)
		}
	}
	r.bytes += u.AU.Size()
	r.trim(u.At)
}

// trim drops the oldest GOP while the GOP after it still covers keep, or
// while the ring is over its byte budget and holds more than one GOP.
func (r *Ring) trim(now time.Time) {
	for {
		next := r.nextKeyframe(1)
		if next < 0 {
			return
		}
		covered := !r.units[next].At.After(now.Add(-r.keep))
		over := r.maxBytes > 0 && r.bytes > r.maxBytes
		if !covered && !over {
			return
		}
		for _, u := range r.units[:next] {
			r.bytes -= u.AU.Size()
		}
		// Copy so the dropped units' memory is not held by the slice's array.
		r.units = append(make([]Unit, 0, len(r.units)-next+16), r.units[next:]...)
	}
}

func (r *Ring) nextKeyframe(from int) int {
	for i := from; i < len(r.units); i++ {
		if r.units[i].AU.Keyframe {
			return i
		}
	}
	return -1
}

// Since returns the units from the last keyframe at or before t to the
// newest; if the ring begins after t, from its first keyframe.
func (r *Ring) Since(t time.Time) []Unit {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := 0
	for i, u := range r.units {
		if u.At.After(t) {
			break
		}
		if u.AU.Keyframe {
			start = i
		}
	}
	return append([]Unit(nil), r.units[start:]...)
}

// Stats reports what the ring holds: units, payload bytes and time span.
func (r *Ring) Stats() (units, bytes int, span time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.units) == 0 {
		return 0, 0, 0
	}
	return len(r.units), r.bytes, r.units[len(r.units)-1].At.Sub(r.units[0].At)
}
