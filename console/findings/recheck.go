package findings

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// Recheck is the officer's re-check of a finding the site reported
// rectified: what they saw and, for a reopened one, the new deadline.
type Recheck struct {
	Note     string  `json:"note"`
	Deadline *string `json:"deadline"` // RFC 3339; reopening only
	// Snapshot is the JPEG (base64, or a data: URL) of the frame the
	// officer re-checked on, kept as the evidence of the verify or reopen
	// and sent to the relay after it; empty when the view had no picture.
	Snapshot       string `json:"snapshot,omitempty"`
	SnapshotWidth  int    `json:"snapshot_width,omitempty"`
	SnapshotHeight int    `json:"snapshot_height,omitempty"`
	// Camera (SITE/CAMERA, of the finding's site), Stream and PTS name the
	// frame on screen the officer re-checked on, as a flag's do: the clip
	// around it is recorded as a flag's and kept as the re-check's. No
	// camera, no clip (the view showed none).
	Camera string `json:"camera,omitempty"`
	Stream string `json:"stream,omitempty"`
	PTS    *int64 `json:"pts_us,omitempty"`
}

// recheckFrame is the camera a re-check was made on and when its frame
// on screen reached the console: where and around when its clip is cut.
type recheckFrame struct {
	key        media.Key
	observedAt time.Time
}

// recheckCamera checks the camera a re-check names and finds the frame
// on screen in its buffer, as a flag does; nil without a camera.
func (s *Service) recheckCamera(ctx context.Context, id string, in Recheck) (*recheckFrame, error) {
	if in.Camera == "" {
		if in.Stream != "" || in.PTS != nil {
			return nil, fault.Field("camera", "required with stream and pts_us: the camera re-checked on")
		}
		return nil, nil
	}
	key, err := frameKey(in.Camera, in.Stream, in.PTS)
	if err != nil {
		return nil, err
	}
	f, err := s.opts.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if key.Site != f.Site {
		return nil, fault.Field("camera", "%s is not a camera of the finding's site %s", in.Camera, f.Site)
	}
	if _, err := s.camera("camera", in.Camera); err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, firstFrameWait)
	waited := s.opts.Frames.WaitFrame(wait, key)
	cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errors.Is(waited, evidence.ErrNotPulled) {
		// Unlike a flag, a re-check is not refused for it: the verdict is
		// the officer's, the video its evidence. The stream stopped since
		// the frame was taken (its tile kept the last picture): the
		// recorder pulls it again and the clip has what comes from now,
		// or is filed incomplete saying why.
		s.opts.Log.Warn().Str("finding", id).Str("camera", key.String()).Msg("re-check on a stream the console no longer receives: the clip starts now")
		return &recheckFrame{key: key, observedAt: s.opts.Now()}, nil
	}
	at, err := s.opts.Frames.Locate(key, time.Duration(*in.PTS)*time.Microsecond)
	if err != nil {
		// The clip is cut around the re-check all the same, as a flag's
		// around the time of the flag.
		s.opts.Log.Warn().Err(err).Str("finding", id).Msg("re-check frame not in the buffer: the clip is cut around now")
		at = s.opts.Now()
	}
	return &recheckFrame{key: key, observedAt: at}, nil
}

// recheckSnapshot decodes and checks a re-check's snapshot as a flag's.
func (s *Service) recheckSnapshot(in Recheck) (*store.RecheckSnapshot, error) {
	if in.Snapshot == "" {
		return nil, nil
	}
	data, w, h, err := s.checkSnapshot(FlagRequest{Snapshot: in.Snapshot, SnapshotWidth: in.SnapshotWidth, SnapshotHeight: in.SnapshotHeight})
	if err != nil {
		return nil, err
	}
	return &store.RecheckSnapshot{JPEG: data, Width: w, Height: h}, nil
}

// Verify closes a rectified finding after its re-check on video. The change
// is committed with its outbox entry; the forwarder takes it to the relay.
func (s *Service) Verify(ctx context.Context, id string, in Recheck) (store.Finding, error) {
	if err := checkNote(in); err != nil {
		return store.Finding{}, err
	}
	if in.Deadline != nil {
		return store.Finding{}, fault.Field("deadline", "a verified finding is closed and needs no deadline")
	}
	snap, err := s.recheckSnapshot(in)
	if err != nil {
		return store.Finding{}, err
	}
	actor, err := s.observer(ctx)
	if err != nil {
		return store.Finding{}, err
	}
	return s.recheck(ctx, store.RecheckChange{ID: id, Actor: actor, Note: in.Note, Snapshot: snap}, in)
}

// recheck records a verify or reopen with its snapshot and, on a camera,
// starts its clip once the change is committed, as a flag's.
func (s *Service) recheck(ctx context.Context, c store.RecheckChange, in Recheck) (store.Finding, error) {
	frame, err := s.recheckCamera(ctx, c.ID, in)
	if err != nil {
		return store.Finding{}, err
	}
	if frame != nil {
		c.Clip = &store.RecheckClip{Site: frame.key.Site, Camera: frame.key.Camera, Stream: frame.key.Stream}
	}
	f, event, err := s.opts.Store.Recheck(ctx, c)
	if err == nil && frame != nil {
		if err := s.opts.Clips.Record(store.RecheckClipID(event), frame.key, frame.observedAt); err != nil {
			// The row says "recording"; the next start files it as incomplete.
			s.opts.Log.Warn().Err(err).Str("finding", c.ID).Int64("event", event).Msg("re-check clip not recorded")
		}
	}
	return s.rechecked(f, err)
}

// Reopen sends a rectified finding back to the site with a new deadline:
// the one asked for or, without one, as long from now as the site was
// first given.
func (s *Service) Reopen(ctx context.Context, id string, in Recheck) (store.Finding, error) {
	if err := checkNote(in); err != nil {
		return store.Finding{}, err
	}
	actor, err := s.observer(ctx)
	if err != nil {
		return store.Finding{}, err
	}
	deadline, err := s.reopenDeadline(ctx, id, in.Deadline)
	if err != nil {
		return store.Finding{}, err
	}
	snap, err := s.recheckSnapshot(in)
	if err != nil {
		return store.Finding{}, err
	}
	return s.recheck(ctx, store.RecheckChange{ID: id, Actor: actor, Note: in.Note, Reopen: true, Deadline: deadline, Snapshot: snap}, in)
}

func checkNote(in Recheck) error {
	if strings.TrimSpace(in.Note) == "" {
		return fault.Field("note", "required: what the re-check saw")
	}
	return nil
}

func (s *Service) rechecked(f store.Finding, err error) (store.Finding, error) {
	if err == nil {
		s.opts.Log.Info().Str("finding", f.ID).Str("status", f.Status).Msg("finding re-checked")
	}
	return f, err
}

// reopenDeadline is the deadline asked for or, without one, as long from
// now as the site was first given: the relay wants a future one.
func (s *Service) reopenDeadline(ctx context.Context, id string, asked *string) (time.Time, error) {
	now := s.opts.Now()
	if asked != nil {
		return parseDeadline(*asked, now, 0)
	}
	f, err := s.opts.Store.Get(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	span := f.Deadline.Sub(f.FlaggedAt)
	if span <= 0 {
		span = 24 * time.Hour
	}
	return now.Add(span), nil
}

// Retry puts the changes of a finding the relay refused back in the
// outbox, for the forwarder to try again at once, and returns the finding.
func (s *Service) Retry(ctx context.Context, id string) (store.Finding, error) {
	n, err := s.opts.Store.RetryFailed(ctx, id)
	if err != nil {
		return store.Finding{}, err
	}
	f, err := s.opts.Store.Get(ctx, id)
	if err != nil {
		return store.Finding{}, err
	}
	s.opts.Log.Info().Str("finding", id).Int("changes", n).Msg("retrying the changes the relay refused")
	return f, nil
}
