package runs

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

var (
	duty    = auth.Principal{Name: "duty", Role: auth.RoleDuty}
	manager = auth.Principal{Name: "manager-01", Role: auth.RoleSiteManager, Sites: []string{"site-01"}}
	t0      = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
)

func open(t *testing.T) *Store {
	t.Helper()
	db, err := store.OpenDatabase(context.Background(), filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return New(db)
}

var doffing = &wire.RunTemplate{ID: "ppe-doffing", Version: 1, Activity: "doffing",
	Steps: []string{"s1", "s2", "s3", "s4", "s5"}, Deviations: []string{"wrong_order", "too_short"}}

func start(site string) wire.RunEvent {
	return wire.RunEvent{Seq: 1, Kind: wire.RunStarted, At: t0, Template: doffing, Site: site, Camera: "doff1", Officer: "duty"}
}

// events is a run of the doffing template: the steps marked as marks
// says (one letter a step: d done, x deviation, n not seen, f done but
// flagged out of order, - unmarked), then ended at t0 + minutes.
func events(site, marks string, minutes int) []wire.RunEvent {
	evs := []wire.RunEvent{start(site)}
	for i, m := range marks {
		ev := wire.RunEvent{Kind: wire.RunMarked, At: t0.Add(time.Duration(i+1) * time.Second), Step: doffing.Steps[i]}
		switch m {
		case 'd':
			ev.Mark = wire.MarkDone
		case 'f':
			ev.Mark = wire.MarkDone
			ev.Flags = []wire.RunFlag{{Step: ev.Step, Deviation: "wrong_order"}}
		case 'x':
			ev.Mark, ev.Deviation = wire.MarkDeviation, "wrong_order"
		case 'n':
			ev.Mark = wire.MarkNotSeen
		case '-':
			continue
		}
		evs = append(evs, ev)
	}
	evs = append(evs, wire.RunEvent{Kind: wire.RunEnded, At: t0.Add(time.Duration(minutes) * time.Minute)})
	for i := range evs {
		evs[i].Seq = i + 1
	}
	return evs
}

func file(t *testing.T, s *Store, id string, evs []wire.RunEvent) wire.Run {
	t.Helper()
	var run wire.Run
	for _, ev := range evs {
		r, created, err := s.File(context.Background(), duty, id, ev)
		if err != nil || !created {
			t.Fatalf("event %d (%s) of %s: created %v, %v", ev.Seq, ev.Kind, id, created, err)
		}
		run = r
	}
	return run
}

// TestReplayIsHarmless files a run, then every event of it again, as a
// console's outbox does after a crash between the relay's answer and its
// record of it: nothing changes and each is answered as done.
func TestReplayIsHarmless(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	evs := events("site-01", "dxnfd", 10)
	want := file(t, s, "run-1", evs)
	if want.Seq != len(evs) || want.EndedAt == nil || want.StepsObserved != 4 || want.StepsCorrect != 2 {
		t.Fatalf("run as filed: %+v", want)
	}
	for _, ev := range evs {
		got, created, err := s.File(ctx, duty, "run-1", ev)
		if err != nil || created {
			t.Fatalf("replay of %d: created %v, %v", ev.Seq, created, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after the replay of %d:\n%+v\nwant\n%+v", ev.Seq, got, want)
		}
	}
	// The same number with something else is not a replay.
	other := evs[2]
	other.Mark = wire.MarkDone
	if _, _, err := s.File(ctx, duty, "run-1", other); fault.As(err) == nil || fault.As(err).Code != "conflict" {
		t.Fatalf("another event 3: %v, want conflict", err)
	}
	list, err := s.List(ctx, duty, Filter{})
	if err != nil || len(list) != 1 || len(list[0].Observations) != 5 {
		t.Fatalf("list %+v, %v", list, err)
	}
}

// TestComplianceByTable counts the checks of several runs of two sites
// and sets them against the definition: a step observed is done or a
// deviation, one correct is done and not flagged.
func TestComplianceByTable(t *testing.T) {
	s := open(t)
	runs := []struct {
		site, marks string
		minutes     int
	}{
		{"site-01", "ddddd", 10}, // 5 observed, 5 correct
		{"site-01", "dxnd-", 20}, // 3 observed, 2 correct
		{"site-01", "fdddn", 30}, // 4 observed, 3 correct
		{"site-02", "nnnnn", 10}, // none observed
		{"site-01", "ddddd", 90}, // ends after the period
	}
	for i, r := range runs {
		file(t, s, fmt.Sprintf("run-%d", i), events(r.site, r.marks, r.minutes))
	}
	// One going on: not a check yet.
	file(t, s, "open", events("site-01", "ddddd", 0)[:4])

	rate := func(v float64) *float64 { return &v }
	cases := []struct {
		name string
		per  Period
		want []wire.CheckStat
	}{
		{"the hour", Period{From: t0, To: t0.Add(time.Hour)}, []wire.CheckStat{
			{Site: "site-01", Activity: "doffing", Checks: 3, StepsObserved: 12, StepsCorrect: 10, Deviations: 2, ComplianceRate: rate(10.0 / 12)},
			{Site: "site-02", Activity: "doffing", Checks: 1},
		}},
		{"one site", Period{Site: "site-02", From: t0, To: t0.Add(2 * time.Hour)}, []wire.CheckStat{
			{Site: "site-02", Activity: "doffing", Checks: 1},
		}},
		{"two hours", Period{Site: "site-01", From: t0, To: t0.Add(2 * time.Hour)}, []wire.CheckStat{
			{Site: "site-01", Activity: "doffing", Checks: 4, StepsObserved: 17, StepsCorrect: 15, Deviations: 2, ComplianceRate: rate(15.0 / 17)},
		}},
		{"another activity", Period{Activity: "disinfection", From: t0, To: t0.Add(2 * time.Hour)}, []wire.CheckStat{}},
		{"before", Period{From: t0.Add(-time.Hour), To: t0}, []wire.CheckStat{}},
		// The dashboard's checks by activity and by template, over every site.
		{"by activity", Period{From: t0, To: t0.Add(time.Hour), By: ByActivity}, []wire.CheckStat{
			{Activity: "doffing", Checks: 4, StepsObserved: 12, StepsCorrect: 10, Deviations: 2, ComplianceRate: rate(10.0 / 12)},
		}},
		{"by template", Period{From: t0, To: t0.Add(2 * time.Hour), By: ByTemplate}, []wire.CheckStat{
			{Activity: "doffing", Template: doffing.ID, Checks: 5, StepsObserved: 17, StepsCorrect: 15, Deviations: 2, ComplianceRate: rate(15.0 / 17)},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Checks(context.Background(), duty, c.per)
			if err != nil {
				t.Fatal(err)
			}
			if show(got.Stats) != show(c.want) {
				t.Fatalf("got  %s\nwant %s", show(got.Stats), show(c.want))
			}
		})
	}
	if _, err := s.Checks(context.Background(), manager, Period{From: t0, To: t0.Add(time.Hour)}); fault.KindOf(err) != fault.Forbidden {
		t.Fatalf("a site manager's statistics: %v", err)
	}
	if _, err := s.Checks(context.Background(), duty, Period{From: t0, To: t0.Add(time.Hour), By: "camera"}); fault.As(err) == nil || fault.As(err).Field != "by" {
		t.Fatalf("checks by camera: %v, want invalid_field by", err)
	}
}

func show(cs []wire.CheckStat) string {
	out := ""
	for _, c := range cs {
		r := "null"
		if c.ComplianceRate != nil {
			r = fmt.Sprintf("%.6f", *c.ComplianceRate)
		}
		out += fmt.Sprintf("{%s %s %s checks %d observed %d correct %d deviations %d rate %s} ",
			c.Site, c.Activity, c.Template, c.Checks, c.StepsObserved, c.StepsCorrect, c.Deviations, r)
	}
	return out
}

// TestBadEventsChangeNothing: each refusal is the fault named, and the run
// is as it was.
func TestBadEventsChangeNothing(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	before := file(t, s, "run-1", events("site-01", "dd", 0)[:3])
	mark := func(seq int, step string, at time.Time) wire.RunEvent {
		return wire.RunEvent{Seq: seq, Kind: wire.RunMarked, At: at, Step: step, Mark: wire.MarkDone}
	}
	noTemplate := start("site-01")
	noTemplate.Template = nil
	noSteps := start("site-01")
	noSteps.Template = &wire.RunTemplate{ID: "x", Version: 1}
	cases := []struct {
		name string
		id   string
		by   auth.Principal
		ev   wire.RunEvent
		code string
	}{
		{"a step skipped ahead", "run-1", duty, mark(5, "s3", t0.Add(time.Minute)), "out_of_order"},
		{"a run's first event not its start", "run-2", duty, mark(1, "s1", t0), "out_of_order"},
		{"a second start", "run-1", duty, func() wire.RunEvent { e := start("site-01"); e.Seq = 4; return e }(), "out_of_order"},
		{"an end before the start", "run-1", duty, wire.RunEvent{Seq: 4, Kind: wire.RunEnded, At: t0.Add(-time.Second)}, "before_start"},
		{"an unknown step", "run-1", duty, mark(4, "s9", t0.Add(time.Minute)), "invalid_field"},
		{"an unknown deviation", "run-1", duty, wire.RunEvent{Seq: 4, Kind: wire.RunMarked, At: t0.Add(time.Minute), Step: "s3",
			Mark: wire.MarkDeviation, Deviation: "no_such"}, "invalid_field"},
		{"a deviation with nothing said", "run-1", duty, wire.RunEvent{Seq: 4, Kind: wire.RunMarked, At: t0.Add(time.Minute), Step: "s3",
			Mark: wire.MarkDeviation}, "invalid_field"},
		{"an unknown mark", "run-1", duty, wire.RunEvent{Seq: 4, Kind: wire.RunMarked, At: t0.Add(time.Minute), Step: "s3", Mark: "maybe"}, "invalid_field"},
		{"no template", "run-3", duty, noTemplate, "unknown_template"},
		{"a template without steps", "run-3", duty, noSteps, "unknown_template"},
		{"no camera", "run-3", duty, func() wire.RunEvent { e := start(""); return e }(), "unknown_camera"},
		{"a site manager filing", "run-3", manager, start("site-01"), "forbidden"},
		{"an unknown kind", "run-1", duty, wire.RunEvent{Seq: 4, Kind: "paused", At: t0.Add(time.Minute)}, "invalid_field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := s.File(ctx, c.by, c.id, c.ev)
			if f := fault.As(err); f == nil || f.Code != c.code {
				t.Fatalf("%v, want %s", err, c.code)
			}
		})
	}
	after, err := s.Get(ctx, duty, "run-1")
	if err != nil || fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("after the refusals %+v (%v), before %+v", after, err, before)
	}
	if list, err := s.List(ctx, duty, Filter{}); err != nil || len(list) != 1 {
		t.Fatalf("runs after the refusals: %d, %v", len(list), err)
	}
	// Ended, it takes nothing more.
	file(t, s, "run-1", []wire.RunEvent{{Seq: 4, Kind: wire.RunEnded, At: t0.Add(time.Minute)}})
	if _, _, err := s.File(ctx, duty, "run-1", mark(5, "s3", t0.Add(2*time.Minute))); fault.As(err) == nil || fault.As(err).Code != "run_ended" {
		t.Fatalf("a mark after the end: %v", err)
	}
}
