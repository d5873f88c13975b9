package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	_ "github.com/mattn/go-sqlite3"

	"github.com/qianliyan/qianliyan/console"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

// checklistState is window.__qly.checklist.
type checklistState struct {
	RunID        string `json:"runId"`
	TemplateID   string `json:"templateId"`
	Observations []struct {
		Step      string `json:"step"`
		Mark      string `json:"mark"`
		Deviation string `json:"deviation"`
	} `json:"observations"`
	Flags []struct {
		Step      string `json:"step"`
		Deviation string `json:"deviation"`
		State     string `json:"state"`
		FindingID string `json:"findingId"`
	} `json:"flags"`
}

const checklistJS = `(() => { const s = window.__qly && window.__qly.checklist; return s ? JSON.parse(JSON.stringify(s)) : {}; })()`

// storedFinding is a finding's row and its evidence as the console's
// SQLite file holds them.
type storedFinding struct {
	camera, step, deviation, severity string
	snapshotState, snapshotFile       string
	snapshotW, snapshotH              int
	clipState, clipFile               string
}

func readFinding(t *testing.T, db *sql.DB, id string) (storedFinding, error) {
	t.Helper()
	var f storedFinding
	err := db.QueryRow(`SELECT f.camera, f.step, f.deviation, f.severity,
	       s.state, s.file, s.width, s.height, c.state, c.file
	  FROM findings f
	  JOIN evidence s ON s.finding_id = f.id AND s.kind = 'snapshot'
	  JOIN evidence c ON c.finding_id = f.id AND c.kind = 'clip'
	 WHERE f.id = ?`, id).Scan(&f.camera, &f.step, &f.deviation, &f.severity,
		&f.snapshotState, &f.snapshotFile, &f.snapshotW, &f.snapshotH, &f.clipState, &f.clipFile)
	return f, err
}

// TestChecklistFindings drives the duty officer's checklist in headless
// Chromium over the real relay, simulator and console: a doffing-room
// camera enlarged, the doffing checklist, a step seen out of order proposed
// as a finding and confirmed with Enter, a deviation marked at the next
// step with x and Enter; each finding is then in the console's SQLite file
// with the frame that was on screen as JPEG and a clip ffprobe plays.
func TestChecklistFindings(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCity(t, ctx, 1, 4)

	data := t.TempDir()
	const clipBefore, clipAfter = 2 * time.Second, time.Second
	bctx, _ := c.openConsole(t, ctx, console.Options{DataDir: data, ClipBefore: clipBefore, ClipAfter: clipAfter})

	var tile string
	step(t, "the doffing checklist opens beside the enlarged camera", func(t *testing.T) {
		tile = liveTile(t, bctx, "site-01/doff1")
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tile-id=%q]`, tile)))); err != nil {
			t.Fatalf("selecting %s: %v", tile, err)
		}
		pressKeys(t, bctx, "opening the checklist", "k")
		waitFor(t, "the ppe-doffing run", 10*time.Second, func() (bool, string) {
			s := eval[checklistState](t, bctx, checklistJS)
			return s.TemplateID == "ppe-doffing" && s.RunID != "", fmt.Sprintf("%+v", s)
		})
		// The main stream plays in the focus view; its buffer must hold the
		// pre-roll before the flag.
		type stats struct {
			Stream   string `json:"stream"`
			Width    int    `json:"width"`
			Rendered int    `json:"framesRendered"`
		}
		var since time.Time
		waitFor(t, "the main stream drawn for longer than the pre-roll", 30*time.Second, func() (bool, string) {
			s := eval[stats](t, bctx, fmt.Sprintf(`(() => { const s = window.__qly.tiles[%q]; return s ? JSON.parse(JSON.stringify(s)) : {}; })()`, tile))
			if s.Stream != "main" || s.Width != 320 || s.Rendered == 0 {
				since = time.Time{}
				return false, fmt.Sprintf("%+v", s)
			}
			if since.IsZero() {
				since = time.Now()
			}
			return time.Since(since) > clipBefore+time.Second, fmt.Sprintf("%+v for %v", s, time.Since(since))
		})
	})

	var proposed, marked string
	step(t, "a step seen out of order is proposed and confirmed with Enter", func(t *testing.T) {
		// goggles before the hand hygiene that must come first.
		pressKeys(t, bctx, "marking goggles done", kb.ArrowDown, "d")
		waitFor(t, "goggles done and a proposed finding", 10*time.Second, func() (bool, string) {
			s := eval[checklistState](t, bctx, checklistJS)
			return len(s.Flags) == 1 && s.Flags[0].Step == "goggles" && s.Flags[0].State == "proposed", fmt.Sprintf("%+v", s)
		})
		if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`[data-step-id="goggles"][data-mark="done"]`))); err != nil {
			t.Fatal(err)
		}
		pressKeys(t, bctx, "confirming", kb.Enter)
		waitFor(t, "the proposal filed", 10*time.Second, func() (bool, string) {
			s := eval[checklistState](t, bctx, checklistJS)
			if len(s.Flags) == 1 && s.Flags[0].State == "confirmed" {
				proposed = s.Flags[0].FindingID
			}
			return proposed != "", fmt.Sprintf("%+v", s)
		})
	})

	step(t, "a deviation marked with x and Enter", func(t *testing.T) {
		// The cursor moved on to the next unmarked step: the hand hygiene
		// after the goggles; the picker starts on the step's own deviation.
		pressKeys(t, bctx, "marking a deviation", "x")
		if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
			t.Fatal(err)
		}
		pressKeys(t, bctx, "saving", kb.Enter)
		waitFor(t, "the step marked and its finding listed", 10*time.Second, func() (bool, string) {
			s := eval[checklistState](t, bctx, checklistJS)
			ids := eval[[]string](t, bctx, `(window.__qly.findings || []).filter(f => f.step === 'hh-after-goggles').map(f => f.id)`)
			if len(ids) == 1 {
				marked = ids[0]
			}
			for _, o := range s.Observations {
				if o.Step == "hh-after-goggles" && o.Mark == "deviation" && o.Deviation == "missed_hand_hygiene" && marked != "" {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%+v, findings %v", s.Observations, ids)
		})
		if err := chromedp.Do(bctx, chromedp.WaitNotPresent(chromedp.CSS(`[data-overlay="flag"]`))); err != nil {
			t.Fatal(err)
		}
	})

	step(t, "both findings are in the console's SQLite with snapshot and clip", func(t *testing.T) {
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(data, "console.db")+"?mode=ro&_busy_timeout=5000")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		want := map[string][2]string{proposed: {"goggles", "missed_hand_hygiene"}, marked: {"hh-after-goggles", "missed_hand_hygiene"}}
		for id, w := range want {
			var f storedFinding
			waitFor(t, "finding "+id+" with its clip cut", 30*time.Second, func() (bool, string) {
				f, err = readFinding(t, db, id)
				return err == nil && f.clipState == "complete", fmt.Sprintf("%+v %v", f, err)
			})
			if f.camera != "doff1" || f.step != w[0] || f.deviation != w[1] || f.severity == "" {
				t.Errorf("finding %s: %+v, want camera doff1, step %s, deviation %s", id, f, w[0], w[1])
			}
			if f.snapshotState != "complete" || f.snapshotW != 320 || f.snapshotH != 180 {
				t.Errorf("finding %s: snapshot %s %dx%d, want complete 320x180", id, f.snapshotState, f.snapshotW, f.snapshotH)
			}
			snap, err := os.Open(filepath.Join(data, "evidence", f.snapshotFile))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := jpeg.DecodeConfig(snap)
			snap.Close()
			if err != nil || cfg.Width != 320 || cfg.Height != 180 {
				t.Errorf("finding %s: snapshot %s: %dx%d, %v; want a 320x180 JPEG", id, f.snapshotFile, cfg.Width, cfg.Height, err)
			}
			p, err := testmedia.ProbeFile(filepath.Join(data, "evidence", f.clipFile))
			if err != nil {
				t.Fatalf("finding %s: clip: %v", id, err)
			}
			if p.Codec != "h264" || !p.FirstKeyframe || p.Duration < clipBefore || p.Width != 320 {
				t.Errorf("finding %s: clip %+v, want H.264 320 wide from a keyframe, at least %v", id, p, clipBefore)
			}
		}
	})
}
