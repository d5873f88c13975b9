package checklist

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed templates/*.yaml
var embedded embed.FS

// Library is the set of templates in force: the embedded defaults, overridden
// or extended by the files supervisors drop in a folder. Every version of a
// template is kept, so a finding made under an older one can still be shown.
type Library struct {
	versions map[string]map[int]*Template
	// Problems lists the files that were skipped, each with file:line.
	Problems []Problem
}

// Defaults returns the library of embedded templates.
func Defaults() (*Library, error) {
	lib := &Library{versions: map[string]map[int]*Template{}}
	err := fs.WalkDir(embedded, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := embedded.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading embedded template %s: %w", path, err)
		}
		t, err := Parse("embedded:"+filepath.Base(path), data)
		if err != nil {
			return fmt.Errorf("embedded template is invalid: %w", err)
		}
		return lib.add(t)
	})
	if err != nil {
		return nil, err
	}
	return lib, nil
}

// Load returns the defaults overridden by every *.yaml/*.yml file in dir. A
// file that does not validate is skipped and listed in Problems; the rest of
// the library keeps working. A dir that does not exist is no error: the
// folder is optional.
func Load(dir string) (*Library, error) {
	lib, err := Defaults()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return lib, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return lib, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading template folder: %w", err)
	}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			lib.Problems = append(lib.Problems, Problem{path, 1, err.Error()})
			continue
		}
		t, err := Parse(path, data)
		var invalid *InvalidError
		if errors.As(err, &invalid) {
			lib.Problems = append(lib.Problems, invalid.Problems...)
			continue
		}
		if err := lib.add(t); err != nil {
			lib.Problems = append(lib.Problems, Problem{path, 1, err.Error()})
		}
	}
	return lib, nil
}

// add registers a template version. A supervisor's file may replace an
// embedded version of the same number (a local correction); two files of the
// same id and version are refused.
func (l *Library) add(t *Template) error {
	vs := l.versions[t.ID]
	if vs == nil {
		vs = map[int]*Template{}
		l.versions[t.ID] = vs
	}
	if prev, ok := vs[t.Version]; ok && !strings.HasPrefix(prev.Source, "embedded:") {
		return fmt.Errorf("template %q version %d is already defined in %s", t.ID, t.Version, prev.Source)
	}
	vs[t.Version] = t
	return nil
}

// Latest returns the newest version of every template, sorted by id.
func (l *Library) Latest() []*Template {
	out := make([]*Template, 0, len(l.versions))
	for id := range l.versions {
		t, _ := l.Get(id, 0)
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Get returns a template by id and version; version 0 means the newest.
func (l *Library) Get(id string, version int) (*Template, bool) {
	vs := l.versions[id]
	if version != 0 {
		t, ok := vs[version]
		return t, ok
	}
	var newest *Template
	for _, t := range vs {
		if newest == nil || t.Version > newest.Version {
			newest = t
		}
	}
	return newest, newest != nil
}

// ForZone returns the newest templates that apply to a camera zone.
func (l *Library) ForZone(zone string) []*Template {
	var out []*Template
	for _, t := range l.Latest() {
		if t.AppliesTo(zone) {
			out = append(out, t)
		}
	}
	return out
}
