package findings

import (
	"container/list"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/jsonapi"
)

// library returns the templates in force: the embedded defaults and the
// supervisors' folder, read again whenever a file there has changed.
func (a *API) library() (*checklist.Library, error) {
	sig := folderSignature(a.opts.Templates)
	a.libMu.Lock()
	defer a.libMu.Unlock()
	if a.lib != nil && sig == a.libSig {
		return a.lib, nil
	}
	lib, err := checklist.Load(a.opts.Templates)
	if err != nil {
		return nil, fmt.Errorf("loading checklist templates: %w", err)
	}
	a.lib, a.libSig = lib, sig
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

// GET /api/v1/checklists?zone=ZONE
func (a *API) checklists(w http.ResponseWriter, r *http.Request) error {
	lib, err := a.library()
	if err != nil {
		return err
	}
	templates := lib.Latest()
	if zone := r.URL.Query().Get("zone"); zone != "" {
		templates = lib.ForZone(zone)
	}
	problems := make([]string, len(lib.Problems))
	for i, p := range lib.Problems {
		problems[i] = p.String()
	}
	if templates == nil {
		templates = []*checklist.Template{}
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"templates": templates, "problems": problems})
	return nil
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
		return nil, fail(http.StatusNotFound, "unknown_run", "", "no run %q in this console session", id)
	}
	return r, nil
}

// observation is a checklist.Observation as the view reads it: durations in
// seconds, like the templates'.
type observation struct {
	Step      string         `json:"step"`
	Mark      checklist.Mark `json:"mark"`
	Deviation string         `json:"deviation,omitempty"`
	At        time.Time      `json:"at"`
	Duration  float64        `json:"duration_s,omitempty"`
}

func observations(r *checklist.Run) []observation {
	out := []observation{}
	for _, o := range r.Observations() {
		out = append(out, observation{Step: o.Step, Mark: o.Mark, Deviation: o.Deviation, At: o.At, Duration: o.Duration.Seconds()})
	}
	return out
}

func flagsOrEmpty(fs []checklist.Flag) []checklist.Flag {
	if fs == nil {
		return []checklist.Flag{}
	}
	return fs
}

// POST /api/v1/runs
func (a *API) createRun(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		TemplateID      string `json:"template_id"`
		TemplateVersion int    `json:"template_version"`
		Camera          string `json:"camera"`
	}
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	if in.TemplateID == "" {
		return invalid("template_id", "required")
	}
	if in.TemplateVersion < 0 {
		return invalid("template_version", "%d is not a version (0 means the newest)", in.TemplateVersion)
	}
	lib, err := a.library()
	if err != nil {
		return err
	}
	t, ok := lib.Get(in.TemplateID, in.TemplateVersion)
	if !ok {
		return fail(http.StatusBadRequest, "unknown_template", "template_id", "template_id: no template %q version %d (0 means the newest)", in.TemplateID, in.TemplateVersion)
	}
	if in.Camera != "" {
		if _, err := a.camera(r.Context(), "camera", in.Camera); err != nil {
			return err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("making run id: %w", err)
	}
	rn := &run{id: id.String(), camera: in.Camera, run: checklist.NewRun(t)}
	a.runs.add(rn)
	jsonapi.Write(w, http.StatusCreated, map[string]any{
		"id": rn.id, "camera": rn.camera, "template": t, "observations": []observation{},
	})
	return nil
}

// POST /api/v1/runs/{id}/marks
func (a *API) mark(w http.ResponseWriter, r *http.Request) error {
	rn, err := a.runs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	var in struct {
		Step      string         `json:"step"`
		Mark      checklist.Mark `json:"mark"`
		Deviation string         `json:"deviation"`
	}
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	t := rn.run.Template()
	if _, ok := t.Step(in.Step); !ok {
		return invalid("step", "template %s has no step %q", t.ID, in.Step)
	}
	switch in.Mark {
	case checklist.Done, checklist.NotSeen, checklist.Unmarked:
		if in.Deviation != "" {
			return invalid("deviation", "goes with the mark %q only", checklist.Deviated)
		}
	case checklist.Deviated:
		if _, ok := t.Deviation(in.Deviation); !ok {
			return invalid("deviation", "template %s has no deviation %q", t.ID, in.Deviation)
		}
	default:
		return invalid("mark", "%q is not one of done, deviation, not_seen or \"\"", in.Mark)
	}
	flags, err := rn.run.Mark(in.Step, in.Mark, in.Deviation, a.opts.Now())
	if err != nil {
		return invalid("step", "%v", err)
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"observations": observations(rn.run), "flags": flagsOrEmpty(flags)})
	return nil
}

// POST /api/v1/runs/{id}/timers
func (a *API) timer(w http.ResponseWriter, r *http.Request) error {
	rn, err := a.runs.get(r.PathValue("id"))
	if err != nil {
		return err
	}
	var in struct {
		Step   string `json:"step"`
		Action string `json:"action"`
	}
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	t := rn.run.Template()
	step, ok := t.Step(in.Step)
	if !ok {
		return invalid("step", "template %s has no step %q", t.ID, in.Step)
	}
	if step.MinDuration == 0 {
		return invalid("step", "step %q is not timed", in.Step)
	}
	var d time.Duration
	var flags []checklist.Flag
	switch in.Action {
	case "start":
		if err := rn.run.StartTimer(in.Step, a.opts.Now()); err != nil {
			return invalid("step", "%v", err)
		}
	case "stop":
		if d, flags, err = rn.run.StopTimer(in.Step, a.opts.Now()); err != nil {
			return fail(http.StatusConflict, "timer_not_running", "step", "step: %v", err)
		}
	default:
		return invalid("action", "%q is not start or stop", in.Action)
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{
		"duration_s": d.Seconds(), "observations": observations(rn.run), "flags": flagsOrEmpty(flags),
	})
	return nil
}
