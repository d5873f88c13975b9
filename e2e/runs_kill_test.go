package e2e

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// doffingMarks are ten marks, one for each step of the doffing checklist
// in its order: done, but a deviation from the catalogue, one in the
// officer's words, and the last step not seen.
var doffingMarks = []findings.Marking{
	{Step: "hh-gloves", Mark: "done"},
	{Step: "goggles", Mark: "done"},
	{Step: "hh-after-goggles", Mark: "done"},
	{Step: "coverall", Mark: "deviation", Deviation: "outer-surface-contact"},
	{Step: "hh-after-coverall", Mark: "done"},
	{Step: "enter-room-2", Mark: "done"},
	// The console is killed here.
	{Step: "respirator", Mark: "deviation", DeviationText: "摘口罩时手触碰面部"},
	{Step: "hh-after-respirator", Mark: "done"},
	{Step: "new-mask", Mark: "done"},
	{Step: "enter-clean", Mark: "not_seen"},
}

// TestChecklistRunSurvivesKill makes a checklist run of ten marks through
// the real console's API, kills the console with SIGKILL after the sixth,
// starts it again on the same data, finds the run open there, finishes and
// ends it: the relay holds the one run with its ten observations, each
// event once, and counts the compliance rate the marks make by the
// definition (steps done and not flagged, over steps done or deviated).
func TestChecklistRunSurvivesKill(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1"}})
	creds := relay.Demo()
	dataDir := t.TempDir()
	args := []string{"--serve", "127.0.0.1:0", "--relay", relay.URL(), "--user", creds.User, "--data", dataDir, "--log-level", "warn"}
	first := startConsoleProcess(t, args, creds.Password)

	var run findings.Run
	// The run waits for the relay's camera list to reach the console.
	eventually.True(t, eventually.Ceiling, "the run started", func() bool {
		status, _ := first.api.do("POST", "/api/v1/runs", findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-01/doff1"}, &run)
		return status == http.StatusCreated
	})
	// Each step's flags, as the console answered its mark.
	flagged := map[string]bool{}
	mark := func(c *consoleProcess, m findings.Marking) {
		t.Helper()
		var u struct {
			Observations []findings.Observation  `json:"observations"`
			Flags        []struct{ Step string } `json:"flags"`
		}
		if status, raw := c.api.do("POST", "/api/v1/runs/"+run.ID+"/marks", m, &u); status != http.StatusOK {
			t.Fatalf("mark %s: %d %s; log:\n%s", m.Step, status, raw, c.log.String())
		}
		for _, f := range u.Flags {
			flagged[f.Step] = true
		}
	}
	for _, m := range doffingMarks[:6] {
		mark(first, m)
	}
	first.kill(t)

	second := startConsoleProcess(t, args, creds.Password)
	var open struct{ Runs []findings.Run }
	if status, raw := second.api.do("GET", "/api/v1/runs?open=1", nil, &open); status != http.StatusOK {
		t.Fatalf("open runs after the restart: %d %s", status, raw)
	}
	if len(open.Runs) != 1 || open.Runs[0].ID != run.ID || len(open.Runs[0].Observations) != 6 || open.Runs[0].Officer != creds.User {
		t.Fatalf("open runs after the restart: %+v", open.Runs)
	}
	for _, m := range doffingMarks[6:] {
		mark(second, m)
	}
	var ended findings.Run
	if status, raw := second.api.do("POST", "/api/v1/runs/"+run.ID+"/end", map[string]any{}, &ended); status != http.StatusOK || ended.EndedAt.IsZero() {
		t.Fatalf("end: %d %s", status, raw)
	}
	if len(ended.Observations) != 10 {
		t.Fatalf("the run as ended has %d observations, want 10", len(ended.Observations))
	}
	// A mark after the end changes nothing.
	if status, raw := second.api.do("POST", "/api/v1/runs/"+run.ID+"/marks", doffingMarks[0], nil); status != http.StatusConflict {
		t.Fatalf("a mark after the end: %d %s", status, raw)
	}

	ctx := context.Background()
	duty := relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password)
	var at wire.Run
	eventually.True(t, eventually.Ceiling, "the ended run at the relay", func() bool {
		r, err := duty.Run(ctx, run.ID)
		at = r
		return err == nil && r.EndedAt != nil
	})
	// Start, ten marks, end: twelve events, each once.
	db := relay.DB(t)
	for q, want := range map[string]int{
		`SELECT count(*) FROM runs`:                                       1,
		`SELECT count(*) FROM run_events WHERE run_id = '` + run.ID + `'`: 12,
		`SELECT count(DISTINCT seq) FROM run_events`:                      12,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil || n != want {
			t.Fatalf("%s: %d (%v), want %d", q, n, err, want)
		}
	}
	if at.Seq != 12 || len(at.Observations) != 10 || at.Officer != creds.User || at.Site != "site-01" || at.Camera != "doff1" {
		t.Fatalf("the run at the relay: %+v", at)
	}
	// By the definition, from the marks and the flags the console raised.
	observed, correct := 0, 0
	for _, m := range doffingMarks {
		if m.Mark == "done" || m.Mark == "deviation" {
			observed++
		}
		if m.Mark == "done" && !flagged[m.Step] {
			correct++
		}
	}
	want := float64(correct) / float64(observed)
	stats, err := duty.CheckStats(ctx, "site-01", "", run.StartedAt.Add(-time.Minute), time.Now().Add(time.Minute))
	if err != nil || len(stats.Stats) != 1 {
		t.Fatalf("statistics %+v, %v", stats, err)
	}
	got := stats.Stats[0]
	if got.Checks != 1 || got.StepsObserved != observed || got.StepsCorrect != correct || got.ComplianceRate == nil || *got.ComplianceRate != want {
		t.Fatalf("statistics %+v (rate %v), want 1 check, %d observed, %d correct, rate %v", got, rateOf(got), observed, correct, want)
	}
	t.Logf("compliance %d/%d = %.4f; flagged %v", correct, observed, want, flagged)

	// Nothing the relay refused, nothing left to send.
	local, err := sql.Open("sqlite3", "file:"+filepath.Join(dataDir, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	eventually.True(t, eventually.Ceiling, "the console's outbox of the run sent", func() bool {
		var left int
		err := local.QueryRow(`SELECT count(*) FROM outbox WHERE kind = 'run' AND sent_at = ''`).Scan(&left)
		return err == nil && left == 0
	})
	var failed int
	if err := local.QueryRow(`SELECT count(*) FROM outbox WHERE failed_at != ''`).Scan(&failed); err != nil || failed != 0 {
		t.Fatalf("%d outbox entries refused (%v)", failed, err)
	}
}

func rateOf(c wire.CheckStat) any {
	if c.ComplianceRate == nil {
		return nil
	}
	return *c.ComplianceRate
}
