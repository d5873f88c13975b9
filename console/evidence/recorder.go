package evidence

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/clip"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/internal/avc"
)

// Sources is where the recorder follows a stream live; *media.Sources is.
// Its subscription keeps the stream pulling until the clip is cut, even if
// the officer has moved on to another camera.
type Sources interface {
	Subscribe(key media.Key, sub media.Subscriber) (unsubscribe func(), err error)
}

// ClipStore is where clips go; *store.Store is.
type ClipStore interface {
	PartialClipPath(id string) string
	// FileClip files a finished recording; on failure it leaves the
	// recording as it was, to be filed again.
	FileClip(ctx context.Context, id string, res clip.Result) error
}

// RecorderOptions configures a Recorder. Zero durations take the defaults.
type RecorderOptions struct {
	Sources Sources
	Buffers *Buffers
	Store   ClipStore
	// Before and After bound the clip around the observed frame (20 s, 10 s).
	Before, After time.Duration
	// Grace is how long after the clip's end the recorder waits for the
	// stream to get there before it calls the clip incomplete (3 s).
	Grace time.Duration
	// Now stamps live units; it must be the clock the Buffers use (nil:
	// time.Now).
	Now func() time.Time
	// RetryEvery is how often a clip whose filing failed (a full disk) is
	// filed again, until it is or the recorder closes (2 s).
	RetryEvery time.Duration
	Log        zerolog.Logger
}

// Recorder cuts findings' clips: from the keyframe at or before the observed
// frame minus Before, out of the stream's buffer, then live until the
// observed frame plus After.
type Recorder struct {
	opts   RecorderOptions
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	recording int                    // clips being cut
	unfiled   map[string]clip.Result // clips cut whose filing failed, by finding
	retrying  bool                   // the retry loop runs
}

// ErrClosed is returned by Record once the recorder is closed: the clip
// stays "recording" until the store's RecoverClips files it.
var ErrClosed = errors.New("clip recorder closed")

// Default clip bounds.
const (
	DefaultBefore = 20 * time.Second
	DefaultAfter  = 10 * time.Second
)

// NewRecorder returns a recorder whose clips stop, incomplete, when ctx is
// cancelled or Close is called.
func NewRecorder(ctx context.Context, opts RecorderOptions) *Recorder {
	if opts.Before <= 0 {
		opts.Before = DefaultBefore
	}
	if opts.After <= 0 {
		opts.After = DefaultAfter
	}
	if opts.Grace <= 0 {
		opts.Grace = 3 * time.Second
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	return &Recorder{opts: opts, ctx: ctx, cancel: cancel, unfiled: make(map[string]clip.Result)}
}

// Pending counts the clips being cut and those cut but not yet filed,
// waiting for the disk to have room.
func (r *Recorder) Pending() (recording, unfiled int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recording, len(r.unfiled)
}

// Close stops the clips being recorded, files them as incomplete and waits.
func (r *Recorder) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

// liveQueue is the recorder's subscriber: it never blocks the source, and
// remembers that it dropped a unit when the writer fell behind.
type liveQueue struct {
	units  chan clip.Unit
	states chan media.State
	now    func() time.Time

	mu      sync.Mutex
	dropped bool
}

func (q *liveQueue) OnAccessUnit(au avc.AccessUnit) {
	select {
	case q.units <- clip.Unit{AU: au, At: q.now()}:
	default:
		q.mu.Lock()
		q.dropped = true
		q.mu.Unlock()
	}
}

func (q *liveQueue) OnState(s media.State) {
	select {
	case q.states <- s:
	default:
	}
}

func (q *liveQueue) takeDropped() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	d := q.dropped
	q.dropped = false
	return d
}

// recording is one clip being cut.
type recording struct {
	r          *Recorder
	id         string
	key        media.Key
	end        time.Time
	log        zerolog.Logger
	w          *clip.Writer
	startsAt   time.Time
	width      int
	height     int
	lastPTS    time.Duration
	wrote      bool
	needKey    bool // a unit was lost: skip to the next keyframe
	incomplete bool // why, when set, is in reason
	reason     string
}

// Record cuts the clip of finding id, observed on key at observedAt. The
// pre-roll is on disk when Record returns, so a console killed right after
// still leaves a playable clip; the rest records in the background and is
// filed with the store's FileClip, incomplete if the stream drops first, and
// filed again until the disk takes it.
func (r *Recorder) Record(id string, key media.Key, observedAt time.Time) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.wg.Add(1)
	r.recording++
	r.mu.Unlock()
	rec := &recording{
		r: r, id: id, key: key, end: observedAt.Add(r.opts.After),
		log: r.opts.Log.With().Str("finding", id).Str("camera", key.String()).Logger(),
	}
	// The live subscription comes first: a unit arriving while the pre-roll
	// is read is then in the queue, in the buffer, or in both (skipped by
	// its presentation time), never in neither.
	q := &liveQueue{units: make(chan clip.Unit, 512), states: make(chan media.State, 16), now: r.opts.Now}
	unsubscribe, err := r.opts.Sources.Subscribe(key, q)
	if err != nil {
		rec.fail("the stream could not be followed: " + err.Error())
		go func() { defer r.wg.Done(); rec.finish() }()
		return nil
	}
	if ring, ok := r.opts.Buffers.Ring(key); ok {
		done := rec.writeAll(ring.Since(observedAt.Add(-r.opts.Before)))
		if done {
			unsubscribe()
			go func() { defer r.wg.Done(); rec.finish() }()
			return nil
		}
	}
	go func() {
		defer r.wg.Done()
		defer unsubscribe()
		rec.follow(q)
		rec.finish()
	}()
	return nil
}

// follow writes live units until the clip's end, the stream's end, or the
// recorder's.
func (rec *recording) follow(q *liveQueue) {
	r := rec.r
	deadline := time.NewTimer(rec.end.Add(r.opts.Grace).Sub(r.opts.Now()))
	defer deadline.Stop()
	for {
		select {
		case u := <-q.units:
			if q.takeDropped() {
				rec.fail("the recorder fell behind the stream")
				rec.needKey = true
			}
			if rec.writeAll([]clip.Unit{u}) {
				return
			}
		case s := <-q.states:
			if s.State == media.Offline {
				rec.fail("the stream dropped: " + s.Reason)
				return
			}
		case <-deadline.C:
			// Units already queued may still reach the end.
			for len(q.units) > 0 {
				if rec.writeAll([]clip.Unit{<-q.units}) {
					return
				}
			}
			rec.fail("the stream stopped before the clip's end")
			return
		case <-r.ctx.Done():
			rec.fail("the console stopped")
			return
		}
	}
}

// writeAll writes units up to the clip's end and reports whether the end is
// reached or the clip cannot go on.
func (rec *recording) writeAll(units []clip.Unit) (done bool) {
	for _, u := range units {
		if rec.wrote && u.AU.PTS <= rec.lastPTS {
			continue // already written, from the buffer or the replayed GOP
		}
		if u.At.After(rec.end) {
			return true
		}
		if err := rec.write(u); err != nil {
			rec.fail(err.Error())
			rec.log.Error().Err(err).Msg("writing clip")
			return true
		}
	}
	return false
}

func (rec *recording) write(u clip.Unit) error {
	if rec.w == nil || rec.needKey {
		sps, pps := u.AU.ParamSets()
		if !u.AU.Keyframe || sps == nil || pps == nil {
			return nil // nothing decodes before a keyframe
		}
		rec.needKey = false
		if rec.w == nil {
			w, err := clip.Create(rec.r.opts.Store.PartialClipPath(rec.id), u.AU)
			if err != nil {
				return err
			}
			rec.w, rec.startsAt = w, u.At
			if info, err := avc.ParseSPS(sps); err == nil {
				rec.width, rec.height = info.Width, info.Height
			}
			rec.wrote, rec.lastPTS = true, u.AU.PTS
			return nil
		}
	}
	if err := rec.w.Write(u.AU); err != nil {
		return err
	}
	rec.wrote, rec.lastPTS = true, u.AU.PTS
	return nil
}

// fail marks the clip incomplete, keeping the first reason.
func (rec *recording) fail(reason string) {
	if !rec.incomplete {
		rec.incomplete, rec.reason = true, reason
	}
}

// finish closes the file and files the clip.
func (rec *recording) finish() {
	r := rec.r
	res := clip.Result{StartsAt: rec.startsAt, Width: rec.width, Height: rec.height}
	if rec.w != nil {
		// After a failed write the file ends at its last whole fragment,
		// and so does the duration.
		if err := rec.w.Close(); err != nil {
			rec.fail(err.Error())
			rec.log.Error().Err(err).Msg("closing clip")
		}
		res.Duration = rec.w.Duration()
	} else {
		rec.fail("no keyframe of the stream reached the recorder")
	}
	res.Complete, res.Reason = !rec.incomplete, rec.reason
	err := r.file(rec.id, res)
	r.mu.Lock()
	r.recording--
	if err != nil {
		r.unfiled[rec.id] = res
		if !r.retrying && !r.closed {
			r.retrying = true
			r.wg.Add(1)
			go r.retry()
		}
	}
	r.mu.Unlock()
	if err != nil {
		rec.log.Error().Err(err).Dur("retry_every", r.opts.RetryEvery).Msg("filing clip: kept to be filed again")
		return
	}
	ev := rec.log.Info()
	if rec.incomplete {
		ev = rec.log.Warn().Str("reason", rec.reason)
	}
	ev.Bool("complete", !rec.incomplete).Dur("duration", res.Duration).Msg("clip filed")
}

// file files one clip; it must happen even while the console stops.
func (r *Recorder) file(id string, res clip.Result) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 10*time.Second)
	defer cancel()
	return r.opts.Store.FileClip(ctx, id, res)
}

// retry files again, every RetryEvery, the clips whose filing failed,
// until none is left or the recorder closes; those left then are filed by
// the store's RecoverClips at the next start.
func (r *Recorder) retry() {
	defer r.wg.Done()
	t := time.NewTicker(r.opts.RetryEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			r.mu.Lock()
			r.retrying = false
			r.mu.Unlock()
			return
		case <-t.C:
		}
		r.mu.Lock()
		todo := maps.Clone(r.unfiled)
		r.mu.Unlock()
		for id, res := range todo {
			if err := r.file(id, res); err != nil {
				r.opts.Log.Debug().Err(err).Str("finding", id).Msg("filing clip again: not yet")
				continue
			}
			r.opts.Log.Info().Str("finding", id).Bool("complete", res.Complete).Msg("clip filed on a later try")
			r.mu.Lock()
			delete(r.unfiled, id)
			r.mu.Unlock()
		}
		r.mu.Lock()
		if len(r.unfiled) == 0 {
			r.retrying = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}
