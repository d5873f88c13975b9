// Package findings is the officer's work on findings in the console, in
// plain Go: the checklists for a camera's zone, observation runs evaluated
// by package checklist, findings flagged with their snapshot and committed
// to the console store, the clip cut around the observed frame, edits,
// withdrawals, re-checks, retries of what the relay refused, and the
// evidence files. Refusals are *fault.Error values naming the field at
// fault; the store's own sentinels (store.ErrNotFound…) come back as they
// are. console/server is its HTTP face.
package findings

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// Console is what the findings need of the console's relay session.
type Console interface {
	// KnownCameras is the relay's camera list as the session holds it
	// (the last list the relay sent, kept by its event stream), nil before
	// the first: never a call to the relay, which a flag must not wait on.
	KnownCameras() []relayclient.Camera
	// Observer is the signed-in user's name and the base URL of the relay
	// they signed in to, which a finding is flagged under; an error when
	// nobody is (a fault.Unauthenticated one says why).
	Observer(ctx context.Context) (name, relay string, err error)
}

// Frames maps the presentation time of a frame the view showed to when the
// console received it; *evidence.Buffers does.
type Frames interface {
	// WaitFrame waits for the stream's first buffered frame.
	WaitFrame(ctx context.Context, key media.Key) error
	Locate(key media.Key, pts time.Duration) (time.Time, error)
}

// Clips records a finding's clip once the finding is committed;
// *evidence.Recorder does.
type Clips interface {
	Record(id string, key media.Key, observedAt time.Time) error
}

// Options configures a Service.
type Options struct {
	Store   *store.Store
	Console Console
	Frames  Frames
	Clips   Clips
	// Templates is the folder of supervisors' checklist templates, read
	// afresh whenever a file there changes, so that a dropped-in file
	// counts at once.
	Templates string
	// Now is the clock of run timers, deadlines and flag times (time.Now).
	Now func() time.Time
	// MaxSnapshotBytes caps the decoded snapshot (2 MiB).
	MaxSnapshotBytes int
	// MaxRuns caps the runs kept in memory; the oldest go first (1000).
	MaxRuns int
	Log     zerolog.Logger
}

// Defaults.
const (
	DefaultMaxSnapshotBytes = 2 << 20
	defaultMaxRuns          = 1000
	// firstFrameWait bounds how long a flag made right after a stream
	// started waits for the stream's first frame to reach its buffer.
	firstFrameWait = 2500 * time.Millisecond
)

// Service is the findings and checklist runs of one console.
type Service struct {
	opts Options
	runs *runs

	libMu  sync.Mutex
	lib    *checklist.Library
	libSig string // of the templates folder when lib was read
}

// New returns the Service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxSnapshotBytes <= 0 {
		opts.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = defaultMaxRuns
	}
	return &Service{opts: opts, runs: newRuns(opts.MaxRuns)}
}

// MaxSnapshotBytes is the largest snapshot a flag may carry, decoded.
func (s *Service) MaxSnapshotBytes() int { return s.opts.MaxSnapshotBytes }

// refused is a fault with a code of its own that names the field at fault.
func refused(kind fault.Kind, code, field, format string, args ...any) *fault.Error {
	e := fault.New(kind, code, format, args...)
	e.Field = field
	return e
}

// observer is the signed-in user, who every change is made by.
func (s *Service) observer(ctx context.Context) (string, error) {
	name, _, err := s.signedIn(ctx)
	return name, err
}

// signedIn is the signed-in user and their relay.
func (s *Service) signedIn(ctx context.Context) (name, relay string, err error) {
	name, relay, err = s.opts.Console.Observer(ctx)
	if fault.KindOf(err) == fault.Unauthenticated {
		return "", "", err // signed out, or the session expired: the view knows both
	}
	if err != nil || name == "" || relay == "" {
		return "", "", fault.New(fault.Unauthenticated, "signed_out", "sign in to the relay first: findings are made in a duty officer's name")
	}
	return name, relay, nil
}

// camera finds "site/camera" in the camera list the session holds: a
// flag is a local commit and waits on no relay, slow or hung.
func (s *Service) camera(field, path string) (relayclient.Camera, error) {
	site, id, ok := strings.Cut(path, "/")
	if !ok || site == "" || id == "" || strings.Contains(id, "/") {
		return relayclient.Camera{}, fault.Field(field, "%q is not SITE/CAMERA", path)
	}
	cams := s.opts.Console.KnownCameras()
	if cams == nil {
		// The view lists the cameras from the same session before it shows
		// one, so this is a flag from a console that has not heard yet.
		return relayclient.Camera{}, refused(fault.Unavailable, "cameras_unknown", field,
			"%s: the relay's camera list has not reached the console yet; try again in a moment", field)
	}
	for _, c := range cams {
		if c.Site == site && c.ID == id {
			return c, nil
		}
	}
	return relayclient.Camera{}, refused(fault.Invalid, "unknown_camera", field, "%s: camera %s is not in the relay's list", field, path)
}
