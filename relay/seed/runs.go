package seed

import (
	"context"
	"encoding/json"
	"time"

	"github.com/qianliyan/qianliyan/relay/wire"
)

// runLink is the checklist run a finding came from: its template and the
// step the deviation was marked on.
type runLink struct {
	tp   *template
	step string
}

// linkedRun writes the run finding r was filed from: started a few minutes
// before the finding was observed, every step marked done but the
// finding's, marked with its deviation, the finding linked, then ended.
func (f *filler) linkedRun(ctx context.Context, r findingRow, l *runLink) error {
	started := f.between(r.observed, -5*time.Minute, -time.Minute)
	return f.run(ctx, r.site, r.camera, r.observer, l.tp, started, map[string]findingRow{l.step: r})
}

// compliantRuns are the checks (户次) that found nothing to flag: one for
// every eight findings, spread over the period like them.
func (f *filler) compliantRuns(ctx context.Context) error {
	n := f.o.Findings / 8
	span := time.Duration(f.o.Days) * 24 * time.Hour
	start := f.o.Now.Add(-span)
	for i := range n {
		if i%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		s := f.pickSite()
		cam := cameras[f.rng.IntN(len(cameras))]
		tps := f.zones[cam.zone]
		if len(tps) == 0 {
			continue
		}
		at := start.Add(time.Duration((float64(i) + f.rng.Float64()) / float64(n) * float64(span))).Truncate(time.Millisecond)
		if err := f.run(ctx, s.id, cam.id, f.officer(at), tps[f.rng.IntN(len(tps))], at, nil); err != nil {
			return err
		}
	}
	return nil
}

// run writes one run's events as a console files them, and the rows
// relay/runs keeps from them (runs, run_steps, run_findings). found are
// the findings the run produced by the step they were marked on.
func (f *filler) run(ctx context.Context, site, camera, officer string, tp *template, started time.Time, found map[string]findingRow) error {
	id := "run-" + f.id(started)
	var evs []wire.RunEvent
	add := func(e wire.RunEvent) { e.Seq = len(evs) + 1; evs = append(evs, e) }
	tpl := tp.run
	add(wire.RunEvent{Kind: wire.RunStarted, At: started, Template: &tpl, Site: site, Camera: camera, Officer: officer})
	at := started
	type step struct {
		mark, deviation, text string
		at                    time.Time
	}
	steps := map[string]step{}
	for _, s := range tp.run.Steps {
		at = f.between(at, 10*time.Second, 40*time.Second)
		st := step{mark: wire.MarkDone, at: at}
		if r, ok := found[s]; ok {
			st = step{mark: wire.MarkDeviation, deviation: r.deviation, at: at}
		} else if f.rng.IntN(100) < 4 {
			st.mark = wire.MarkNotSeen
		}
		steps[s] = st
		add(wire.RunEvent{Kind: wire.RunMarked, At: at, Step: s, Mark: st.mark, Deviation: st.deviation})
		if r, ok := found[s]; ok {
			at = at.Add(time.Second)
			add(wire.RunEvent{Kind: wire.RunFinding, At: at, Finding: r.id})
		}
	}
	ended := f.between(at, 5*time.Second, 30*time.Second)
	if ended.After(f.o.Now) {
		return nil // a run going on now is no check yet: left out
	}
	add(wire.RunEvent{Kind: wire.RunEnded, At: ended})
	tplJSON, _ := json.Marshal(tp.run)
	if err := f.exec(ctx, insRun, id, site, camera, tp.run.ID, tp.run.Version, tp.run.Activity, string(tplJSON), officer, officer,
		ts(started), ts(ended), len(evs)); err != nil {
		return err
	}
	for _, e := range evs {
		body, _ := json.Marshal(e)
		if err := f.exec(ctx, insRunEvent, id, e.Seq, string(e.Kind), ts(e.At), string(body)); err != nil {
			return err
		}
		if e.Kind == wire.RunFinding {
			if err := f.exec(ctx, insRunFinding, id, e.Finding, e.Seq); err != nil {
				return err
			}
		}
	}
	for _, s := range tp.run.Steps {
		st := steps[s]
		if err := f.exec(ctx, insRunStep, id, s, st.mark, st.deviation, st.text, ts(st.at), 0, 0); err != nil {
			return err
		}
	}
	f.runs++
	return nil
}
