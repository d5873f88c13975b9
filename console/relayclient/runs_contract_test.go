package relayclient

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestContractRuns: a checklist run's events filed, a replay answered as
// done, the run read back and listed, the checks statistics, and the
// relay's refusals as Errors with their status, code and permanence.
func TestContractRuns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	duty := signIn(t, r.URL(), creds.User, creds.Password)
	mgr := signIn(t, r.URL(), creds.Managers[0], creds.ManagerPassword)
	cams, err := duty.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cam := cams[0]
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	tpl := &wire.RunTemplate{ID: "ppe-doffing", Version: 1, Activity: "doffing", Steps: []string{"gloves", "gown", "goggles"},
		Deviations: []string{"wrong_order"}}
	evs := []wire.RunEvent{
		{Seq: 1, Kind: wire.RunStarted, At: at, Template: tpl, Site: cam.Site, Camera: cam.ID, Officer: creds.User},
		{Seq: 2, Kind: wire.RunMarked, At: at.Add(time.Second), Step: "gloves", Mark: wire.MarkDone},
		{Seq: 3, Kind: wire.RunTimerStarted, At: at.Add(2 * time.Second), Step: "gown"},
		{Seq: 4, Kind: wire.RunTimerStopped, At: at.Add(9 * time.Second), Step: "gown", DurationMS: 7000},
		{Seq: 5, Kind: wire.RunMarked, At: at.Add(10 * time.Second), Step: "goggles", Mark: wire.MarkDeviation, DeviationText: "护目镜未摘"},
		{Seq: 6, Kind: wire.RunFinding, At: at.Add(11 * time.Second), Finding: "finding-1"},
		{Seq: 7, Kind: wire.RunEnded, At: at.Add(time.Minute)},
	}
	for _, ev := range evs {
		if _, created, err := duty.FileRunEvent(ctx, "contract-run", ev); err != nil || !created {
			t.Fatalf("event %d: created %v, %v", ev.Seq, created, err)
		}
	}
	run, created, err := duty.FileRunEvent(ctx, "contract-run", evs[3])
	if err != nil || created {
		t.Fatalf("replay: created %v, %v", created, err)
	}
	if run.Seq != 7 || run.EndedAt == nil || run.StepsObserved != 3 || run.StepsCorrect != 2 || len(run.Findings) != 1 ||
		len(run.Observations) != 3 || run.Observations[1].DurationMS != 7000 || run.Observations[2].DeviationText != "护目镜未摘" {
		t.Fatalf("run %+v", run)
	}
	if got, err := duty.Run(ctx, "contract-run"); err != nil || got.Seq != 7 {
		t.Fatalf("run read back: %+v, %v", got, err)
	}
	if list, err := duty.Runs(ctx, RunsQuery{Site: cam.Site, Activity: "doffing"}); err != nil || len(list) != 1 || list[0].ID != "contract-run" {
		t.Fatalf("runs %+v, %v", list, err)
	}
	stats, err := duty.CheckStats(ctx, cam.Site, "", at, at.Add(time.Hour))
	if err != nil || len(stats.Stats) != 1 || stats.Stats[0].Checks != 1 || stats.Stats[0].ComplianceRate == nil ||
		*stats.Stats[0].ComplianceRate != 2.0/3 {
		t.Fatalf("stats %+v, %v", stats, err)
	}

	unknownCamera := evs[0]
	unknownCamera.Camera = "no-such-camera"
	noTemplate := evs[0]
	noTemplate.Template = nil
	other := evs[1]
	other.Mark = wire.MarkNotSeen
	cases := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"unknown camera", func() error { _, _, err := duty.FileRunEvent(ctx, "contract-2", unknownCamera); return err },
			http.StatusUnprocessableEntity, "unknown_camera"},
		{"no template", func() error { _, _, err := duty.FileRunEvent(ctx, "contract-2", noTemplate); return err },
			http.StatusUnprocessableEntity, "unknown_template"},
		{"a mark before the start", func() error { _, _, err := duty.FileRunEvent(ctx, "contract-2", evs[1]); return err },
			http.StatusConflict, "out_of_order"},
		{"same number, other event", func() error { _, _, err := duty.FileRunEvent(ctx, "contract-run", other); return err },
			http.StatusConflict, "conflict"},
		{"an event after the end", func() error {
			_, _, err := duty.FileRunEvent(ctx, "contract-run", wire.RunEvent{Seq: 8, Kind: wire.RunEnded, At: at.Add(2 * time.Minute)})
			return err
		}, http.StatusConflict, "run_ended"},
		{"a site manager filing", func() error { _, _, err := mgr.FileRunEvent(ctx, "contract-3", evs[0]); return err },
			http.StatusForbidden, "forbidden"},
		{"a site manager's statistics", func() error { _, err := mgr.CheckStats(ctx, "", "", at, at.Add(time.Hour)); return err },
			http.StatusForbidden, "forbidden"},
		{"statistics without a period", func() error { _, err := duty.CheckStats(ctx, "", "", time.Time{}, time.Time{}); return err },
			http.StatusBadRequest, "invalid_field"},
		{"unknown run", func() error { _, err := duty.Run(ctx, "no-such-run"); return err },
			http.StatusNotFound, "unknown_run"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var rerr *Error
			if !errors.As(err, &rerr) {
				t.Fatalf("%v, want the relay's %d %s", err, c.status, c.code)
			}
			if rerr.Status != c.status || rerr.Code != c.code || rerr.Message == "" {
				t.Fatalf("%d %s %q, want %d %s with a message", rerr.Status, rerr.Code, rerr.Message, c.status, c.code)
			}
			if !Permanent(err) {
				t.Fatalf("%v is not permanent: the forwarder would send it for ever", err)
			}
		})
	}
	if list, err := duty.Runs(ctx, RunsQuery{}); err != nil || len(list) != 1 {
		t.Fatalf("after the refusals: %d runs, %v", len(list), err)
	}
}
