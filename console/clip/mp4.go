package clip

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/qianliyan/qianliyan/internal/avc"
)

const timeScale = 90000

// fragmentSpan is how much video a fragment holds at most: what a crash can
// cost at the end of a clip.
const fragmentSpan = time.Second

// ErrNoKeyframe is returned when a clip would not start at a keyframe with
// its parameter sets.
var ErrNoKeyframe = errors.New("a clip must start at a keyframe carrying SPS and PPS")

// Writer writes an fMP4 file (H.264, one track) fragment by fragment.
type Writer struct {
	f        *os.File
	seq      uint32
	pending  []avc.AccessUnit
	first    time.Duration
	last     time.Duration
	lastStep time.Duration
	frames   int
	size     int64         // bytes of the header and the whole fragments
	written  time.Duration // video in the whole fragments
	err      error         // the write that failed; nothing more is written
}

// Create starts a clip at path with its first unit, which must be a keyframe
// carrying SPS and PPS: they go into the file's header.
func Create(path string, first avc.AccessUnit) (*Writer, error) {
	sps, pps := first.ParamSets()
	if !first.Keyframe || sps == nil || pps == nil {
		return nil, ErrNoKeyframe
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating clip: %w", err)
	}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: 1, TimeScale: timeScale, Codec: &codecs.H264{SPS: sps, PPS: pps}}}}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing clip header: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		// A header cut short is no clip at all.
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("writing clip header: %w", err)
	}
	w := &Writer{f: f, first: first.PTS, last: first.PTS, lastStep: time.Second / 15, size: int64(buf.Len())}
	w.pending = append(w.pending, first)
	return w, nil
}

// Write adds a unit. Units must come in presentation order; a unit whose
// time goes backwards (a source that restarted) is placed one frame later.
func (w *Writer) Write(au avc.AccessUnit) error {
	if w.err != nil {
		return w.err
	}
	if len(au.NALUs) == 0 {
		return nil
	}
	if au.PTS <= w.last {
		au.PTS = w.last + w.lastStep
	}
	if len(w.pending) > 0 && (au.Keyframe || au.PTS-w.pending[0].PTS >= fragmentSpan) {
		if err := w.flush(au.PTS); err != nil {
			return err
		}
	}
	w.lastStep = au.PTS - w.last
	w.last = au.PTS
	w.pending = append(w.pending, au)
	return nil
}

// flush writes the pending units as one fragment; next is the time of the
// unit after them, which fixes the last one's duration.
func (w *Writer) flush(next time.Duration) error {
	samples := make([]*fmp4.Sample, len(w.pending))
	for i, au := range w.pending {
		end := next
		if i+1 < len(w.pending) {
			end = w.pending[i+1].PTS
		}
		s, err := fmp4.NewSampleH264(0, au.NALUs)
		if err != nil {
			return fmt.Errorf("encoding clip sample: %w", err)
		}
		s.Duration = uint32(ticks(end - au.PTS))
		s.IsNonSyncSample = !au.Keyframe
		samples[i] = s
	}
	w.seq++
	part := fmp4.Part{SequenceNumber: w.seq, Tracks: []*fmp4.PartTrack{{
		ID: 1, BaseTime: uint64(ticks(w.pending[0].PTS - w.first)), Samples: samples,
	}}}
	var buf seekablebuffer.Buffer
	if err := part.Marshal(&buf); err != nil {
		return fmt.Errorf("encoding clip fragment: %w", err)
	}
	// One write a fragment: a crash leaves whole fragments behind it. A
	// write that fails part way (a full disk) is cut back off, so the file
	// ends at its last whole fragment, and the clip ends there.
	if _, err := w.f.Write(buf.Bytes()); err != nil {
		w.err = fmt.Errorf("writing clip fragment: %w", err)
		if terr := w.f.Truncate(w.size); terr != nil {
			w.err = fmt.Errorf("%w; cutting the fragment back off: %w", w.err, terr)
		} else if _, serr := w.f.Seek(w.size, io.SeekStart); serr != nil {
			w.err = fmt.Errorf("%w; %w", w.err, serr)
		}
		return w.err
	}
	w.size += int64(buf.Len())
	w.written = next - w.first
	w.frames += len(w.pending)
	w.pending = w.pending[:0]
	return nil
}

// Duration is the span of video the file holds once closed: what was
// written or is pending, or after a failed write what the whole fragments
// hold.
func (w *Writer) Duration() time.Duration {
	if w.err != nil {
		return w.written
	}
	return w.last - w.first + w.lastStep
}

// Close writes what is pending, syncs the file to disk and closes it. After
// a failed write it keeps the whole fragments and returns nil: the failure
// was the write's to report.
func (w *Writer) Close() error {
	if len(w.pending) > 0 && w.err == nil {
		if err := w.flush(w.last + w.lastStep); err != nil {
			w.f.Close()
			return err
		}
	}
	if err := w.f.Sync(); err != nil {
		w.f.Close()
		return fmt.Errorf("syncing clip: %w", err)
	}
	return w.f.Close()
}

func ticks(d time.Duration) int64 { return int64(d) * timeScale / int64(time.Second) }
