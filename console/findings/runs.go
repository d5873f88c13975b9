package findings

import (
	"container/list"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/checklist"
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
// so every use holds mu.
type run struct {
	mu     sync.Mutex
	id     string
	camera string
	run    *checklist.Run
	elem   *list.Element
}

// runs are the runs of this launch, in memory: a run is an officer's
// worksheet while watching one procedure, and its findings are what lasts.
type runs struct {
	max int

	mu    sync.Mutex
	byID  map[string]*run
	order *list.List // oldest first
}

func newRuns(max int) *runs {
	return &runs{max: max, byID: make(map[string]*run), order: list.New()}
}

func (rs *runs) add(r *run) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r.elem = rs.order.PushBack(r)
	rs.byID[r.id] = r
	for rs.order.Len() > rs.max {
		old := rs.order.Remove(rs.order.Front()).(*run)
		delete(rs.byID, old.id)
	}
}

func (rs *runs) get(id string) (*run, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	r, ok := rs.byID[id]
	if !ok {
		return nil, fault.New(fault.NotFound, "unknown_run", "no run %q in this console session", id)
	}
	return r, nil
}

// Observation is a checklist.Observation as the view reads it: durations in
// seconds, like the templates'.
type Observation struct {
	Step      string         `json:"step"`
	Mark      checklist.Mark `json:"mark"`
	Deviation string         `json:"deviation,omitempty"`
	At        time.Time      `json:"at"`
	Duration  float64        `json:"duration_s,omitempty"`
}

func observations(r *checklist.Run) []Observation {
	out := []Observation{}
	for _, o := range r.Observations() {
		out = append(out, Observation{Step: o.Step, Mark: o.Mark, Deviation: o.Deviation, At: o.At, Duration: o.Duration.Seconds()})
	}
	return out
}

func flagsOrEmpty(fs []checklist.Flag) []checklist.Flag {
	if fs == nil {
		return []checklist.Flag{}
	}
	return fs
}

// NewRun starts observing one procedure on a camera.
type NewRun struct {
	TemplateID      string `json:"template_id"`
	TemplateVersion int    `json:"template_version"` // 0 is the newest
	Camera          string `json:"camera"`           // "site/camera", or "" for none
}

// Run is an observation run as it starts.
type Run struct {
	ID           string              `json:"id"`
	Camera       string              `json:"camera"`
	Template     *checklist.Template `json:"template"`
	Observations []Observation       `json:"observations"`
}

// CreateRun starts a run of a template, kept for this launch.
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
	if in.Camera != "" {
		if _, err := s.camera("camera", in.Camera); err != nil {
			return Run{}, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Run{}, fmt.Errorf("making run id: %w", err)
	}
	rn := &run{id: id.String(), camera: in.Camera, run: checklist.NewRun(t)}
	s.runs.add(rn)
	return Run{ID: rn.id, Camera: rn.camera, Template: t, Observations: []Observation{}}, nil
}

// Marking is a step marked on a run: done, a deviation from the
// template's catalogue, not seen, or unmarked ("").
type Marking struct {
	Step      string         `json:"step"`
	Mark      checklist.Mark `json:"mark"`
	Deviation string         `json:"deviation"`
}

// RunUpdate is a run's worksheet after a change, with the flags the
// template's rules raised by it.
type RunUpdate struct {
	Observations []Observation    `json:"observations"`
	Flags        []checklist.Flag `json:"flags"`
}

// Mark marks a step of a run.
func (s *Service) Mark(runID string, in Marking) (RunUpdate, error) {
	rn, err := s.runs.get(runID)
	if err != nil {
		return RunUpdate{}, err
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	t := rn.run.Template()
	if _, ok := t.Step(in.Step); !ok {
		return RunUpdate{}, fault.Field("step", "template %s has no step %q", t.ID, in.Step)
	}
	switch in.Mark {
	case checklist.Done, checklist.NotSeen, checklist.Unmarked:
		if in.Deviation != "" {
			return RunUpdate{}, fault.Field("deviation", "goes with the mark %q only", checklist.Deviated)
		}
	case checklist.Deviated:
		if _, ok := t.Deviation(in.Deviation); !ok {
			return RunUpdate{}, fault.Field("deviation", "template %s has no deviation %q", t.ID, in.Deviation)
		}
	default:
		return RunUpdate{}, fault.Field("mark", "%q is not one of done, deviation, not_seen or \"\"", in.Mark)
	}
	flags, err := rn.run.Mark(in.Step, in.Mark, in.Deviation, s.opts.Now())
	if err != nil {
		return RunUpdate{}, fault.Field("step", "%v", err)
	}
	return RunUpdate{Observations: observations(rn.run), Flags: flagsOrEmpty(flags)}, nil
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

// Timer starts or stops a step's timer; a step stopped short raises its
// flag.
func (s *Service) Timer(runID string, in TimerAction) (TimerUpdate, error) {
	rn, err := s.runs.get(runID)
	if err != nil {
		return TimerUpdate{}, err
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	t := rn.run.Template()
	step, ok := t.Step(in.Step)
	if !ok {
		return TimerUpdate{}, fault.Field("step", "template %s has no step %q", t.ID, in.Step)
	}
	if step.MinDuration == 0 {
		return TimerUpdate{}, fault.Field("step", "step %q is not timed", in.Step)
	}
	var d time.Duration
	var flags []checklist.Flag
	switch in.Action {
	case "start":
		if err := rn.run.StartTimer(in.Step, s.opts.Now()); err != nil {
			return TimerUpdate{}, fault.Field("step", "%v", err)
		}
	case "stop":
		if d, flags, err = rn.run.StopTimer(in.Step, s.opts.Now()); err != nil {
			return TimerUpdate{}, refused(fault.Conflict, "timer_not_running", "step", "step: %v", err)
		}
	default:
		return TimerUpdate{}, fault.Field("action", "%q is not start or stop", in.Action)
	}
	return TimerUpdate{Duration: d.Seconds(), RunUpdate: RunUpdate{Observations: observations(rn.run), Flags: flagsOrEmpty(flags)}}, nil
}
