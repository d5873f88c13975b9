package wire

import "time"

// RunEventKind names what happened in a checklist run.
type RunEventKind string

// The events of a run (docs/PROTOCOLS.md, checklist runs). A run's first
// event is RunStarted and its last RunEnded; nothing follows the end.
const (
	RunStarted      RunEventKind = "started"
	RunMarked       RunEventKind = "marked"
	RunTimerStarted RunEventKind = "timer_started"
	// RunTimerStopped marks its step done with the duration measured.
	RunTimerStopped RunEventKind = "timer_stopped"
	// RunFinding records a finding the run produced.
	RunFinding RunEventKind = "finding"
	RunEnded   RunEventKind = "ended"
)

// The marks a step can get; "" takes a mark back.
const (
	MarkDone      = "done"
	MarkDeviation = "deviation"
	MarkNotSeen   = "not_seen"
)

// RunTemplate is the checklist a run follows, as the console had it: the
// relay checks the run's marks against it, and counts by its activity.
type RunTemplate struct {
	ID       string `json:"id"`
	Version  int    `json:"version"`
	Activity string `json:"activity"`
	// Steps are the step ids in the template's order.
	Steps []string `json:"steps"`
	// Deviations are the ids of the template's catalogue.
	Deviations []string `json:"deviations"`
}

// RunFlag is a deviation the template's rules raised on a step (seen out of
// order, timed too short): the step does not count as done correctly.
type RunFlag struct {
	Step      string `json:"step"`
	Deviation string `json:"deviation"`
}

// RunEvent is one event of a checklist run as a console files it (POST
// /api/v1/runs/{id}/events). Seq numbers a run's events from 1 without
// gaps: the same event again is answered as done, another one under a
// number the relay has is a conflict, and one past the next is refused.
type RunEvent struct {
	Seq  int          `json:"seq"`
	Kind RunEventKind `json:"kind"`
	At   time.Time    `json:"at"`

	// Started: what is observed, where, by whom.
	Template *RunTemplate `json:"template,omitempty"`
	Site     string       `json:"site,omitempty"`
	Camera   string       `json:"camera,omitempty"`
	Officer  string       `json:"officer,omitempty"`

	// Marked and the timers: the step, and for marked what was seen of it.
	Step      string `json:"step,omitempty"`
	Mark      string `json:"mark,omitempty"`
	Deviation string `json:"deviation,omitempty"`
	// DeviationText is a deviation in the officer's own words, with the
	// mark "deviation" and no catalogue Deviation, or besides one.
	DeviationText string `json:"deviation_text,omitempty"`
	// DurationMS is how long a stopped timer ran.
	DurationMS int64     `json:"duration_ms,omitempty"`
	Flags      []RunFlag `json:"flags,omitempty"`

	// Finding: the id of the finding the run produced.
	Finding string `json:"finding,omitempty"`
}

// RunObservation is a step's last mark in a run.
type RunObservation struct {
	Step          string    `json:"step"`
	Mark          string    `json:"mark"`
	Deviation     string    `json:"deviation,omitempty"`
	DeviationText string    `json:"deviation_text,omitempty"`
	At            time.Time `json:"at"`
	DurationMS    int64     `json:"duration_ms,omitempty"`
	// Flagged: a rule of the template raised a deviation on the step.
	Flagged bool `json:"flagged"`
}

// Run is a checklist run as the relay keeps it.
type Run struct {
	ID              string     `json:"id"`
	Site            string     `json:"site"`
	Camera          string     `json:"camera"`
	TemplateID      string     `json:"template_id"`
	TemplateVersion int        `json:"template_version"`
	Activity        string     `json:"activity"`
	Officer         string     `json:"officer"`
	StartedAt       time.Time  `json:"started_at"`
	EndedAt         *time.Time `json:"ended_at,omitempty"`
	// Seq is the number of the last event the relay has.
	Seq          int              `json:"seq"`
	Observations []RunObservation `json:"observations"`
	Findings     []string         `json:"findings"`
	// StepsObserved and StepsCorrect are the run's counts as the checks
	// statistics take them (docs/PROTOCOLS.md).
	StepsObserved int `json:"steps_observed"`
	StepsCorrect  int `json:"steps_correct"`
}

// Runs answers GET /api/v1/runs.
type Runs struct {
	Runs []Run `json:"runs"`
}

// CheckStat counts the completed runs of one site and activity in a period
// (GET /api/v1/stats/checks).
type CheckStat struct {
	// Site is "" in rows over every site (by=activity, by=template).
	Site     string `json:"site"`
	Activity string `json:"activity"`
	// Template is the checklist template's id, in rows by=template.
	Template      string `json:"template,omitempty"`
	Checks        int    `json:"checks"` // 户次: runs completed
	StepsObserved int    `json:"steps_observed"`
	StepsCorrect  int    `json:"steps_correct"`
	Deviations    int    `json:"deviations"`
	// ComplianceRate is StepsCorrect / StepsObserved; null when no step
	// was observed.
	ComplianceRate *float64 `json:"compliance_rate"`
}

// CheckStats answers GET /api/v1/stats/checks: the period [From, To) and
// a row per site and activity with a completed run in it.
type CheckStats struct {
	From  time.Time   `json:"from"`
	To    time.Time   `json:"to"`
	Stats []CheckStat `json:"stats"`
}
