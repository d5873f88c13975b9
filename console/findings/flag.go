package findings

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image/jpeg"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// deadlineSlack lets a deadline of "now", reckoned by the view a moment
// before the request arrives, count as now.
const deadlineSlack = time.Minute

// FlagRequest is a finding as the officer flags it on the frame on screen.
type FlagRequest struct {
	Camera          string `json:"camera"`
	Stream          string `json:"stream"`
	PTS             *int64 `json:"pts_us"`
	TemplateID      string `json:"template_id"`
	TemplateVersion int    `json:"template_version"`
	Step            string `json:"step"`
	Deviation       string `json:"deviation"`
	DeviationText   string `json:"deviation_text"`
	// DeviationTitle is the words of a checklist rule's deviation in each
	// language (a run's proposal the catalogue has no entry for), kept as
	// the finding's title when DeviationText is one of them.
	DeviationTitle bilingual.Text `json:"deviation_title"`
	Severity       string         `json:"severity"`
	Note           string         `json:"note"`
	Deadline       string         `json:"deadline"`
	// Snapshot is the JPEG of the frame on screen in base64, or a data: URL
	// of it.
	Snapshot       string `json:"snapshot"`
	SnapshotWidth  int    `json:"snapshot_width"`
	SnapshotHeight int    `json:"snapshot_height"`
}

// Flag commits a finding, with its snapshot, in the signed-in officer's
// name and under their relay; the clip goes on recording after it returns.
func (s *Service) Flag(ctx context.Context, in FlagRequest) (store.Finding, error) {
	// The finding is flagged under the relay signed in to now, and goes to
	// that one only.
	observer, relay, err := s.signedIn(ctx)
	if err != nil {
		return store.Finding{}, err
	}
	now := s.opts.Now()
	f, key, err := s.checkFlag(in, now)
	if err != nil {
		return store.Finding{}, err
	}
	f.Observer, f.Relay = observer, relay
	cam, err := s.camera("camera", in.Camera)
	if err != nil {
		return store.Finding{}, err
	}
	f.Zone = cam.Zone

	// The frame on screen: when the console received it, through the
	// stream's buffer; failing that, now, and the history says so. A flag
	// right after the officer switched camera may come before the stream's
	// first frame reached the buffer: it waits a moment for it rather than
	// make the officer flag again.
	wait, cancel := context.WithTimeout(ctx, firstFrameWait)
	waited := s.opts.Frames.WaitFrame(wait, key)
	cancel()
	if ctx.Err() != nil {
		return store.Finding{}, ctx.Err()
	}
	f.ObservedAt, err = s.opts.Frames.Locate(key, time.Duration(*in.PTS)*time.Microsecond)
	if err != nil && waited != nil && !errors.Is(waited, evidence.ErrNotPulled) {
		err = fmt.Errorf("%w (no frame came within %v)", err, firstFrameWait)
	}
	switch {
	case errors.Is(err, evidence.ErrNotPulled):
		return store.Finding{}, refused(fault.Conflict, "camera_not_pulled", "camera", "camera: the console is not receiving %s (stream %s): open it before flagging", in.Camera, key.Stream)
	case err != nil:
		f.ObservedAt = now
		f.Detail = map[string]any{"observed_at": "flag_time", "stream": key.Stream, "pts_us": *in.PTS,
			"reason": "the frame was not found in the stream's buffer, so the time of the flag stands for it: " + err.Error()}
	default:
		f.Detail = map[string]any{"observed_at": "frame", "stream": key.Stream, "pts_us": *in.PTS}
	}

	finding, err := s.opts.Store.Create(ctx, f)
	if err != nil {
		return store.Finding{}, err
	}
	if err := s.opts.Clips.Record(finding.ID, key, f.ObservedAt); err != nil {
		// The row says "recording"; the next start files it as incomplete.
		s.opts.Log.Warn().Err(err).Str("finding", finding.ID).Msg("clip not recorded")
	}
	s.opts.Log.Info().Str("finding", finding.ID).Str("camera", in.Camera).Str("severity", f.Severity).
		Str("deviation", f.Deviation).Time("observed_at", f.ObservedAt).Msg("finding flagged")
	return finding, nil
}

// checkFlag validates a flag request field by field, filling what the
// template implies, and returns the store's flag and the stream's key.
func (s *Service) checkFlag(in FlagRequest, now time.Time) (store.Flag, media.Key, error) {
	f := store.Flag{
		TemplateID: in.TemplateID, TemplateVersion: in.TemplateVersion, Step: in.Step,
		Deviation: in.Deviation, DeviationText: strings.TrimSpace(in.DeviationText),
		Severity: in.Severity, Note: in.Note, RecordClip: true,
	}
	key, err := frameKey(in.Camera, in.Stream, in.PTS)
	if err != nil {
		return f, key, err
	}
	f.Site, f.Camera = key.Site, key.Camera

	// The template, when named, must be one the console knows, and the step
	// and deviation must be in it; its catalogue fills what is left out.
	var defaultDeadline time.Duration
	if in.TemplateID == "" {
		if in.Step != "" || in.Deviation != "" {
			field := "step"
			if in.Step == "" {
				field = "deviation"
			}
			return f, key, fault.Field(field, "names a template's entry, but no template_id is given")
		}
	} else {
		lib, err := s.library()
		if err != nil {
			return f, key, err
		}
		t, ok := lib.Get(in.TemplateID, in.TemplateVersion)
		if !ok {
			return f, key, refused(fault.Invalid, "unknown_template", "template_id",
				"template_id: no template %q version %d (0 means the newest)", in.TemplateID, in.TemplateVersion)
		}
		f.TemplateVersion = t.Version
		if in.Step != "" {
			if _, ok := t.Step(in.Step); !ok {
				return f, key, fault.Field("step", "template %s has no step %q", t.ID, in.Step)
			}
		}
		if in.Deviation != "" {
			d, ok := t.Deviation(in.Deviation)
			if !ok {
				return f, key, fault.Field("deviation", "template %s has no deviation %q", t.ID, in.Deviation)
			}
			if f.DeviationText == "" {
				f.DeviationText = d.Text.In(bilingual.ZH)
			}
			// The catalogue's words go with the finding, so that each reader
			// sees it in theirs; a text the officer changed is theirs, and
			// stays as typed.
			if slices.Contains(slices.Collect(maps.Values(d.Text)), f.DeviationText) {
				f.DeviationTitle = d.Text
			}
			if f.Severity == "" {
				f.Severity = string(d.Severity)
			}
			defaultDeadline = time.Duration(d.Deadline)
		}
	}
	if f.DeviationText == "" {
		return f, key, fault.Field("deviation_text", "required: what the officer saw, in words")
	}
	if len(in.DeviationTitle) > 0 && len(f.DeviationTitle) == 0 {
		if unknown := in.DeviationTitle.Unknown(); len(unknown) > 0 {
			return f, key, fault.Field("deviation_title", "unknown languages %v (known: %v)", unknown, bilingual.Languages)
		}
		if missing := in.DeviationTitle.Missing(); len(missing) > 0 {
			return f, key, fault.Field("deviation_title", "lacks %v: a title is given in every language", missing)
		}
		if slices.Contains(slices.Collect(maps.Values(in.DeviationTitle)), f.DeviationText) {
			f.DeviationTitle = in.DeviationTitle
		}
	}
	switch f.Severity {
	case "critical", "major", "minor":
	case "":
		return f, key, fault.Field("severity", "required: critical, major or minor")
	default:
		return f, key, fault.Field("severity", "%q is not one of critical, major, minor", f.Severity)
	}
	if f.Deadline, err = parseDeadline(in.Deadline, now, defaultDeadline); err != nil {
		return f, key, err
	}
	if f.Snapshot, f.SnapshotW, f.SnapshotH, err = s.checkSnapshot(in); err != nil {
		return f, key, err
	}
	return f, key, nil
}

// frameKey checks the frame on screen a flag or re-check names: the
// camera as SITE/CAMERA, its stream (main when not said) and the frame's
// presentation time, and returns the stream's key.
func frameKey(camera, stream string, pts *int64) (media.Key, error) {
	site, cam, ok := strings.Cut(camera, "/")
	if !ok || site == "" || cam == "" || strings.Contains(cam, "/") {
		return media.Key{}, fault.Field("camera", "%q is not SITE/CAMERA", camera)
	}
	key := media.Key{Site: site, Camera: cam, Stream: stream}
	switch stream {
	case "":
		key.Stream = "main"
	case "main", "sub":
	default:
		return key, fault.Field("stream", "%q is not main or sub", stream)
	}
	if pts == nil {
		return key, fault.Field("pts_us", "required: the presentation time of the frame on screen, as the bridge sent it")
	}
	if *pts < 0 {
		return key, fault.Field("pts_us", "%d is negative", *pts)
	}
	return key, nil
}

// parseDeadline reads an RFC 3339 deadline that is not in the past; an
// empty one is now plus the catalogue's default, if there is one.
func parseDeadline(s string, now time.Time, dflt time.Duration) (time.Time, error) {
	if s == "" {
		if dflt > 0 {
			return now.Add(dflt), nil
		}
		return time.Time{}, fault.Field("deadline", "required: when the site must have rectified it (RFC 3339)")
	}
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fault.Field("deadline", "%q is not an RFC 3339 time such as 2026-11-26T18:00:00+08:00", s)
	}
	if d.Before(now.Add(-deadlineSlack)) {
		return time.Time{}, fault.Field("deadline", "%s is in the past", s)
	}
	return d, nil
}

// checkSnapshot decodes the base64 JPEG of the frame on screen and checks
// that it is one, of the size the view says.
func (s *Service) checkSnapshot(in FlagRequest) ([]byte, int, int, error) {
	b64 := in.Snapshot
	// canvas.toDataURL gives a data: URL; take its payload.
	if rest, ok := strings.CutPrefix(b64, "data:"); ok {
		mt, payload, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(mt, ";base64") {
			return nil, 0, 0, fault.Field("snapshot", "a data: URL must be base64")
		}
		if mt != "image/jpeg;base64" {
			return nil, 0, 0, fault.Field("snapshot", "is %s, want image/jpeg", strings.TrimSuffix(mt, ";base64"))
		}
		b64 = payload
	}
	if b64 == "" {
		return nil, 0, 0, fault.Field("snapshot", "required: the JPEG of the frame on screen, in base64")
	}
	if base64.StdEncoding.DecodedLen(len(b64)) > s.opts.MaxSnapshotBytes+2 {
		return nil, 0, 0, refused(fault.TooLarge, "snapshot_too_large", "snapshot", "snapshot: over %d bytes", s.opts.MaxSnapshotBytes)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, 0, 0, fault.Field("snapshot", "not base64: %v", err)
	}
	if len(data) > s.opts.MaxSnapshotBytes {
		return nil, 0, 0, refused(fault.TooLarge, "snapshot_too_large", "snapshot", "snapshot: %d bytes, over %d", len(data), s.opts.MaxSnapshotBytes)
	}
	if len(data) < 2 || data[0] != 0xff || data[1] != 0xd8 {
		return nil, 0, 0, fault.Field("snapshot", "not a JPEG image")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, fault.Field("snapshot", "not a readable JPEG image: %v", err)
	}
	for _, c := range []struct {
		field     string
		said, got int
	}{{"snapshot_width", in.SnapshotWidth, cfg.Width}, {"snapshot_height", in.SnapshotHeight, cfg.Height}} {
		if c.said != 0 && c.said != c.got {
			return nil, 0, 0, fault.Field(c.field, "%d, but the JPEG is %dx%d", c.said, cfg.Width, cfg.Height)
		}
	}
	return data, cfg.Width, cfg.Height, nil
}
