package checklist

import (
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Mark is what the observer saw of a step.
type Mark string

// The marks a step can get.
const (
	Done     Mark = "done"
	Deviated Mark = "deviation"
	NotSeen  Mark = "not_seen"
	Unmarked Mark = ""
)

// Observation is the state of one step in a run.
type Observation struct {
	Step      string        `json:"step"`
	Mark      Mark          `json:"mark"`
	Deviation string        `json:"deviation,omitempty"`
	At        time.Time     `json:"at"`
	Duration  time.Duration `json:"duration,omitempty"`
}

// Flag is a deviation the run raises by itself: a step seen out of order, or
// a timed step stopped short. The console turns each into a proposed finding.
type Flag struct {
	Step      string         `json:"step"`
	Deviation string         `json:"deviation"`
	Reason    bilingual.Text `json:"reason"`
}

// Run is one observation of a procedure against a template: a duty officer
// watching one person doff, say. It is not safe for concurrent use.
type Run struct {
	t       *Template
	obs     map[string]Observation
	timers  map[string]time.Time
	flagged map[string]bool
}

// NewRun starts observing with t.
func NewRun(t *Template) *Run {
	return &Run{t: t, obs: map[string]Observation{}, timers: map[string]time.Time{}, flagged: map[string]bool{}}
}

// Template returns the template the run observes against.
func (r *Run) Template() *Template { return r.t }

// Observations returns the marked steps in template order.
func (r *Run) Observations() []Observation {
	var out []Observation
	for _, s := range r.t.Steps {
		if o, ok := r.obs[s.ID]; ok {
			out = append(out, o)
		}
	}
	return out
}

// Mark records what was seen of a step at time at, and returns the flags the
// order rules raise. deviation names the catalogue entry for a Deviated mark.
func (r *Run) Mark(step string, mark Mark, deviation string, at time.Time) ([]Flag, error) {
	s, ok := r.t.Step(step)
	if !ok {
		return nil, fmt.Errorf("template %s has no step %q", r.t.ID, step)
	}
	switch mark {
	case Done, NotSeen, Unmarked:
		if deviation != "" {
			return nil, fmt.Errorf("step %q: a deviation goes with the mark %q only", step, Deviated)
		}
	case Deviated:
		if _, ok := r.t.Deviation(deviation); !ok {
			return nil, fmt.Errorf("template %s has no deviation %q", r.t.ID, deviation)
		}
	default:
		return nil, fmt.Errorf("mark %q is not one of done, deviation, not_seen", mark)
	}
	if mark == Unmarked {
		delete(r.obs, step)
		return nil, nil
	}
	prev := r.obs[step]
	r.obs[step] = Observation{Step: step, Mark: mark, Deviation: deviation, At: at, Duration: prev.Duration}
	if mark == NotSeen {
		return nil, nil
	}
	return r.orderFlags(s), nil
}

// orderFlags finds the steps that must come before s but have not been seen:
// s was observed out of order.
func (r *Run) orderFlags(s Step) []Flag {
	var flags []Flag
	for _, p := range r.t.Steps {
		if !contains(p.Before, s.ID) {
			continue
		}
		if o, seen := r.obs[p.ID]; seen && o.Mark != NotSeen {
			continue
		}
		key := p.ID + ">" + s.ID
		if r.flagged[key] {
			continue
		}
		r.flagged[key] = true
		dev := p.OrderDeviation
		if dev == "" {
			dev = r.t.OrderDeviation
		}
		flags = append(flags, Flag{Step: s.ID, Deviation: dev, Reason: explain(outOfOrder, func(lang string) []any {
			return []any{p.Text.In(lang), s.Text.In(lang)}
		})})
	}
	return flags
}

// StartTimer starts timing a step (the officer sees the hand rub begin).
func (r *Run) StartTimer(step string, at time.Time) error {
	s, ok := r.t.Step(step)
	if !ok {
		return fmt.Errorf("template %s has no step %q", r.t.ID, step)
	}
	if s.MinDuration == 0 {
		return fmt.Errorf("step %q is not timed", step)
	}
	r.timers[step] = at
	return nil
}

// Running returns the steps whose timer runs, with when each started: a
// run taken up again (a reload, a restart) shows them still counting.
func (r *Run) Running() map[string]time.Time {
	out := make(map[string]time.Time, len(r.timers))
	for step, at := range r.timers {
		out[step] = at
	}
	return out
}

// StopTimer stops timing a step, marks it done with the measured duration and
// returns the flags raised: order rules, and a short duration.
func (r *Run) StopTimer(step string, at time.Time) (time.Duration, []Flag, error) {
	started, ok := r.timers[step]
	if !ok {
		return 0, nil, fmt.Errorf("step %q has no running timer", step)
	}
	delete(r.timers, step)
	s, _ := r.t.Step(step)
	d := at.Sub(started)
	flags, err := r.Mark(step, Done, "", at)
	if err != nil {
		return 0, nil, err
	}
	o := r.obs[step]
	o.Duration = d
	r.obs[step] = o
	if d < time.Duration(s.MinDuration) && s.ShortDeviation != "" {
		flags = append(flags, Flag{Step: step, Deviation: s.ShortDeviation, Reason: explain(tooShort, func(lang string) []any {
			return []any{s.Text.In(lang), d.Seconds(), time.Duration(s.MinDuration).Seconds()}
		})})
	}
	return d, flags, nil
}

// The reasons a flag is raised for, formatted with the steps' texts in each
// language.
var (
	outOfOrder = bilingual.New("「%s」应在「%s」之前", "%q must come before %q")
	tooShort   = bilingual.New("「%s」用时 %.1f 秒，少于 %.0f 秒", "%q took %.1f s, under %.0f s")
)

// explain formats a reason in each language with that language's arguments.
func explain(reason bilingual.Text, args func(lang string) []any) bilingual.Text {
	out := make(bilingual.Text, len(bilingual.Languages))
	for _, lang := range bilingual.Languages {
		out[lang] = fmt.Sprintf(reason[lang], args(lang)...)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
