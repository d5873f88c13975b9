// Package wall is what a duty officer arranges on the video wall: layouts
// (which camera each tile of a grid shows) and tours (a sequence of cameras
// and layouts, each shown for a while), their rules, and the tour every
// console starts with. It is plain data: the store keeps them, the server
// carries them.
package wall

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Limits of names, tours and dwell times.
const (
	MaxName  = 64 // characters
	MinDwell = 3  // seconds
	MaxDwell = 3600
	MaxSteps = 1000
)

// Grids are the wall sizes: 1×1 to 5×5.
var Grids = []int{1, 4, 9, 16, 25}

// Tile is the camera ("site/camera") a tile shows; "" leaves it empty,
// which JSON spells null.
type Tile string

func (t Tile) MarshalJSON() ([]byte, error) {
	if t == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(t))
}

func (t *Tile) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a tile is \"SITE/CAMERA\" or null")
	}
	*t = Tile(s)
	return nil
}

// Layout is a saved wall.
type Layout struct {
	Name  string `json:"name"`
	Grid  int    `json:"grid"`
	Tiles []Tile `json:"tiles"`
}

// Step is one stop of a tour: a camera in the single view, or a layout.
type Step struct {
	Camera string `json:"camera,omitempty"`
	Layout string `json:"layout,omitempty"`
	DwellS int    `json:"dwell_s"`
}

// Tour is a saved sequence of steps, shown in turn and then from the start.
type Tour struct {
	Name string `json:"name"`
	// Title is a built-in tour's name in each language, for the view to
	// show in the reader's; a tour the officer named has none, and its Name
	// is shown as typed. The console sets it (BuiltInTitle); what a view
	// sends back is ignored.
	Title bilingual.Text `json:"title,omitempty"`
	Steps []Step         `json:"steps"`
}

// FieldError is input that breaks a rule; Field names where, as a JSON path
// ("steps[2].dwell_s").
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// idPattern is a site or camera id as the relay names them.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidCamera reports whether s is "SITE/CAMERA".
func ValidCamera(s string) bool {
	site, cam, ok := strings.Cut(s, "/")
	return ok && idPattern.MatchString(site) && idPattern.MatchString(cam)
}

// CheckName checks a layout or tour name: it is shown and typed by people,
// so any script goes, but not control characters or blank padding.
func CheckName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return fieldErr("name", "a name is required")
	case !utf8.ValidString(name):
		return fieldErr("name", "not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxName:
		return fieldErr("name", "%d characters, at most %d", utf8.RuneCountInString(name), MaxName)
	case strings.TrimSpace(name) != name:
		return fieldErr("name", "%q starts or ends with blanks", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fieldErr("name", "%q contains control characters", name)
	}
	return nil
}

// Validate checks a layout on its own. Cameras are checked for form only:
// cameras come and go on the relay, and the view shows a missing one as
// offline rather than losing the layout.
func (l Layout) Validate() error {
	if err := CheckName(l.Name); err != nil {
		return err
	}
	okGrid := false
	for _, g := range Grids {
		okGrid = okGrid || l.Grid == g
	}
	if !okGrid {
		return fieldErr("grid", "%d is not one of 1, 4, 9, 16, 25", l.Grid)
	}
	if len(l.Tiles) > l.Grid {
		return fieldErr("tiles", "%d tiles for a grid of %d", len(l.Tiles), l.Grid)
	}
	for i, t := range l.Tiles {
		if t != "" && !ValidCamera(string(t)) {
			return fieldErr(fmt.Sprintf("tiles[%d]", i), "%q is not SITE/CAMERA", string(t))
		}
	}
	return nil
}

// Validate checks a tour on its own; that its layouts exist is the store's
// to check, under the same transaction as the save.
func (t Tour) Validate() error {
	if err := CheckName(t.Name); err != nil {
		return err
	}
	if len(t.Steps) == 0 {
		return fieldErr("steps", "a tour needs at least one step")
	}
	if len(t.Steps) > MaxSteps {
		return fieldErr("steps", "%d steps, at most %d", len(t.Steps), MaxSteps)
	}
	for i, s := range t.Steps {
		at := fmt.Sprintf("steps[%d]", i)
		switch {
		case (s.Camera == "") == (s.Layout == ""):
			return fieldErr(at, "a step names either a camera or a layout")
		case s.Camera != "" && !ValidCamera(s.Camera):
			return fieldErr(at+".camera", "%q is not SITE/CAMERA", s.Camera)
		case s.Layout != "" && CheckName(s.Layout) != nil:
			return fieldErr(at+".layout", "%q is not a layout name", s.Layout)
		case s.DwellS < MinDwell || s.DwellS > MaxDwell:
			return fieldErr(at+".dwell_s", "%d s; a step lasts %d to %d s", s.DwellS, MinDwell, MaxDwell)
		}
	}
	return nil
}

// Layouts names the layouts the tour shows, once each.
func (t Tour) Layouts() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range t.Steps {
		if s.Layout != "" && !seen[s.Layout] {
			seen[s.Layout] = true
			out = append(out, s.Layout)
		}
	}
	return out
}

// DefaultTourName is the tour every user has until they delete it.
const DefaultTourName = "doffing-and-waste"

// builtInTitles are the built-in tours' names in words, by Name.
var builtInTitles = map[string]bilingual.Text{
	DefaultTourName: bilingual.New("脱卸间与医废点", "Doffing rooms and waste"),
}

// BuiltInTitle is the built-in tour name's words in each language; nil for
// a name that is not a built-in's. A built-in the officer changed and saved
// keeps its name, and so its words.
func BuiltInTitle(name string) bilingual.Text { return builtInTitles[name] }

// DefaultTourZones are the zones where protective equipment comes off and
// medical waste waits: where lapses spread infection.
var DefaultTourZones = []string{"doffing_room_1", "doffing_room_2", "waste_storage"}

// DefaultTourDwell is each camera's time in the default tour, in seconds.
const DefaultTourDwell = 15

// DefaultTour is every site's doffing-room and waste-point cameras, 15 s
// each, site by site in the order of the sites' ids and, within a site, in
// the relay's order. ok is false when no camera qualifies.
func DefaultTour(cams []relayclient.Camera) (t Tour, ok bool) {
	zones := map[string]bool{}
	for _, z := range DefaultTourZones {
		zones[z] = true
	}
	bySite := map[string][]relayclient.Camera{}
	var sites []string
	for _, c := range cams {
		if !zones[c.Zone] || !ValidCamera(c.Path()) {
			continue
		}
		if _, seen := bySite[c.Site]; !seen {
			sites = append(sites, c.Site)
		}
		bySite[c.Site] = append(bySite[c.Site], c)
	}
	slices.Sort(sites)
	t = Tour{Name: DefaultTourName, Title: BuiltInTitle(DefaultTourName)}
	for _, s := range sites {
		for _, c := range bySite[s] {
			t.Steps = append(t.Steps, Step{Camera: c.Path(), DwellS: DefaultTourDwell})
		}
	}
	return t, len(t.Steps) > 0
}
