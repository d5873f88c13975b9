package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Options configures a Forwarder; zero values are sensible.
type Options struct {
	Store *store.Store
	Relay Relay
	// MinBackoff and MaxBackoff bound the wait after the relay could not be
	// reached or failed (1 s, 30 s), doubling in between.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the outbox is read with no signal (30 s): a
	// backstop, as every commit signals.
	Poll time.Duration
	// Workers is how many findings are sent at once (4).
	Workers int
	Now     func() time.Time
	// Console names this console to the relay in watch batches (the
	// store's ConsoleID when empty).
	Console string
	// OnChange, if set, is told of findings whose forward state may have
	// changed (an entry delivered, refused, or retried later), after the
	// store has it. It is called from the sending goroutines, so it must
	// be safe for concurrent use, and quick: sending waits for it.
	OnChange func(ids []string)
	Log      zerolog.Logger
}

// Forwarder sends the outbox to the relay.
//
// Each finding's entries go strictly in order: a later one waits until the
// earlier ones are delivered; findings do not wait for each other. Sending
// is at least once and the relay answers a repeat as done (the finding by
// id, evidence by hash, actions by an action id made from the finding and
// revision), so a retry after a crash has the effect of one delivery.
//
// Each call is bounded by relayclient (2 min, a clip's upload included).
// The relay not answering, or answering 5xx, 408, 425 or 429, is retried
// with capped exponential backoff, for all findings at once, since it is
// the relay that is unwell; when the wait is over one finding probes it.
// Any other 4xx will never change (relayclient.Permanent: a relay that has
// no findings API yet is waited for instead): the entry is failed with the
// relay's reason, which the finding's forward state shows, and the finding's later
// entries go on. A refused first entry (the site unknown, say) fails the
// later ones the same way; nothing is left waiting forever.
//
// Only the findings flagged under its relay are sent (store.OutboxFor):
// another relay's wait, neither tried nor failed here, for a sign-in to
// theirs. Findings not bound to any relay yet are bound to this one.
type Forwarder struct {
	opts Options
	log  zerolog.Logger

	mu        sync.Mutex
	failures  int       // consecutive passes the relay failed
	downUntil time.Time // no sending before, after a failure
}

// New returns a forwarder; Run runs it.
func New(opts Options) *Forwarder {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	if opts.Poll <= 0 {
		opts.Poll = 30 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Forwarder{opts: opts, log: opts.Log}
}

// batch is how many outbox entries one pass reads.
const batch = 1000

// Run sends until ctx is cancelled, or the relay ends the session
// (relayclient.ErrSessionExpired), which it returns.
func (f *Forwarder) Run(ctx context.Context) error {
	f.log.Info().Str("relay", f.opts.Relay.BaseURL()).Msg("forwarding findings")
	defer f.opts.Store.Forwarding(f.opts.Relay.BaseURL())()
	for {
		wait, err := f.pass(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, relayclient.ErrSessionExpired) {
			f.log.Warn().Err(err).Msg("forwarding stopped: the relay ended the session")
			return err
		}
		if err != nil {
			f.log.Error().Err(err).Msg("forwarding")
			wait = f.opts.MinBackoff
		}
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-f.opts.Store.Queued():
		case <-t.C:
		}
		t.Stop()
	}
}

// pass sends what can be sent now and returns how long to wait before the
// next pass: 0 when it made progress and more may be waiting.
func (f *Forwarder) pass(ctx context.Context) (time.Duration, error) {
	relay := f.opts.Relay.BaseURL()
	if n, err := f.opts.Store.BindUnbound(ctx, relay); err != nil {
		return 0, err
	} else if n > 0 {
		f.log.Info().Int("findings", n).Msg("findings flagged before any sign-in are forwarded to this relay")
	}
	entries, err := f.opts.Store.OutboxFor(ctx, relay, batch)
	if err != nil {
		return 0, err
	}
	now := f.opts.Now()
	wait := f.opts.Poll
	f.mu.Lock()
	down := f.downUntil
	f.mu.Unlock()
	if now.Before(down) {
		return min(wait, down.Sub(now)), nil
	}
	// Each finding's entries in order; findings in the order of their
	// oldest entry.
	var order []string
	byFinding := make(map[string][]store.OutboxEntry)
	for _, e := range entries {
		if _, ok := byFinding[e.FindingID]; !ok {
			order = append(order, e.FindingID)
		}
		byFinding[e.FindingID] = append(byFinding[e.FindingID], e)
	}
	var ready []string
	for _, id := range order {
		head := byFinding[id][0]
		if head.NextAttempt.After(now) {
			wait = min(wait, head.NextAttempt.Sub(now))
			continue
		}
		ready = append(ready, id)
	}
	if len(ready) == 0 {
		return wait, nil
	}
	// After a failure one finding finds out whether the relay is back.
	if !down.IsZero() {
		ready = ready[:1]
	}

	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, f.opts.Workers)
		mu       sync.Mutex
		progress bool
		firstErr error
	)
	for _, id := range ready {
		sem <- struct{}{}
		if f.isDown() || ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(es []store.OutboxEntry) {
			defer wg.Done()
			defer func() { <-sem }()
			sent, err := f.sendFinding(ctx, es)
			mu.Lock()
			defer mu.Unlock()
			progress = progress || sent
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}(byFinding[id])
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if f.isDown() {
		f.mu.Lock()
		down := f.downUntil
		f.mu.Unlock()
		return max(down.Sub(f.opts.Now()), time.Millisecond), nil
	}
	if progress {
		return 0, nil
	}
	return wait, nil
}

func (f *Forwarder) isDown() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opts.Now().Before(f.downUntil)
}

// relayFailed starts or lengthens the backoff and returns when to try again.
func (f *Forwarder) relayFailed() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	// Findings sent side by side fail together: one failure of the relay.
	if now := f.opts.Now(); now.Before(f.downUntil) {
		return f.downUntil
	}
	f.failures++
	wait := f.opts.MinBackoff
	for i := 1; i < f.failures && wait < f.opts.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, f.opts.MaxBackoff)
	f.downUntil = f.opts.Now().Add(wait)
	return f.downUntil
}

func (f *Forwarder) relayAnswered() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.log.Info().Int("failed_passes", f.failures).Msg("the relay answers again")
	}
	f.failures, f.downUntil = 0, time.Time{}
}

// sendFinding sends a finding's entries in order until one must wait. It
// reports whether any was delivered or failed for good; the error is one
// that stops forwarding (the session ended, the store failed).
func (f *Forwarder) sendFinding(ctx context.Context, es []store.OutboxEntry) (bool, error) {
	touched := false
	defer func() {
		// A run's events change no finding the view shows.
		if touched && f.opts.OnChange != nil && es[0].Kind != store.OutboxRun && es[0].Kind != store.OutboxWatch {
			f.opts.OnChange([]string{es[0].FindingID})
		}
	}()
	progress := false
	for _, e := range es {
		log := f.log.With().Str("finding", e.FindingID).Int64("seq", e.Seq).Str("kind", e.Kind).Int("revision", e.Revision).Logger()
		err := f.send(ctx, e)
		switch {
		case err == nil:
			f.relayAnswered()
			if err := f.opts.Store.MarkSent(ctx, e.Seq); err != nil {
				return progress, err
			}
			progress, touched = true, true
			log.Debug().Msg("forwarded")
		case errors.Is(err, errNotYet):
			return progress, nil
		case ctx.Err() != nil:
			return progress, nil
		case errors.Is(err, relayclient.ErrSessionExpired), errors.Is(err, relayclient.ErrNotSignedIn):
			return progress, err
		case relayclient.Permanent(err) || errors.Is(err, errRefused):
			f.relayAnswered()
			if err := f.opts.Store.MarkFailed(ctx, e.Seq, err.Error()); err != nil {
				return progress, err
			}
			progress, touched = true, true
			log.Warn().Err(err).Msg("the relay refused a change of a finding for good; going on with the next")
			if e.Kind == store.OutboxFinding && e.Revision > 1 {
				f.resync(ctx, e.FindingID, log)
			}
		default:
			next := f.relayFailed()
			if err := f.opts.Store.RecordAttempt(ctx, e.Seq, err.Error(), next); err != nil {
				return progress, err
			}
			touched = true
			log.Info().Err(err).Time("retry_at", next).Msg("the relay did not take a change; retrying")
			return progress, nil
		}
	}
	return progress, nil
}

var (
	// errNotYet: the entry cannot be sent yet (its clip still records).
	errNotYet = errors.New("not ready to be sent yet")
	// errRefused: the entry can never be sent as it stands.
	errRefused = errors.New("cannot be sent")
)

// send delivers one entry.
func (f *Forwarder) send(ctx context.Context, e store.OutboxEntry) error {
	switch {
	case e.Kind == store.OutboxFinding && e.Revision == 1:
		return f.sendFlag(ctx, e.FindingID)
	case e.Kind == store.OutboxFinding:
		return f.sendChange(ctx, e)
	case e.Kind == store.OutboxEvidence:
		return f.sendClip(ctx, e.FindingID)
	case e.Kind == store.OutboxRun:
		return f.sendRunEvent(ctx, e)
	case e.Kind == store.OutboxRecheck:
		return f.sendRecheck(ctx, e)
	case e.Kind == store.OutboxRecheckClip:
		return f.sendRecheckClip(ctx, e)
	case e.Kind == store.OutboxWatch:
		return f.sendWatch(ctx, e)
	}
	return fmt.Errorf("%w: outbox entry %d is of unknown kind %q", errRefused, e.Seq, e.Kind)
}

// sendFlag files the finding as flagged, then its snapshot.
func (f *Forwarder) sendFlag(ctx context.Context, id string) error {
	fd, err := f.opts.Store.Original(ctx, id)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	if _, _, err := f.opts.Relay.FileFinding(ctx, wire.Draft{
		ID: fd.ID, Site: fd.Site, Camera: fd.Camera, Zone: fd.Zone, TemplateID: fd.TemplateID,
		TemplateVersion: fd.TemplateVersion, Step: fd.Step, Deviation: fd.Deviation, DeviationText: fd.DeviationText, DeviationTitle: fd.DeviationTitle,
		Severity: fd.Severity, Note: fd.Note, Observer: fd.Observer,
		ObservedAt: fd.ObservedAt, FlaggedAt: fd.FlaggedAt, Deadline: fd.Deadline,
	}); err != nil {
		return err
	}
	if fd.Snapshot == nil || fd.Snapshot.File == "" {
		return nil
	}
	return f.sendEvidence(ctx, id, *fd.Snapshot)
}

// sendClip sends the finding's clip once it is recorded.
func (f *Forwarder) sendClip(ctx context.Context, id string) error {
	fd, err := f.opts.Store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	switch {
	case fd.Clip == nil:
		return nil
	case fd.Clip.State == "recording":
		return errNotYet
	case fd.Clip.File == "":
		return nil // cut short before its first frame: nothing to send
	}
	return f.sendEvidence(ctx, id, *fd.Clip)
}

func (f *Forwarder) sendEvidence(ctx context.Context, id string, ev store.Evidence) error {
	path, err := f.opts.Store.EvidencePath(ev.File)
	if err != nil {
		return fmt.Errorf("%w: %s of %s: %w", errRefused, ev.Kind, id, err)
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%w: %s of %s: %w", errRefused, ev.Kind, id, err)
	}
	ctype := "image/jpeg"
	if ev.Kind == wire.EvidenceClip {
		ctype = "video/mp4"
	}
	open := func() (io.ReadCloser, int64, error) {
		fh, err := os.Open(path)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: opening %s of %s: %w", errRefused, ev.Kind, id, err)
		}
		st, err := fh.Stat()
		if err != nil {
			fh.Close()
			return nil, 0, fmt.Errorf("opening %s of %s: %w", ev.Kind, id, err)
		}
		return fh, st.Size(), nil
	}
	_, _, err = f.opts.Relay.PutEvidence(ctx, id, relayclient.Upload{Kind: ev.Kind, ContentType: ctype, SHA256: ev.SHA256, Open: open})
	return err
}

// actionNamespace makes action ids: the same finding and revision always
// make the same id, so a retry after a crash is the same action.
var actionNamespace = uuid.MustParse("6f1c1f2e-9a43-4c55-8f0e-5d0a9b3c7e21")

// ActionID is the relay action id of a finding's revision.
func ActionID(findingID string, revision int) string {
	return uuid.NewSHA1(actionNamespace, fmt.Appendf(nil, "%s/%d", findingID, revision)).String()
}

// actions are the relay's names of the console's changes.
var actions = map[string]wire.Action{"edited": wire.ActEdit, "withdrawn": wire.ActWithdraw, "verified": wire.ActVerify, "reopened": wire.ActReopen}

// sendChange sends a change after the flag as the relay action it is.
func (f *Forwarder) sendChange(ctx context.Context, e store.OutboxEntry) error {
	c, err := f.opts.Store.ChangeOf(ctx, e)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	name, ok := actions[c.Action]
	if !ok {
		return fmt.Errorf("%w: change %d of %s is %q, which the relay has no action for", errRefused, e.Revision, e.FindingID, c.Action)
	}
	aid, err := f.actionID(ctx, e)
	if err != nil {
		return err
	}
	a := wire.ActionRequest{ActionID: aid, Action: name}
	switch name {
	case wire.ActEdit:
		// The relay keeps a note it is not given: the note as of this
		// change goes every time.
		a.Note = c.Note
		if s, ok := c.Detail["severity"].(string); ok {
			a.Severity = &s
		}
	case wire.ActWithdraw:
		a.Note, _ = c.Detail["reason"].(string)
	default:
		a.Note, _ = c.Detail["note"].(string)
	}
	if name == wire.ActEdit || name == wire.ActReopen {
		if s, ok := c.Detail["deadline"].(string); ok {
			d, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("%w: change %d of %s: deadline %q: %w", errRefused, e.Revision, e.FindingID, s, err)
			}
			a.Deadline = &d
		}
	}
	_, err = f.opts.Relay.Act(ctx, e.FindingID, a)
	return err
}

// resync takes the relay's status of a finding whose change it refused, so
// that the console does not go on showing a status the site never saw.
func (f *Forwarder) resync(ctx context.Context, id string, log zerolog.Logger) {
	rf, err := f.opts.Relay.Finding(ctx, id)
	if err != nil {
		log.Warn().Err(err).Msg("reading the relay's status after a refusal")
		return
	}
	if err := f.opts.Store.TakeRelayStatus(ctx, f.opts.Relay.BaseURL(), id, string(rf.Status), rf.Deadline); err != nil {
		log.Warn().Err(err).Msg("taking the relay's status after a refusal")
	}
}
