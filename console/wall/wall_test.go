package wall

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/console/relayclient"
)

func TestLayoutValidate(t *testing.T) {
	cases := []struct {
		name   string
		layout Layout
		field  string // "" = valid
	}{
		{"single", Layout{Name: "one", Grid: 1, Tiles: []Tile{"site-01/doff1"}}, ""},
		{"partly empty", Layout{Name: "夜班-4", Grid: 4, Tiles: []Tile{"site-01/doff1", "", "site-02/waste"}}, ""},
		{"no tiles", Layout{Name: "blank", Grid: 25}, ""},
		{"no name", Layout{Grid: 4}, "name"},
		{"blank name", Layout{Name: "  ", Grid: 4}, "name"},
		{"padded name", Layout{Name: " night", Grid: 4}, "name"},
		{"control in name", Layout{Name: "a\nb", Grid: 4}, "name"},
		{"64 characters", Layout{Name: strings.Repeat("隔", 64), Grid: 4}, ""},
		{"65 characters", Layout{Name: strings.Repeat("隔", 65), Grid: 4}, "name"},
		{"grid 0", Layout{Name: "x", Grid: 0}, "grid"},
		{"grid 6", Layout{Name: "x", Grid: 6}, "grid"},
		{"grid 36", Layout{Name: "x", Grid: 36}, "grid"},
		{"too many tiles", Layout{Name: "x", Grid: 1, Tiles: []Tile{"a/b", "c/d"}}, "tiles"},
		{"tile without site", Layout{Name: "x", Grid: 4, Tiles: []Tile{"", "doff1"}}, "tiles[1]"},
		{"tile with path tricks", Layout{Name: "x", Grid: 4, Tiles: []Tile{"../x/y"}}, "tiles[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkField(t, c.layout.Validate(), c.field)
		})
	}
}

func TestTourValidate(t *testing.T) {
	cam := func(c string, d int) Step { return Step{Camera: c, DwellS: d} }
	cases := []struct {
		name  string
		tour  Tour
		field string
	}{
		{"cameras and a layout", Tour{Name: "t", Steps: []Step{cam("site-01/doff1", 15), {Layout: "night-4", DwellS: 30}}}, ""},
		{"shortest and longest", Tour{Name: "t", Steps: []Step{cam("a/b", 3), cam("a/b", 3600)}}, ""},
		{"no name", Tour{Steps: []Step{cam("a/b", 15)}}, "name"},
		{"no steps", Tour{Name: "t"}, "steps"},
		{"too short", Tour{Name: "t", Steps: []Step{cam("a/b", 15), cam("a/b", 2)}}, "steps[1].dwell_s"},
		{"too long", Tour{Name: "t", Steps: []Step{cam("a/b", 3601)}}, "steps[0].dwell_s"},
		{"neither", Tour{Name: "t", Steps: []Step{{DwellS: 15}}}, "steps[0]"},
		{"both", Tour{Name: "t", Steps: []Step{{Camera: "a/b", Layout: "l", DwellS: 15}}}, "steps[0]"},
		{"bad camera", Tour{Name: "t", Steps: []Step{cam("nowhere", 15)}}, "steps[0].camera"},
		{"bad layout name", Tour{Name: "t", Steps: []Step{{Layout: " x", DwellS: 15}}}, "steps[0].layout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkField(t, c.tour.Validate(), c.field)
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *FieldError
	switch {
	case field == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case field != "" && (!errors.As(err, &fe) || fe.Field != field || fe.Message == ""):
		t.Fatalf("got %v, want an error about %s", err, field)
	}
}

func TestTilesJSON(t *testing.T) {
	var l Layout
	if err := json.Unmarshal([]byte(`{"name":"n","grid":4,"tiles":["a/b",null,"c/d"]}`), &l); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Tiles, []Tile{"a/b", "", "c/d"}) {
		t.Fatalf("tiles %q", l.Tiles)
	}
	b, _ := json.Marshal(l)
	if string(b) != `{"name":"n","grid":4,"tiles":["a/b",null,"c/d"]}` {
		t.Fatalf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`{"tiles":[4]}`), &l); err == nil {
		t.Fatal("a number accepted as a tile")
	}
}

func TestDefaultTour(t *testing.T) {
	cam := func(site, id, zone string) relayclient.Camera {
		return relayclient.Camera{Site: site, ID: id, Zone: zone}
	}
	cams := []relayclient.Camera{
		cam("site-02", "gate", "entrance"),
		cam("site-02", "waste", "waste_storage"),
		cam("site-02", "doff1", "doffing_room_1"),
		cam("site-01", "doff2", "doffing_room_2"),
		cam("site-01", "doff1", "doffing_room_1"),
		cam("site-01", "don", "donning_room"),
	}
	got, ok := DefaultTour(cams)
	want := Tour{Name: DefaultTourName, Title: BuiltInTitle(DefaultTourName), Steps: []Step{
		{Camera: "site-01/doff2", DwellS: 15}, {Camera: "site-01/doff1", DwellS: 15},
		{Camera: "site-02/waste", DwellS: 15}, {Camera: "site-02/doff1", DwellS: 15},
	}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, ok := DefaultTour(cams[:1]); ok {
		t.Fatal("a default tour without cameras")
	}
}
