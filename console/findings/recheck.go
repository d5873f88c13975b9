package findings

import (
	"context"
	"strings"
	"time"

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
	return s.rechecked(s.opts.Store.VerifyWith(ctx, id, actor, in.Note, snap))
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
	return s.rechecked(s.opts.Store.ReopenWith(ctx, id, actor, in.Note, deadline, snap))
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
