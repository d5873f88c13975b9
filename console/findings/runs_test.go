package findings_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// relaySession is the console's session as a restarted console has it:
// signed in to the rig's relay again, with its camera list.
type relaySession struct {
	rc *relayclient.Client
}

func (s relaySession) KnownCameras() []relayclient.Camera {
	cams, err := s.rc.Cameras(context.Background())
	if err != nil {
		return nil
	}
	return cams
}

func (s relaySession) Observer(context.Context) (string, string, error) {
	return findingstest.User, s.rc.BaseURL(), nil
}

// restarted is the findings core of a console started again on the rig's
// data: nothing of the first one's memory.
func restarted(t *testing.T, r *findingstest.Rig, now func() time.Time) *findings.Service {
	t.Helper()
	creds := r.Relay.Demo()
	rc := relayclienttest.SignedIn(t, r.Relay.URL(), creds.User, creds.Password)
	return findings.New(findings.Options{Store: r.Store, Console: relaySession{rc}, Now: now,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
}

func marks(obs []findings.Observation) string {
	var out []string
	for _, o := range obs {
		out = append(out, fmt.Sprintf("%s=%s%s%s/%g", o.Step, o.Mark, o.Deviation, o.DeviationText, o.Duration))
	}
	return fmt.Sprint(out)
}

// TestRunSurvivesRestart marks a run, timers and a deviation in words
// included, and goes on with it in a console started again on the same
// data: the open run is listed as it was, takes the next marks with the
// same rules, and ends.
func TestRunSurvivesRestart(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)}
	r := findingstest.New(t, findingstest.Options{Now: clk.Now})
	first := r.Findings
	run, err := first.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-01/doff1"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Officer != findingstest.User || !run.StartedAt.Equal(clk.Now()) || !run.EndedAt.IsZero() {
		t.Fatalf("run as started %+v", run)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Second)
	_, err = first.Timer(ctx, run.ID, findings.TimerAction{Step: "hh-gloves", Action: "start"})
	must(err)
	clk.Advance(12 * time.Second)
	stopped, err := first.Timer(ctx, run.ID, findings.TimerAction{Step: "hh-gloves", Action: "stop"})
	must(err)
	if len(stopped.Flags) != 1 || stopped.Flags[0].Deviation != "short_hand_rub" {
		t.Fatalf("a 12 s hand rub: flags %+v", stopped.Flags)
	}
	clk.Advance(time.Second)
	_, err = first.Mark(ctx, run.ID, findings.Marking{Step: "goggles", Mark: checklist.Deviated, DeviationText: "护目镜外侧被手触碰"})
	must(err)
	_, err = first.Timer(ctx, run.ID, findings.TimerAction{Step: "hh-after-goggles", Action: "start"})
	must(err)
	before, err := first.GetRun(ctx, run.ID)
	must(err)

	second := restarted(t, r, clk.Now)
	open, err := second.ListRuns(ctx, true)
	must(err)
	if len(open) != 1 || open[0].ID != run.ID || marks(open[0].Observations) != marks(before.Observations) ||
		open[0].Template.ID != "ppe-doffing" || !open[0].StartedAt.Equal(run.StartedAt) {
		t.Fatalf("open runs after the restart %+v\nbefore %s", open, marks(before.Observations))
	}
	// The view taking the run up again sees the timer counting since it started.
	if tm := open[0].Timers; len(tm) != 1 || tm[0].Step != "hh-after-goggles" || !tm[0].StartedAt.Equal(clk.Now()) {
		t.Fatalf("running timers after the restart %+v, want hh-after-goggles since %v", tm, clk.Now())
	}
	// The timer started before the restart runs on.
	clk.Advance(20 * time.Second)
	u, err := second.Timer(ctx, run.ID, findings.TimerAction{Step: "hh-after-goggles", Action: "stop"})
	must(err)
	if u.Duration != 20 || len(u.Flags) != 0 {
		t.Fatalf("the timer across the restart: %v s, flags %+v", u.Duration, u.Flags)
	}
	want := "[hh-gloves=done/12 goggles=deviation护目镜外侧被手触碰/0 hh-after-goggles=done/20]"
	if marks(u.Observations) != want {
		t.Fatalf("observations %s\nwant %s", marks(u.Observations), want)
	}
	ended, err := second.EndRun(ctx, run.ID)
	must(err)
	if !ended.EndedAt.Equal(clk.Now()) {
		t.Fatalf("ended %+v", ended)
	}
	_, err = second.Mark(ctx, run.ID, findings.Marking{Step: "coverall", Mark: checklist.Done})
	refusal{fault.Conflict, "run_ended", ""}.check(t, "a mark after the end", err)
	if open, err := second.ListRuns(ctx, true); err != nil || len(open) != 0 {
		t.Fatalf("open runs after the end: %+v %v", open, err)
	}
	all, err := second.ListRuns(ctx, false)
	if err != nil || len(all) != 1 || all[0].EndedAt.IsZero() {
		t.Fatalf("all runs: %+v %v", all, err)
	}
	// Every change is an event, each queued for the relay in order.
	db := r.DB(t)
	if n := findingstest.Count(t, db, `SELECT count(*) FROM run_events WHERE run_id = ?`, run.ID); n != 7 {
		t.Fatalf("%d events, want start, 2 timers, a mark, a timer, a timer's stop, the end", n)
	}
	if n := findingstest.Count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'run' AND finding_id = ?`, run.ID); n != 7 {
		t.Fatalf("%d outbox entries, want 7", n)
	}
}

// TestRunRefusals: each refused change is answered as a fault naming what
// was wrong, and leaves the stored run as it was.
func TestRunRefusals(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)}
	r := findingstest.New(t, findingstest.Options{Now: clk.Now})
	s := r.Findings
	run, err := s.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-01/doff1"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := s.Mark(ctx, run.ID, findings.Marking{Step: "hh-gloves", Mark: checklist.Done}); err != nil {
		t.Fatal(err)
	}
	seq := func() int {
		rec, err := r.Store.Run(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Seq
	}
	was := seq()
	cases := []struct {
		name string
		do   func() error
		want refusal
	}{
		{"no camera", func() error {
			_, err := s.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing"})
			return err
		}, refusal{fault.Invalid, "invalid_field", "camera"}},
		{"unknown camera", func() error {
			_, err := s.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-01/nope"})
			return err
		}, refusal{fault.Invalid, "unknown_camera", "camera"}},
		{"unknown template", func() error {
			_, err := s.CreateRun(ctx, findings.NewRun{TemplateID: "juggling", Camera: "site-01/doff1"})
			return err
		}, refusal{fault.Invalid, "unknown_template", "template_id"}},
		{"unknown run", func() error {
			_, err := s.Mark(ctx, "nope", findings.Marking{Step: "goggles", Mark: checklist.Done})
			return err
		}, refusal{fault.NotFound, "unknown_run", ""}},
		{"a deviation with nothing said", func() error {
			_, err := s.Mark(ctx, run.ID, findings.Marking{Step: "goggles", Mark: checklist.Deviated})
			return err
		}, refusal{fault.Invalid, "invalid_field", "deviation"}},
		{"words with done", func() error {
			_, err := s.Mark(ctx, run.ID, findings.Marking{Step: "goggles", Mark: checklist.Done, DeviationText: "x"})
			return err
		}, refusal{fault.Invalid, "invalid_field", "deviation"}},
		{"an unknown finding", func() error {
			_, err := s.AddFinding(ctx, run.ID, findings.RunFinding{FindingID: "nope"})
			return err
		}, refusal{fault.Invalid, "unknown_finding", "finding_id"}},
		{"an end before the start", func() error {
			clk.Advance(-time.Hour)
			defer clk.Advance(time.Hour)
			_, err := s.EndRun(ctx, run.ID)
			return err
		}, refusal{fault.Unprocessable, "before_start", ""}},
	}
	for _, c := range cases {
		c.want.check(t, c.name, c.do())
		if got := seq(); got != was {
			t.Fatalf("%s: the run went from event %d to %d", c.name, was, got)
		}
	}
	if runs, err := r.Store.Runs(ctx, false, 0); err != nil || len(runs) != 1 {
		t.Fatalf("runs after the refusals: %d, %v", len(runs), err)
	}
	// Out of order at the store: an event dated before the start.
	_, err = r.Store.AddRunEvent(ctx, run.ID, store.RunEvent{Kind: store.RunEnded, At: run.StartedAt.Add(-time.Second)})
	if err == nil {
		t.Fatal("the store took an end before the start")
	}
}
