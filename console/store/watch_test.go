package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"
)

// span is an interval as the tests compare them: camera, mode, and
// seconds from the test's start.
type span struct {
	camera, mode string
	from, to     int
}

func spans(t *testing.T, s *Store, t0 time.Time) []span {
	t.Helper()
	ivs, err := s.WatchIntervals(context.Background(), "duty", t0.Add(-time.Hour), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []span
	for _, iv := range ivs {
		out = append(out, span{iv.Site + "/" + iv.Camera, iv.Mode, int(iv.Start.Sub(t0) / time.Second), int(iv.End.Sub(t0) / time.Second)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].from != out[j].from {
			return out[i].from < out[j].from
		}
		return out[i].camera < out[j].camera
	})
	return out
}

func batched(t *testing.T, s *Store) (batches, intervals int) {
	t.Helper()
	if err := s.db.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'watch'`).Scan(&batches); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow(`SELECT count(*) FROM watch_intervals WHERE batch_id != ''`).Scan(&intervals); err != nil {
		t.Fatal(err)
	}
	return batches, intervals
}

// TestWatching: what the view says is on screen becomes intervals: a camera
// leaving the screen or changing mode closes its watch, a repeat changes
// nothing, a long watch is cut, a view silent too long is taken to have
// stopped when it last spoke (across a restart too), a sign-out closes
// everything; intervals are batched for the relay once they waited or a
// watch was cut, and at the end.
func TestWatching(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	set := func(sec int, officer string, vis ...Watching) []OpenWatch {
		t.Helper()
		open, err := s.SetWatching(ctx, WatchUpdate{Officer: officer, Relay: "https://relay", At: t0.Add(time.Duration(sec) * time.Second), Visible: vis})
		if err != nil {
			t.Fatal(err)
		}
		return open
	}
	tile := func(c string) Watching { return Watching{Camera: c, Mode: WatchTile} }
	focus := func(c string) Watching { return Watching{Camera: c, Mode: WatchFocus} }

	set(0, "duty", tile("site-01/doff1"), tile("site-01/doff2"))
	set(5, "duty", tile("site-01/doff1"), tile("site-01/doff2")) // the same again
	set(10, "duty", tile("site-01/doff1"), tile("site-01/doff1"), focus("site-01/waste"))
	if open := set(20, "duty", focus("site-01/doff1"), tile("site-01/doff1"), focus("site-01/waste")); len(open) != 2 || open[0].Mode != WatchFocus || !open[0].Start.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("open after a tile was enlarged: %+v", open)
	}
	want := []span{{"site-01/doff1", "tile", 0, 20}, {"site-01/doff2", "tile", 0, 10}}
	if got := spans(t, s, t0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("intervals %v, want %v", got, want)
	}
	if b, _ := batched(t, s); b != 0 {
		t.Fatalf("%d batches before any interval waited", b)
	}
	// The watch of waste, open since 10 s, is cut at 55 s, doff1's (20 s) not.
	set(35, "duty", focus("site-01/doff1"), focus("site-01/waste"))
	set(55, "duty", focus("site-01/doff1"), focus("site-01/waste"))
	want = append(want, span{"site-01/waste", "focus", 10, 55})
	if got := spans(t, s, t0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a cut: intervals %v, want %v", got, want)
	}
	if b, n := batched(t, s); b != 1 || n != 3 {
		t.Fatalf("after a cut: %d batches of %d intervals, want 1 of 3", b, n)
	}
	e, err := s.Outbox(ctx, 0)
	if err != nil || len(e) != 1 || e[0].Kind != OutboxWatch {
		t.Fatalf("outbox %+v, %v", e, err)
	}
	if b, err := s.WatchBatchOf(ctx, e[0]); err != nil || len(b.Intervals) != 3 || b.Officer != "duty" || b.Relay != "https://relay" {
		t.Fatalf("the batch %+v, %v", b, err)
	}
	if es, err := s.OutboxFor(ctx, "https://other", 0); err != nil || len(es) != 0 {
		t.Fatalf("another relay's outbox has the batch: %+v, %v", es, err)
	}

	// The view falls silent at 60 s and the console restarts: what it
	// showed ends at 60 s, the last time it said so.
	set(60, "duty", focus("site-01/doff1"), focus("site-01/waste"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set(300, "duty", tile("site-02/gate"))
	want = append(want, span{"site-01/doff1", "focus", 20, 60}, span{"site-01/waste", "focus", 55, 60})
	if got := spans(t, s, t0); len(got) != 5 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a silent view: intervals %v, want %v", got, want)
	}
	// Signed out: nothing is on anyone's screen.
	if open := set(310, "", tile("site-02/gate")); len(open) != 0 {
		t.Fatalf("open while signed out: %+v", open)
	}
	set(320, "duty", tile("site-02/gate"))
	if err := s.EndWatching(ctx, t0.Add(330*time.Second)); err != nil {
		t.Fatal(err)
	}
	want = append(want, span{"site-02/gate", "tile", 300, 310}, span{"site-02/gate", "tile", 320, 330})
	if got := spans(t, s, t0); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("at the end: intervals %v, want %v", got, want)
	}
	if b, n := batched(t, s); n != len(want) || b < 2 {
		t.Fatalf("at the end: %d batches of %d intervals, want all %d batched", b, n, len(want))
	}
	if open, err := s.OpenWatches(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open at the end: %+v, %v", open, err)
	}
}

// TestWatchingRefusesAndBatchesAThousand: a camera not named site/camera or
// a mode other than tile or focus changes nothing; 1500 intervals closed at
// once make a batch of 1000 and one of 500.
func TestWatchingRefusesAndBatchesAThousand(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	for _, bad := range []Watching{{Camera: "doff1", Mode: WatchTile}, {Camera: "site-01/doff1", Mode: "peek"}, {Camera: "a/b/c", Mode: WatchTile}} {
		if _, err := s.SetWatching(ctx, WatchUpdate{Officer: "duty", Relay: "r", At: t0, Visible: []Watching{{Camera: "site-01/doff2", Mode: WatchTile}, bad}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if open, _ := s.OpenWatches(ctx); len(open) != 0 {
		t.Fatalf("a refused update opened %+v", open)
	}
	var many []Watching
	for i := range 1500 {
		many = append(many, Watching{Camera: fmt.Sprintf("site-%d/cam", i), Mode: WatchTile})
	}
	if _, err := s.SetWatching(ctx, WatchUpdate{Officer: "duty", Relay: "r", At: t0, Visible: many}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndWatching(ctx, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	es, err := s.Outbox(ctx, 0)
	if err != nil || len(es) != 2 {
		t.Fatalf("outbox %d entries, %v; want 2", len(es), err)
	}
	for i, want := range []int{1000, 500} {
		if b, err := s.WatchBatchOf(ctx, es[i]); err != nil || len(b.Intervals) != want {
			t.Errorf("batch %d: %d intervals, %v; want %d", i, len(b.Intervals), err, want)
		}
	}
}
