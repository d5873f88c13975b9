package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// runTemplate is what a run's start tells the relay of its template (a
// checklist.Template as the store keeps it, read in part).
type runTemplate struct {
	ID       string `json:"id"`
	Version  int    `json:"version"`
	Activity string `json:"activity"`
	Steps    []struct {
		ID string `json:"id"`
	} `json:"steps"`
	Deviations []struct {
		ID string `json:"id"`
	} `json:"deviations"`
}

// sendRunEvent files one event of a checklist run. The relay takes the run
// id and the event's number as the event's identity: sent again after a
// crash, it is answered as done.
func (f *Forwarder) sendRunEvent(ctx context.Context, e store.OutboxEntry) error {
	run, ev, err := f.opts.Store.RunEventOf(ctx, e)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	w, err := runEventWire(run, ev)
	if err != nil {
		return fmt.Errorf("%w: %w", errRefused, err)
	}
	_, _, err = f.opts.Relay.FileRunEvent(ctx, run.ID, w)
	return err
}

// runEventWire is a stored run event as the relay is sent it.
func runEventWire(run store.Run, ev store.RunEvent) (wire.RunEvent, error) {
	w := wire.RunEvent{Seq: ev.Seq, Kind: wire.RunEventKind(ev.Kind), At: ev.At, Step: ev.Step, Mark: ev.Mark,
		Deviation: ev.Deviation, DeviationText: ev.DeviationText, DurationMS: ev.Duration.Milliseconds(), Finding: ev.FindingID}
	for _, fl := range ev.Flags {
		w.Flags = append(w.Flags, wire.RunFlag{Step: fl.Step, Deviation: fl.Deviation})
	}
	if ev.Kind != store.RunStarted {
		return w, nil
	}
	var t runTemplate
	if err := json.Unmarshal(run.Template, &t); err != nil {
		return wire.RunEvent{}, fmt.Errorf("reading the template of run %s: %w", run.ID, err)
	}
	rt := &wire.RunTemplate{ID: t.ID, Version: t.Version, Activity: t.Activity, Steps: []string{}, Deviations: []string{}}
	for _, s := range t.Steps {
		rt.Steps = append(rt.Steps, s.ID)
	}
	for _, d := range t.Deviations {
		rt.Deviations = append(rt.Deviations, d.ID)
	}
	site, camera, _ := strings.Cut(run.Camera, "/")
	w.Template, w.Site, w.Camera, w.Officer = rt, site, camera, run.Officer
	return w, nil
}
