// Package checklist holds the checklists duty staff observe procedures with:
// templates as bilingual YAML data (texts are bilingual.Text) (defaults embedded, supervisors' own files
// beside them), their validation with file:line errors, and the evaluation of
// one observation run (order rules, timed steps). It imports nothing from the
// relay or the console.
package checklist

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Severity grades a deviation.
type Severity string

// The severities, most urgent first.
const (
	Critical Severity = "critical"
	Major    Severity = "major"
	Minor    Severity = "minor"
)

func (s Severity) valid() bool { return s == Critical || s == Major || s == Minor }

// Duration is a time.Duration written in YAML as Go durations ("15s", "48h")
// or whole days ("7d"), the unit rectification deadlines are spoken in.
type Duration time.Duration

// UnmarshalYAML parses the duration and says on which line it went wrong.
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	if err := d.UnmarshalText([]byte(node.Value)); err != nil {
		return fmt.Errorf("line %d: %w", node.Line, err)
	}
	return nil
}

// UnmarshalText parses "15s", "1h30m" or "7d".
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("duration %q: want a whole number of days like \"7d\"", s)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %q: want e.g. \"15s\", \"48h\" or \"7d\"", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes seconds, the unit the view computes with.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(d).Seconds(), 'f', -1, 64)), nil
}

// UnmarshalJSON reads seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v < 0 {
		return fmt.Errorf("duration %s: want seconds, a number from 0 up", b)
	}
	*d = Duration(v * float64(time.Second))
	return nil
}

// MarshalText writes whole days as "Nd", anything else as a Go duration.
func (d Duration) MarshalText() ([]byte, error) {
	v := time.Duration(d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return []byte(fmt.Sprintf("%dd", v/(24*time.Hour))), nil
	}
	return []byte(v.String()), nil
}

// Template is one checklist: the ordered steps of a procedure and the
// deviations an observer can flag against it.
type Template struct {
	ID       string         `yaml:"id" json:"id"`
	Version  int            `yaml:"version" json:"version"`
	Title    bilingual.Text `yaml:"title" json:"title"`
	Activity string         `yaml:"activity" json:"activity"`
	Zones    []string       `yaml:"zones" json:"zones"`
	// OrderDeviation is flagged when a step is observed before a step that
	// must precede it, unless the step names its own.
	OrderDeviation string      `yaml:"order_deviation,omitempty" json:"order_deviation,omitempty"`
	Steps          []Step      `yaml:"steps" json:"steps"`
	Deviations     []Deviation `yaml:"deviations" json:"deviations"`
	// Source is where the template was read from: "embedded:NAME" or a path.
	Source string `yaml:"-" json:"source"`
}

// Step is one observable step of a procedure.
type Step struct {
	ID   string         `yaml:"id" json:"id"`
	Text bilingual.Text `yaml:"text" json:"text"`
	// MinDuration, when set, makes the step timed (a hand rub of at least 15 s).
	MinDuration Duration `yaml:"min_duration,omitempty" json:"min_duration_s,omitempty"`
	// Before lists steps this one must be observed ahead of.
	Before []string `yaml:"before,omitempty" json:"before,omitempty"`
	// OrderDeviation overrides the template's for this step's order rules.
	OrderDeviation string `yaml:"order_deviation,omitempty" json:"order_deviation,omitempty"`
	// ShortDeviation is flagged when a timed step is stopped too early.
	ShortDeviation string `yaml:"short_deviation,omitempty" json:"short_deviation,omitempty"`
	// MissedDeviation is proposed when the step is marked not seen.
	MissedDeviation string `yaml:"missed_deviation,omitempty" json:"missed_deviation,omitempty"`
}

// Deviation is one entry of a template's catalogue.
type Deviation struct {
	ID       string         `yaml:"id" json:"id"`
	Text     bilingual.Text `yaml:"text" json:"text"`
	Severity Severity       `yaml:"severity" json:"severity"`
	// Deadline is the default time the site has to rectify it.
	Deadline Duration `yaml:"deadline" json:"deadline_s"`
}

// Step returns the step with the given id.
func (t *Template) Step(id string) (Step, bool) {
	for _, s := range t.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Deviation returns the catalogue entry with the given id.
func (t *Template) Deviation(id string) (Deviation, bool) {
	for _, d := range t.Deviations {
		if d.ID == id {
			return d, true
		}
	}
	return Deviation{}, false
}

// AppliesTo reports whether the template is meant for cameras in zone.
func (t *Template) AppliesTo(zone string) bool {
	for _, z := range t.Zones {
		if z == zone || z == "*" {
			return true
		}
	}
	return false
}
