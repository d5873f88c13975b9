package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/qianliyan/qianliyan/console/wall"
)

func TestSettingsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	if _, ok, err := s.Setting(ctx, "relay"); ok || err != nil {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	for _, v := range []string{"http://127.0.0.1:8080", "http://127.0.0.1:9090"} {
		if err := s.SetSetting(ctx, "relay", v); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(t, dir)
	if v, ok, err := s.Setting(ctx, "relay"); !ok || err != nil || v != "http://127.0.0.1:9090" {
		t.Fatalf("after reopen: %q %v %v", v, ok, err)
	}
}

func TestLayoutsPerUser(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	night := wall.Layout{Name: "night-4", Grid: 4, Tiles: []wall.Tile{"site-01/doff1", "", "site-02/doff1", "site-03/waste"}}
	for _, l := range []wall.Layout{night, {Name: "all", Grid: 25}} {
		if err := s.PutLayout(ctx, "duty", l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutLayout(ctx, "other", wall.Layout{Name: "theirs", Grid: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Layouts(ctx, "duty")
	if err != nil {
		t.Fatal(err)
	}
	want := []wall.Layout{{Name: "all", Grid: 25, Tiles: []wall.Tile{}}, night}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("layouts %+v, want %+v", got, want)
	}
	// Saving again replaces.
	night.Grid, night.Tiles = 1, []wall.Tile{"site-09/gate"}
	if err := s.PutLayout(ctx, "duty", night); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Layouts(ctx, "duty"); !reflect.DeepEqual(got[1], night) {
		t.Fatalf("replaced layout %+v", got[1])
	}
	var fe *wall.FieldError
	if err := s.PutLayout(ctx, "duty", wall.Layout{Name: "x", Grid: 3}); !errors.As(err, &fe) || fe.Field != "grid" {
		t.Fatalf("bad grid: %v", err)
	}
	if err := s.DeleteLayout(ctx, "duty", "theirs"); !errors.Is(err, ErrNoLayout) {
		t.Fatalf("deleting another user's layout: %v", err)
	}
	if err := s.DeleteLayout(ctx, "duty", "all"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Layouts(ctx, "duty"); len(got) != 1 {
		t.Fatalf("after delete: %+v", got)
	}
}

func TestToursAndTheirLayouts(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	tour := wall.Tour{Name: "rounds", Steps: []wall.Step{
		{Camera: "site-01/doff1", DwellS: 15}, {Layout: "night-4", DwellS: 30},
	}}
	var fe *wall.FieldError
	if err := s.PutTour(ctx, "duty", tour); !errors.As(err, &fe) || fe.Field != "steps[1].layout" {
		t.Fatalf("tour of a missing layout: %v", err)
	}
	if err := s.PutLayout(ctx, "other", wall.Layout{Name: "night-4", Grid: 4}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTour(ctx, "duty", tour); !errors.As(err, &fe) {
		t.Fatalf("tour of another user's layout: %v", err)
	}
	if err := s.PutLayout(ctx, "duty", wall.Layout{Name: "night-4", Grid: 4}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTour(ctx, "duty", tour); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTour(ctx, "duty", wall.Tour{Name: "bad", Steps: []wall.Step{{Camera: "a/b", DwellS: 1}}}); !errors.As(err, &fe) || fe.Field != "steps[0].dwell_s" {
		t.Fatalf("short dwell: %v", err)
	}
	got, err := s.Tours(ctx, "duty")
	if err != nil || !reflect.DeepEqual(got, []wall.Tour{tour}) {
		t.Fatalf("tours %+v %v", got, err)
	}

	// The layout cannot go while the tour shows it.
	var inUse *LayoutInUseError
	if err := s.DeleteLayout(ctx, "duty", "night-4"); !errors.As(err, &inUse) || !reflect.DeepEqual(inUse.Tours, []string{"rounds"}) {
		t.Fatalf("deleting a layout in use: %v", err)
	}
	// Replacing the tour's steps frees it.
	tour.Steps = tour.Steps[:1]
	if err := s.PutTour(ctx, "duty", tour); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLayout(ctx, "duty", "night-4"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTour(ctx, "duty", "rounds", false); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTour(ctx, "duty", "rounds", false); !errors.Is(err, ErrNoTour) {
		t.Fatalf("second delete: %v", err)
	}
	if got, _ := s.Tours(ctx, "duty"); len(got) != 0 {
		t.Fatalf("tours after delete: %+v", got)
	}
}

func TestDismissedBuiltInTour(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	name := wall.DefaultTourName
	check := func(want bool) {
		t.Helper()
		if got, err := s.TourDismissed(ctx, "duty", name); err != nil || got != want {
			t.Fatalf("dismissed %v %v, want %v", got, err, want)
		}
	}
	check(false)
	// Never saved: deleting it still records it.
	if err := s.DeleteTour(ctx, "duty", name, true); err != nil {
		t.Fatal(err)
	}
	check(true)
	if ok, _ := s.TourDismissed(ctx, "other", name); ok {
		t.Fatal("dismissed for another user")
	}
	// Saving one of that name brings it back, as saved.
	if err := s.PutTour(ctx, "duty", wall.Tour{Name: name, Steps: []wall.Step{{Camera: "a/b", DwellS: 5}}}); err != nil {
		t.Fatal(err)
	}
	check(false)
	if err := s.DeleteTour(ctx, "duty", name, true); err != nil {
		t.Fatal(err)
	}
	check(true)
	if got, _ := s.Tours(ctx, "duty"); len(got) != 0 {
		t.Fatalf("tours %+v", got)
	}
}
