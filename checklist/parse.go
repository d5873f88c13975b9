package checklist

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Problem is one thing wrong with a template file, at a line of it.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// InvalidError lists everything wrong with one template file.
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// Parse reads one template and validates it. name is used in problems
// ("file:line: …"); a template that fails validation is returned as nil with
// an *InvalidError.
func Parse(name string, data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &InvalidError{Problems: []Problem{yamlProblem(name, err.Error())}}
	}
	if len(root.Content) == 0 {
		return nil, &InvalidError{Problems: []Problem{{name, 1, "the file is empty"}}}
	}
	var t Template
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			ps := make([]Problem, len(te.Errors))
			for i, e := range te.Errors {
				ps[i] = yamlProblem(name, e)
			}
			return nil, &InvalidError{Problems: ps}
		}
		return nil, &InvalidError{Problems: []Problem{yamlProblem(name, err.Error())}}
	}
	t.Source = name
	v := validator{file: name, doc: root.Content[0]}
	v.check(&t)
	if len(v.problems) > 0 {
		return nil, &InvalidError{Problems: v.problems}
	}
	return &t, nil
}

func yamlProblem(file, msg string) Problem {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return Problem{file, n, strings.Replace(m[2], "not found in type checklist.", "is unknown in ", 1)}
	}
	return Problem{file, 1, strings.TrimPrefix(msg, "yaml: ")}
}

// validator checks a decoded template, locating each problem in the YAML tree.
type validator struct {
	file     string
	doc      *yaml.Node
	problems []Problem
}

func (v *validator) add(line int, format string, args ...any) {
	v.problems = append(v.problems, Problem{v.file, line, fmt.Sprintf(format, args...)})
}

// line finds the line of the node at path (mapping keys and sequence
// indices); where the path ends early it gives the deepest line it reached.
func (v *validator) line(path ...any) int {
	n := v.doc
	for _, p := range path {
		next := child(n, p)
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

func child(n *yaml.Node, p any) *yaml.Node {
	switch key := p.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && key < len(n.Content) {
			return n.Content[key]
		}
	}
	return nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

func (v *validator) check(t *Template) {
	if !idPattern.MatchString(t.ID) {
		v.add(v.line("id"), "id %q: want lower-case letters, digits, '-', '_' or '.'", t.ID)
	}
	if t.Version < 1 {
		v.add(v.line("version"), "version must be a whole number from 1 up")
	}
	v.text(t.Title, "title")
	if t.Activity == "" {
		v.add(v.line("activity"), "activity is missing")
	}
	if len(t.Zones) == 0 {
		v.add(v.line("zones"), "zones is empty: name the camera zones the checklist applies to, or \"*\"")
	}
	if len(t.Steps) == 0 {
		v.add(v.line("steps"), "a template needs at least one step")
	}

	deviations := map[string]bool{}
	for i, d := range t.Deviations {
		at := []any{"deviations", i}
		if !idPattern.MatchString(d.ID) {
			v.add(v.line(append(at, "id")...), "deviation id %q: want lower-case letters, digits, '-', '_' or '.'", d.ID)
		} else if deviations[d.ID] {
			v.add(v.line(append(at, "id")...), "deviation %q appears twice", d.ID)
		}
		deviations[d.ID] = true
		v.text(d.Text, append(at, "text")...)
		if !d.Severity.valid() {
			v.add(v.line(append(at, "severity")...), "deviation %q: severity %q is not one of critical, major, minor", d.ID, d.Severity)
		}
		if d.Deadline <= 0 {
			v.add(v.line(append(at, "deadline")...), "deviation %q: deadline is missing (e.g. \"48h\" or \"7d\")", d.ID)
		}
	}
	needDeviation := func(id string, path ...any) {
		if id != "" && !deviations[id] {
			v.add(v.line(path...), "deviation %q is not in the template's catalogue", id)
		}
	}
	needDeviation(t.OrderDeviation, "order_deviation")

	steps := map[string]bool{}
	for i, s := range t.Steps {
		at := []any{"steps", i}
		if !idPattern.MatchString(s.ID) {
			v.add(v.line(append(at, "id")...), "step id %q: want lower-case letters, digits, '-', '_' or '.'", s.ID)
		} else if steps[s.ID] {
			v.add(v.line(append(at, "id")...), "step %q appears twice", s.ID)
		}
		steps[s.ID] = true
		v.text(s.Text, append(at, "text")...)
		needDeviation(s.OrderDeviation, append(at, "order_deviation")...)
		needDeviation(s.ShortDeviation, append(at, "short_deviation")...)
		needDeviation(s.MissedDeviation, append(at, "missed_deviation")...)
		if s.ShortDeviation != "" && s.MinDuration == 0 {
			v.add(v.line(append(at, "short_deviation")...), "step %q has a short_deviation but no min_duration", s.ID)
		}
		if len(s.Before) > 0 && s.OrderDeviation == "" && t.OrderDeviation == "" {
			v.add(v.line(append(at, "before")...), "step %q has order rules but neither it nor the template names an order_deviation", s.ID)
		}
	}
	for i, s := range t.Steps {
		for j, b := range s.Before {
			switch {
			case !steps[b]:
				v.add(v.line("steps", i, "before", j), "step %q: \"before\" names step %q, which does not exist", s.ID, b)
			case b == s.ID:
				v.add(v.line("steps", i, "before", j), "step %q must come before itself", s.ID)
			}
		}
	}
	if cycle := orderCycle(t.Steps); cycle != "" {
		v.add(v.line("steps"), "the order rules contradict each other: %s", cycle)
	}
}

// text checks that a text is given, non-empty, in every language and in no
// other.
func (v *validator) text(t bilingual.Text, path ...any) {
	if len(t) == 0 {
		v.add(v.line(path...), "%s is missing", describe(path))
		return
	}
	for _, lang := range t.Missing() {
		v.add(v.line(path...), "%s has no %s translation", describe(path), lang)
	}
	for _, lang := range t.Unknown() {
		v.add(v.line(append(path, lang)...), "%s: language %q is not one of %s", describe(path), lang, strings.Join(bilingual.Languages, ", "))
	}
}

func describe(path []any) string {
	parts := make([]string, len(path))
	for i, p := range path {
		if n, ok := p.(int); ok {
			parts[i] = fmt.Sprintf("[%d]", n+1)
		} else {
			parts[i] = fmt.Sprint(p)
		}
	}
	return strings.Replace(strings.Join(parts, "."), ".[", "[", -1)
}

// orderCycle returns a description of a cycle in the "before" rules, or "".
func orderCycle(steps []Step) string {
	before := map[string][]string{}
	for _, s := range steps {
		before[s.ID] = s.Before
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(id string) string
	visit = func(id string) string {
		switch state[id] {
		case onPath:
			return strings.Join(append(path, id), " → ")
		case done:
			return ""
		}
		state[id] = onPath
		path = append(path, id)
		for _, next := range before[id] {
			if c := visit(next); c != "" {
				return c
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		return ""
	}
	for _, s := range steps {
		if c := visit(s.ID); c != "" {
			return c
		}
	}
	return ""
}
