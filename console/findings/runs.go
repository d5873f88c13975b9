package findings

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// library returns the templates in force: the embedded defaults and the
// supervisors' folder, read again whenever a file there has changed.
func (s *Service) library() (*checklist.Library, error) {
	sig := folderSignature(s.opts.Templates)
	s.libMu.Lock()
	defer s.libMu.Unlock()
	if s.lib != nil && sig == s.libSig {
		return s.lib, nil
	}
	lib, err := checklist.Load(s.opts.Templates)
	if err != nil {
		return nil, fmt.Errorf("loading checklist templates: %w", err)
	}
	s.lib, s.libSig = lib, sig
	return lib, nil
}

// folderSignature sums up a folder's files by name, size and time: a file
// added, removed or saved changes it.
func folderSignature(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			fmt.Fprintf(&b, "%s:?;", e.Name())
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return b.String()
}

// Checklists are the templates in force and the files skipped.
type Checklists struct {
	Templates []*checklist.Template `json:"templates"`
	// Problems are the supervisors' files that were skipped, as
	// "file:line: message".
	Problems []string `json:"problems"`
}

// Checklists returns the newest templates for zone, or every template
// when zone is "".
func (s *Service) Checklists(zone string) (Checklists, error) {
	lib, err := s.library()
	if err != nil {
		return Checklists{}, err
	}
	templates := lib.Latest()
	if zone != "" {
		templates = lib.ForZone(zone)
	}
	problems := make([]string, len(lib.Problems))
	for i, p := range lib.Problems {
		problems[i] = p.String()
	}
	if templates == nil {
		templates = []*checklist.Template{}
	}
	return Checklists{Templates: templates, Problems: problems}, nil
}

// run is one observation run; checklist.Run is not safe for concurrent use,
// so every use holds mu. It is the run's events replayed: each change is
// committed to the store as an event before it is answered, and a run not
// in memory (after a restart, or dropped as the oldest) is read back from
// them.
type run struct {
	mu      sync.Mutex
	id      string
	camera  string
	officer string
	started time.Time
	ended   time.Time // zero while the run goes on
	run     *checklist.Run
	// free are the steps marked as deviations in the officer's own words,
	// which checklist.Run, knowing only its catalogue, does not hold.
	free     map[string]Observation
	findings []string
	elem     *list.Element
}

// runs are the runs in memory, the most recently used kept: a cache of
// the store's.
type runs struct {
	max int

	mu    sync.Mutex
	byID  map[string]*run
	order *list.List // least recently used first
}

func newRuns(max int) *runs {
	return &runs{max: max, byID: make(map[string]*run), order: list.New()}
}

// add keeps r, or returns the run of its id already kept (read back by
// another caller meanwhile).
func (rs *runs) add(r *run) *run {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if had, ok := rs.byID[r.id]; ok {
		return had
	}
	r.elem = rs.order.PushBack(r)
	rs.byID[r.id] = r
	for rs.order.Len() > rs.max {
		old := rs.order.Remove(rs.order.Front()).(*run)
		delete(rs.byID, old.id)
	}
	return r
}

func (rs *runs) cached(id string) *run {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r, ok := rs.byID[id]
	if ok {
		rs.order.MoveToBack(r.elem)
	}
	return r
}

// drop forgets a run whose state in memory may be ahead of the store's (a
// commit failed after the change was made): it is read back next time.
func (rs *runs) drop(r *run) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.byID[r.id] == r {
		rs.order.Remove(r.elem)
		delete(rs.byID, r.id)
	}
}

// run returns a run, from memory or read back from the store.
func (s *Service) run(ctx context.Context, id string) (*run, error) {
	if r := s.runs.cached(id); r != nil {
		return r, nil
	}
	rec, err := s.opts.Store.Run(ctx, id)
	if errors.Is(err, store.ErrRunNotFound) {
		return nil, fault.New(fault.NotFound, "unknown_run", "no run %q in this console", id)
	}
	if err != nil {
		return nil, err
	}
	r, err := replay(rec)
	if err != nil {
		return nil, fmt.Errorf("reading run %s back: %w", id, err)
	}
	return s.runs.add(r), nil
}

// replay makes a run's state again from its events, as they were made.
func replay(rec store.Run) (*run, error) {
	var t checklist.Template
	if err := json.Unmarshal(rec.Template, &t); err != nil {
		return nil, fmt.Errorf("reading its template: %w", err)
	}
	r := &run{id: rec.ID, camera: rec.Camera, officer: rec.Officer, started: rec.StartedAt, ended: rec.EndedAt,
		run: checklist.NewRun(&t), free: map[string]Observation{}}
	for _, ev := range rec.Events {
		var err error
		switch ev.Kind {
		case store.RunMarked:
			_, err = r.mark(Marking{Step: ev.Step, Mark: checklist.Mark(ev.Mark), Deviation: ev.Deviation, DeviationText: ev.DeviationText}, ev.At)
		case store.RunTimerStarted:
			err = r.run.StartTimer(ev.Step, ev.At)
		case store.RunTimerStopped:
			_, _, err = r.run.StopTimer(ev.Step, ev.At)
			delete(r.free, ev.Step)
		case store.RunFinding:
			r.findings = append(r.findings, ev.FindingID)
		}
		if err != nil {
			return nil, fmt.Errorf("event %d (%s %s): %w", ev.Seq, ev.Kind, ev.Step, err)
		}
	}
	return r, nil
}

// mark applies a checked marking at time at.
func (r *run) mark(in Marking, at time.Time) ([]checklist.Flag, error) {
	if in.Mark == checklist.Deviated && in.Deviation == "" {
		// In words, which the catalogue's run cannot hold: for its order
		// rules the step was seen (marked done there), and the words are
		// what the run shows of it.
		flags, err := r.run.Mark(in.Step, checklist.Done, "", at)
		if err != nil {
			return nil, err
		}
		r.free[in.Step] = Observation{Step: in.Step, Mark: checklist.Deviated, DeviationText: in.DeviationText, At: at}
		return flags, nil
	}
	delete(r.free, in.Step)
	return r.run.Mark(in.Step, in.Mark, in.Deviation, at)
}

// Observation is a checklist.Observation as the view reads it: durations in
// seconds, like the templates'.
type Observation struct {
	Step      string         `json:"step"`
	Mark      checklist.Mark `json:"mark"`
	Deviation string         `json:"deviation,omitempty"`
	// DeviationText is a deviation in the officer's own words.
	DeviationText string    `json:"deviation_text,omitempty"`
	At            time.Time `json:"at"`
	Duration      float64   `json:"duration_s,omitempty"`
}

// observations are the run's marked steps in template order.
func (r *run) observations() []Observation {
	byStep := map[string]Observation{}
	for _, o := range r.run.Observations() {
		byStep[o.Step] = Observation{Step: o.Step, Mark: o.Mark, Deviation: o.Deviation, At: o.At, Duration: o.Duration.Seconds()}
	}
	out := []Observation{}
	for _, st := range r.run.Template().Steps {
		if o, ok := r.free[st.ID]; ok {
			out = append(out, o)
		} else if o, ok := byStep[st.ID]; ok {
			out = append(out, o)
		}
	}
	return out
}

func flagsOrEmpty(fs []checklist.Flag) []checklist.Flag {
	if fs == nil {
		return []checklist.Flag{}
	}
	return fs
}

func storeFlags(fs []checklist.Flag) []store.RunFlag {
	var out []store.RunFlag
	for _, f := range fs {
		out = append(out, store.RunFlag{Step: f.Step, Deviation: f.Deviation})
	}
	return out
}

// NewRun starts observing one procedure on a camera.
type NewRun struct {
	TemplateID      string `json:"template_id"`
	TemplateVersion int    `json:"template_version"` // 0 is the newest
	Camera          string `json:"camera"`           // "site/camera"
}

// Run is an observation run: as it starts, and as it is listed.
type Run struct {
	ID           string              `json:"id"`
	Camera       string              `json:"camera"`
	Template     *checklist.Template `json:"template"`
	Observations []Observation       `json:"observations"`
	Officer      string              `json:"officer"`
	StartedAt    time.Time           `json:"started_at"`
	// EndedAt is absent while the run goes on.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// Findings are the ids of the findings the run produced.
	Findings []string `json:"findings"`
	// Timers are the steps whose timer runs, in step order, so that a view
	// taking the run up again shows them counting.
	Timers []RunningTimer `json:"timers,omitempty"`
}

// RunningTimer is a step's timer that runs, and since when.
type RunningTimer struct {
	Step      string    `json:"step"`
	StartedAt time.Time `json:"started_at"`
}

func (r *run) view() Run {
	fs := append([]string{}, r.findings...)
	var timers []RunningTimer
	running := r.run.Running()
	for _, st := range r.run.Template().Steps {
		if at, ok := running[st.ID]; ok {
			timers = append(timers, RunningTimer{Step: st.ID, StartedAt: at})
		}
	}
	return Run{ID: r.id, Camera: r.camera, Template: r.run.Template(), Observations: r.observations(),
		Officer: r.officer, StartedAt: r.started, EndedAt: r.ended, Findings: fs, Timers: timers}
}

// CreateRun starts a run of a template on a camera, committed before it
// returns.
func (s *Service) CreateRun(ctx context.Context, in NewRun) (Run, error) {
	if in.TemplateID == "" {
		return Run{}, fault.Field("template_id", "required")
	}
	if in.TemplateVersion < 0 {
		return Run{}, fault.Field("template_version", "%d is not a version (0 means the newest)", in.TemplateVersion)
	}
	lib, err := s.library()
	if err != nil {
		return Run{}, err
	}
	t, ok := lib.Get(in.TemplateID, in.TemplateVersion)
	if !ok {
		return Run{}, refused(fault.Invalid, "unknown_template", "template_id", "template_id: no template %q version %d (0 means the newest)", in.TemplateID, in.TemplateVersion)
	}
	if in.Camera == "" {
		// The relay counts checks per site: a run is of a camera.
		return Run{}, fault.Field("camera", "required: the camera the procedure is watched on, as SITE/CAMERA")
	}
	if _, err := s.camera("camera", in.Camera); err != nil {
		return Run{}, err
	}
	officer, relay, err := s.signedIn(ctx)
	if err != nil {
		return Run{}, err
	}
	tpl, err := json.Marshal(t)
	if err != nil {
		return Run{}, fmt.Errorf("keeping template %s with the run: %w", t.ID, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Run{}, fmt.Errorf("making run id: %w", err)
	}
	now := s.opts.Now()
	if _, err := s.opts.Store.StartRun(ctx, store.NewRun{ID: id.String(), TemplateID: t.ID, TemplateVersion: t.Version, Template: tpl,
		Camera: in.Camera, Officer: officer, Relay: relay, At: now}); err != nil {
		return Run{}, fmt.Errorf("starting a run of %s: %w", t.ID, err)
	}
	rn := s.runs.add(&run{id: id.String(), camera: in.Camera, officer: officer, started: now, run: checklist.NewRun(t),
		free: map[string]Observation{}})
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.view(), nil
}

// GetRun returns a run of this console, going on or ended.
func (s *Service) GetRun(ctx context.Context, id string) (Run, error) {
	rn, err := s.run(ctx, id)
	if err != nil {
		return Run{}, err
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.view(), nil
}

// ListRuns returns the runs of this console going on (open) or all of
// them, oldest first: after a restart the view finds its runs here.
func (s *Service) ListRuns(ctx context.Context, open bool) ([]Run, error) {
	recs, err := s.opts.Store.Runs(ctx, open, 0)
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(recs))
	for _, rec := range recs {
		rn, err := s.run(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		rn.mu.Lock()
		out = append(out, rn.view())
		rn.mu.Unlock()
	}
	return out, nil
}

// change applies a change to a run under its lock, commits the event it
// makes with the flags it raised, and answers while still holding the
// lock; a run whose commit failed is read back from the store next time,
// as its state in memory went ahead of it.
func (s *Service) change(ctx context.Context, runID string, apply func(rn *run, now time.Time) (store.RunEvent, []checklist.Flag, error),
	answer func(rn *run, flags []checklist.Flag)) error {
	rn, err := s.run(ctx, runID)
	if err != nil {
		return err
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if !rn.ended.IsZero() {
		return refused(fault.Conflict, "run_ended", "", "run %s ended at %s: start another", runID, rn.ended.Format(time.RFC3339))
	}
	now := s.opts.Now()
	if now.Before(rn.started) {
		return refused(fault.Unprocessable, "before_start", "", "the console's clock (%s) is before the run's start (%s)",
			now.Format(time.RFC3339), rn.started.Format(time.RFC3339))
	}
	ev, flags, err := apply(rn, now)
	if err != nil {
		return err
	}
	ev.At, ev.Flags = now, storeFlags(flags)
	if _, err := s.opts.Store.AddRunEvent(ctx, runID, ev); err != nil {
		s.runs.drop(rn)
		return runStoreErr(runID, err)
	}
	switch ev.Kind {
	case store.RunEnded:
		rn.ended = now
	case store.RunFinding:
		rn.findings = append(rn.findings, ev.FindingID)
	}
	answer(rn, flags)
	return nil
}

// runStoreErr is the store's refusal of a run's event as the view reads it.
func runStoreErr(runID string, err error) error {
	switch {
	case errors.Is(err, store.ErrRunNotFound):
		return fault.New(fault.NotFound, "unknown_run", "no run %q in this console", runID)
	case errors.Is(err, store.ErrRunEnded):
		return refused(fault.Conflict, "run_ended", "", "%v", err)
	case errors.Is(err, store.ErrBeforeStart):
		return refused(fault.Unprocessable, "before_start", "", "%v", err)
	}
	return fmt.Errorf("recording a change of run %s: %w", runID, err)
}

// Marking is a step marked on a run: done, a deviation from the
// template's catalogue or in words, not seen, or unmarked ("").
type Marking struct {
	Step      string         `json:"step"`
	Mark      checklist.Mark `json:"mark"`
	Deviation string         `json:"deviation"`
	// DeviationText is a deviation in the officer's own words: with the
	// mark "deviation" and no catalogue Deviation, the deviation itself.
	DeviationText string `json:"deviation_text,omitempty"`
}

// RunUpdate is a run's worksheet after a change, with the flags the
// template's rules raised by it.
type RunUpdate struct {
	Observations []Observation    `json:"observations"`
	Flags        []checklist.Flag `json:"flags"`
}

// maxDeviationText bounds a deviation in words.
const maxDeviationText = 2000

// Mark marks a step of a run, committed before it returns.
func (s *Service) Mark(ctx context.Context, runID string, in Marking) (RunUpdate, error) {
	var u RunUpdate
	err := s.change(ctx, runID, func(rn *run, now time.Time) (store.RunEvent, []checklist.Flag, error) {
		t := rn.run.Template()
		if _, ok := t.Step(in.Step); !ok {
			return store.RunEvent{}, nil, fault.Field("step", "template %s has no step %q", t.ID, in.Step)
		}
		in.DeviationText = strings.TrimSpace(in.DeviationText)
		if len(in.DeviationText) > maxDeviationText {
			return store.RunEvent{}, nil, fault.Field("deviation_text", "over %d bytes", maxDeviationText)
		}
		switch in.Mark {
		case checklist.Done, checklist.NotSeen, checklist.Unmarked:
			if in.Deviation != "" || in.DeviationText != "" {
				return store.RunEvent{}, nil, fault.Field("deviation", "goes with the mark %q only", checklist.Deviated)
			}
		case checklist.Deviated:
			if in.Deviation == "" && in.DeviationText == "" {
				return store.RunEvent{}, nil, fault.Field("deviation", "name the catalogue's deviation, or say it in deviation_text")
			}
			if _, ok := t.Deviation(in.Deviation); in.Deviation != "" && !ok {
				return store.RunEvent{}, nil, fault.Field("deviation", "template %s has no deviation %q", t.ID, in.Deviation)
			}
		default:
			return store.RunEvent{}, nil, fault.Field("mark", "%q is not one of done, deviation, not_seen or \"\"", in.Mark)
		}
		flags, err := rn.mark(in, now)
		if err != nil {
			return store.RunEvent{}, nil, fault.Field("step", "%v", err)
		}
		return store.RunEvent{Kind: store.RunMarked, Step: in.Step, Mark: string(in.Mark), Deviation: in.Deviation,
			DeviationText: in.DeviationText}, flags, nil
	}, func(rn *run, flags []checklist.Flag) {
		u = RunUpdate{Observations: rn.observations(), Flags: flagsOrEmpty(flags)}
	})
	return u, err
}

// TimerAction starts or stops the timer of a timed step.
type TimerAction struct {
	Step   string `json:"step"`
	Action string `json:"action"` // start or stop
}

// TimerUpdate is a run after a timer's change; Duration is the time a
// stopped timer ran, in seconds.
type TimerUpdate struct {
	Duration float64 `json:"duration_s"`
	RunUpdate
}

// Timer starts or stops a step's timer, committed before it returns; a
// step stopped short raises its flag.
func (s *Service) Timer(ctx context.Context, runID string, in TimerAction) (TimerUpdate, error) {
	var d time.Duration
	var u TimerUpdate
	err := s.change(ctx, runID, func(rn *run, now time.Time) (store.RunEvent, []checklist.Flag, error) {
		t := rn.run.Template()
		step, ok := t.Step(in.Step)
		if !ok {
			return store.RunEvent{}, nil, fault.Field("step", "template %s has no step %q", t.ID, in.Step)
		}
		if step.MinDuration == 0 {
			return store.RunEvent{}, nil, fault.Field("step", "step %q is not timed", in.Step)
		}
		switch in.Action {
		case "start":
			if err := rn.run.StartTimer(in.Step, now); err != nil {
				return store.RunEvent{}, nil, fault.Field("step", "%v", err)
			}
			return store.RunEvent{Kind: store.RunTimerStarted, Step: in.Step}, nil, nil
		case "stop":
			var flags []checklist.Flag
			var err error
			if d, flags, err = rn.run.StopTimer(in.Step, now); err != nil {
				return store.RunEvent{}, nil, refused(fault.Conflict, "timer_not_running", "step", "step: %v", err)
			}
			delete(rn.free, in.Step)
			return store.RunEvent{Kind: store.RunTimerStopped, Step: in.Step, Duration: d}, flags, nil
		}
		return store.RunEvent{}, nil, fault.Field("action", "%q is not start or stop", in.Action)
	}, func(rn *run, flags []checklist.Flag) {
		u = TimerUpdate{Duration: d.Seconds(), RunUpdate: RunUpdate{Observations: rn.observations(), Flags: flagsOrEmpty(flags)}}
	})
	return u, err
}

// RunFinding names a finding a run produced.
type RunFinding struct {
	FindingID string `json:"finding_id"`
}

// AddFinding records that a run produced a finding of this console.
func (s *Service) AddFinding(ctx context.Context, runID string, in RunFinding) (Run, error) {
	var out Run
	err := s.change(ctx, runID, func(rn *run, now time.Time) (store.RunEvent, []checklist.Flag, error) {
		if in.FindingID == "" {
			return store.RunEvent{}, nil, fault.Field("finding_id", "required")
		}
		if slices.Contains(rn.findings, in.FindingID) {
			return store.RunEvent{}, nil, refused(fault.Conflict, "already_recorded", "finding_id", "run %s has finding %s already", runID, in.FindingID)
		}
		if _, err := s.opts.Store.Get(ctx, in.FindingID); errors.Is(err, store.ErrNotFound) {
			return store.RunEvent{}, nil, refused(fault.Invalid, "unknown_finding", "finding_id", "finding_id: no finding %q in this console", in.FindingID)
		} else if err != nil {
			return store.RunEvent{}, nil, err
		}
		return store.RunEvent{Kind: store.RunFinding, FindingID: in.FindingID}, nil, nil
	}, func(rn *run, _ []checklist.Flag) { out = rn.view() })
	return out, err
}

// EndRun ends a run: it takes no more marks, and the relay counts it as a
// check performed.
func (s *Service) EndRun(ctx context.Context, runID string) (Run, error) {
	var out Run
	err := s.change(ctx, runID, func(rn *run, now time.Time) (store.RunEvent, []checklist.Flag, error) {
		return store.RunEvent{Kind: store.RunEnded}, nil, nil
	}, func(rn *run, _ []checklist.Flag) { out = rn.view() })
	return out, err
}
