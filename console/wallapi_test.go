package console

import (
	"reflect"
	"testing"

	"github.com/qianliyan/qianliyan/console/wall"
	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

func TestLayoutsAndTours(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	opts := options(t, relay)
	b := start(t, opts)
	v := serve(t, b)

	tours := func() []wall.Tour {
		t.Helper()
		var out struct{ Tours []wall.Tour }
		if code, raw := v.call("GET", "/api/v1/tours", nil, &out); code != 200 {
			t.Fatalf("tours: %d %s", code, raw)
		}
		return out.Tours
	}
	// The built-in tour: each of the demo's three sites has two doffing
	// rooms and a waste point. Its name is words in both languages.
	named := bilingual.New("脱卸间与医废点", "Doffing rooms and waste")
	builtIn := wall.Tour{Name: "doffing-and-waste", Title: named}
	for _, site := range []string{"site-01", "site-02", "site-03"} {
		for _, cam := range []string{"doff1", "doff2", "waste"} {
			builtIn.Steps = append(builtIn.Steps, wall.Step{Camera: site + "/" + cam, DwellS: 15})
		}
	}
	if got := tours(); !reflect.DeepEqual(got, []wall.Tour{builtIn}) {
		t.Fatalf("first tours %+v", got)
	}

	night := wall.Layout{Name: "night-4", Grid: 4, Tiles: []wall.Tile{"site-01/doff1", "", "site-01/doff2"}}
	var saved wall.Layout
	if code, raw := v.call("PUT", "/api/v1/layouts/night-4", night, &saved); code != 200 || !reflect.DeepEqual(saved, night) {
		t.Fatalf("save layout: %d %s", code, raw)
	}
	v.expectError("PUT", "/api/v1/layouts/x", map[string]any{"grid": 16, "tiles": make([]string, 17)}, 400, "bad_request", "tiles")
	rounds := wall.Tour{Name: "rounds", Steps: []wall.Step{{Camera: "site-01/doff2", DwellS: 10}, {Layout: "night-4", DwellS: 30}}}
	if code, raw := v.call("PUT", "/api/v1/tours/rounds", rounds, nil); code != 200 {
		t.Fatalf("save tour: %d %s", code, raw)
	}
	v.expectError("PUT", "/api/v1/tours/bad", wall.Tour{Steps: []wall.Step{{Layout: "day-9", DwellS: 30}}}, 400, "bad_request", "steps[0].layout")
	if got := tours(); !reflect.DeepEqual(got, []wall.Tour{builtIn, rounds}) {
		t.Fatalf("tours %+v", got)
	}

	// A layout a tour shows stays until the tour lets go of it.
	e := v.expectError("DELETE", "/api/v1/layouts/night-4", nil, 409, "layout_in_use", "")
	if e.Message == "" {
		t.Fatal("no message")
	}
	v.expectError("DELETE", "/api/v1/layouts/day-9", nil, 404, "not_found", "")
	v.expectError("DELETE", "/api/v1/tours/nope", nil, 404, "not_found", "")
	if code, _ := v.call("DELETE", "/api/v1/tours/rounds", nil, nil); code != 204 {
		t.Fatalf("delete tour: %d", code)
	}
	if code, _ := v.call("DELETE", "/api/v1/layouts/night-4", nil, nil); code != 204 {
		t.Fatalf("delete layout: %d", code)
	}
	var ls struct{ Layouts []wall.Layout }
	if code, raw := v.call("GET", "/api/v1/layouts", nil, &ls); code != 200 || len(ls.Layouts) != 0 || string(raw) != "{\"layouts\":[]}\n" {
		t.Fatalf("layouts after delete: %s", raw)
	}

	// Saving one of the built-in's name replaces it; deleting it, saved or
	// not, keeps it away for good. Saved, it keeps its words.
	mine := wall.Tour{Name: "doffing-and-waste", Steps: []wall.Step{{Camera: "site-01/doff1", DwellS: 60}}}
	if code, _ := v.call("PUT", "/api/v1/tours/doffing-and-waste", mine, nil); code != 200 {
		t.Fatal("saving over the built-in tour")
	}
	mine.Title = named
	if got := tours(); !reflect.DeepEqual(got, []wall.Tour{mine}) {
		t.Fatalf("tours %+v", got)
	}
	if code, _ := v.call("DELETE", "/api/v1/tours/doffing-and-waste", nil, nil); code != 204 {
		t.Fatal("deleting the built-in tour")
	}
	if got := tours(); len(got) != 0 {
		t.Fatalf("tours after deleting the built-in: %+v", got)
	}

	// Signed out, the wall is closed; signed in again (a new launch), the
	// user's choices are still there.
	if code, _ := v.call("DELETE", "/api/v1/session", nil, nil); code != 204 {
		t.Fatal("sign-out")
	}
	v.expectError("GET", "/api/v1/tours", nil, 401, "signed_out", "")
	v.expectError("PUT", "/api/v1/layouts/night-4", night, 401, "signed_out", "")
	b.Close()
	v = serve(t, start(t, opts))
	if got := tours(); len(got) != 0 {
		t.Fatalf("tours after a restart: %+v", got)
	}
}
