package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qianliyan/qianliyan/console"
)

// TestChecklistRunResumesAndEnds drives a doffing check in Chromium as a
// record (issue 11.2): three steps marked, the page reloaded; the checklist
// opened again on the camera goes on with the same run and its three
// marks, not a new one. The officer marks the rest, is offered the end,
// ends it with Q, and the console's record of the run says it ended, with
// every mark.
func TestChecklistRunResumesAndEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)
	bctx, pageURL := c.openConsole(t, ctx, console.Options{ClipBefore: time.Second, ClipAfter: time.Second})
	u, err := url.Parse(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	api := &apiClient{t: t, base: "http://" + u.Host, token: u.Query().Get("token")}
	state := func(t *testing.T) checklistState { return eval[checklistState](t, bctx, checklistJS) }
	marks := func(s checklistState) string {
		var out []string
		for _, o := range s.Observations {
			out = append(out, o.Step+"="+o.Mark)
		}
		return strings.Join(out, " ")
	}
	openChecklist := func(t *testing.T) {
		tile := liveTile(t, bctx, "site-01/doff1")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
			t.Fatalf("selecting %s: %v", tile, err)
		}
		pressKeys(t, bctx, "opening the checklist", "k")
		waitFor(t, "the ppe-doffing run", 20*time.Second, func() (bool, string) {
			s := state(t)
			return s.TemplateID == "ppe-doffing" && s.RunID != "", fmt.Sprintf("%+v", s)
		})
	}
	const first3 = "hh-gloves=done goggles=done hh-after-goggles=done"

	var runID string
	step(t, "three steps marked in a new run", func(t *testing.T) {
		openChecklist(t)
		runID = state(t).RunID
		for i := 1; i <= 3; i++ {
			pressKeys(t, bctx, "marking a step done", "d")
			waitFor(t, fmt.Sprintf("%d marks", i), 10*time.Second, func() (bool, string) { return len(state(t).Observations) == i, marks(state(t)) })
		}
		if got := marks(state(t)); got != first3 {
			t.Fatalf("marks %q, want %q", got, first3)
		}
	})

	step(t, "after a reload the checklist goes on with the same run and its marks", func(t *testing.T) {
		if err := chromedp.Do(bctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-grid]`))); err != nil {
			t.Fatalf("reloading: %v", err)
		}
		openChecklist(t)
		waitFor(t, "the run going on, its three marks shown", 10*time.Second, func() (bool, string) {
			s := state(t)
			return s.RunID == runID && marks(s) == first3, fmt.Sprintf("run %s (want %s), marks %q", s.RunID, runID, marks(s))
		})
		rows := eval[int](t, bctx, `document.querySelectorAll('[data-panel="checklist"] [data-step-id][data-mark="done"]').length`)
		if rows != 3 {
			t.Errorf("%d steps drawn done after the reload, want 3", rows)
		}
		var all struct {
			Runs []struct{ ID string } `json:"runs"`
		}
		if status, b := api.do("GET", "/api/v1/runs", nil, &all); status != 200 || len(all.Runs) != 1 {
			t.Errorf("the console has runs %s (%d), want the one run %s", b, status, runID)
		}
	})

	step(t, "every step marked, the end is offered; Q ends the run", func(t *testing.T) {
		for i := 4; i <= 10; i++ {
			pressKeys(t, bctx, "marking a step done", "d")
			waitFor(t, fmt.Sprintf("%d marks", i), 10*time.Second, func() (bool, string) { return len(state(t).Observations) == i, marks(state(t)) })
		}
		jsTrue(t, bctx, "the end offered", 10*time.Second, `!!document.querySelector('[data-panel="checklist"] .complete')`)
		pressKeys(t, bctx, "ending the check", "q")
		jsTrue(t, bctx, "the run ended in the view", 10*time.Second, `!!(window.__qly.checklist || {}).ended && !!document.querySelector('[data-run-ended]')`)

		var run struct {
			ID           string `json:"id"`
			EndedAt      string `json:"ended_at"`
			Observations []struct {
				Step string `json:"step"`
				Mark string `json:"mark"`
			} `json:"observations"`
		}
		if status, b := api.do("GET", "/api/v1/runs/"+runID, nil, &run); status != 200 {
			t.Fatalf("GET /api/v1/runs/%s: %d %s", runID, status, b)
		}
		if run.EndedAt == "" {
			t.Errorf("run %s not ended at the console", runID)
		}
		done := 0
		for _, o := range run.Observations {
			if o.Mark == "done" {
				done++
			}
		}
		if len(run.Observations) != 10 || done != 10 {
			t.Errorf("run %s holds %d observations, %d done; want the 10 steps done: %+v", runID, len(run.Observations), done, run.Observations)
		}
		var open struct {
			Runs []struct{ ID string } `json:"runs"`
		}
		if status, b := api.do("GET", "/api/v1/runs?open=1", nil, &open); status != 200 || len(open.Runs) != 0 {
			t.Errorf("runs going on after the end: %s (%d), want none", b, status)
		}
	})
}
