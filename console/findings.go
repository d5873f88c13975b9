package console

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
)

// findingsSide is the backend's part in checklists and findings: the
// rolling buffers every pull feeds from the moment it starts, the clip
// recorder, and the findings core, there once Start has opened the store.
type findingsSide struct {
	buffers       *evidence.Buffers
	before, after time.Duration
	templates     string
	log, clipLog  zerolog.Logger

	mu       sync.Mutex
	recorder *evidence.Recorder
	core     *findings.Service
}

// checkClipBounds refuses clip bounds that make no clip.
func checkClipBounds(before, after time.Duration) error {
	if before < 0 || after < 0 {
		return fmt.Errorf("clip bounds %v before and %v after: must not be negative", before, after)
	}
	if before+after > 5*time.Minute {
		return fmt.Errorf("clip bounds %v before and %v after: a clip of over 5 minutes is not evidence of one moment", before, after)
	}
	return nil
}

func newFindingsSide(opts Options) *findingsSide {
	f := &findingsSide{
		before: opts.ClipBefore, after: opts.ClipAfter, templates: opts.Templates,
		log:     opts.Log.With().Str("component", "findings").Logger(),
		clipLog: opts.Log.With().Str("component", "clips").Logger(),
	}
	if f.before <= 0 {
		f.before = evidence.DefaultBefore
	}
	if f.after <= 0 {
		f.after = evidence.DefaultAfter
	}
	if f.templates == "" {
		f.templates = filepath.Join(opts.DataDir, "templates")
	}
	f.buffers = evidence.NewBuffers(f.before+evidence.KeepMargin, evidence.MaxBufferBytes, nil)
	return f
}

// start files the clips a crash left recording, then makes the core.
func (f *findingsSide) start(ctx context.Context, st *store.Store, sources evidence.Sources, console findings.Console) error {
	n, err := st.RecoverClips(ctx)
	switch {
	case errors.Is(err, store.ErrDiskFull):
		// The console starts all the same, its disk shown full; the clips
		// stay recording, their files kept, until a start with room.
		f.log.Error().Err(err).Msg("the clips left recording by the last run cannot be filed: the data disk is full")
	case err != nil:
		return fmt.Errorf("filing the clips left recording by the last run: %w", err)
	}
	if n > 0 {
		f.log.Warn().Int("clips", n).Msg("the last run stopped while recording clips; they are kept as incomplete")
	}
	rec := evidence.NewRecorder(ctx, evidence.RecorderOptions{
		Sources: sources, Buffers: f.buffers, Store: st, Before: f.before, After: f.after,
		Log: f.clipLog,
	})
	core := findings.New(findings.Options{
		Store: st, Console: console, Frames: f.buffers, Clips: rec, Templates: f.templates, Log: f.log,
	})
	f.mu.Lock()
	f.recorder, f.core = rec, core
	f.mu.Unlock()
	f.log.Info().Str("templates", f.templates).Dur("clip_before", f.before).Dur("clip_after", f.after).Msg("findings ready")
	return nil
}

// close ends the clips being recorded, filing them as incomplete; it runs
// before the store closes.
func (f *findingsSide) close() {
	f.mu.Lock()
	rec := f.recorder
	f.mu.Unlock()
	if rec != nil {
		rec.Close()
	}
}

// service is the findings core, nil until start.
func (f *findingsSide) service() *findings.Service {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.core
}

// findingsSession is the sign-in as the findings core needs it: the
// observer's name and relay, and the camera list it holds.
type findingsSession struct{ b *Backend }

func (s findingsSession) Observer(context.Context) (string, string, error) {
	sess, err := s.b.signedIn()
	if err != nil {
		return "", "", err
	}
	return sess.user.Name, sess.relay, nil
}

// RelayEvidence fetches a finding's evidence file from the relay with the
// session's token, for the view, which holds none.
func (s findingsSession) RelayEvidence(ctx context.Context, findingID, name, sum string) ([]byte, error) {
	sess, err := s.b.signedIn()
	if err != nil {
		return nil, err
	}
	return sess.client.EvidenceFile(ctx, findingID, name, sum)
}

// KnownCameras is the list the session holds, kept by the relay's event
// stream and every list fetched: a flag asks the relay nothing.
func (s findingsSession) KnownCameras() []relayclient.Camera {
	sess, _ := s.b.current()
	if sess == nil {
		return nil
	}
	return sess.cameras()
}
