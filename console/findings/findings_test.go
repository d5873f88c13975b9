package findings_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

const within = findingstest.Within

var ctx = context.Background()

// clock is a clock the test moves by hand, for run timers.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func snapshot(t testing.TB, w, h int, seed uint8) []byte { return findingstest.Snapshot(t, w, h, seed) }

// flagRequest is a valid flag of the frame with pts.
func flagRequest(pts time.Duration, jpg []byte) findings.FlagRequest {
	us := pts.Microseconds()
	return findings.FlagRequest{
		Camera: "site-01/doff1", Stream: "main", PTS: &us,
		TemplateID: "ppe-doffing", TemplateVersion: 1, Step: "goggles",
		Deviation: "wrong_order", DeviationText: "脱卸顺序错误", Severity: "major",
		Deadline: time.Now().Add(48 * time.Hour).Format(time.RFC3339),
		Snapshot: base64.StdEncoding.EncodeToString(jpg), SnapshotWidth: 320, SnapshotHeight: 240,
	}
}

// refusal is what a refused call should return: a fault of this kind,
// code and field, with a message.
type refusal struct {
	kind        fault.Kind
	code, field string
}

func (want refusal) check(t testing.TB, what string, err error) {
	t.Helper()
	e := fault.As(err)
	if e == nil || e.Kind != want.kind || e.Code != want.code || e.Field != want.field || e.Message == "" {
		t.Fatalf("%s: %v (%+v), want a fault %d %s on %q", what, err, e, want.kind, want.code, want.field)
	}
}

func TestChecklists(t *testing.T) {
	dir := t.TempDir()
	// A supervisor's newer PPE doffing template, and a broken file.
	ppe, err := os.ReadFile("../../checklist/templates/ppe-doffing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	newer := strings.Replace(string(ppe), "version: 1", "version: 2", 1)
	if err := os.WriteFile(filepath.Join(dir, "ppe-doffing-v2.yaml"), []byte(newer), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: broken\nversion: one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := findings.New(findings.Options{Templates: dir})
	cases := []struct {
		zone string
		want []string // template ids, in order
	}{
		{"", []string{"disinfection", "health-monitoring", "meal-delivery", "ppe-doffing", "waste-transfer", "zones-passages"}},
		// Disinfection covers the doffing rooms; zone passages every zone.
		{"doffing_room_1", []string{"disinfection", "ppe-doffing", "zones-passages"}},
		{"nowhere", []string{"zones-passages"}},
	}
	for _, c := range cases {
		t.Run(c.zone, func(t *testing.T) {
			got, err := s.Checklists(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, tm := range got.Templates {
				ids = append(ids, tm.ID)
				if tm.ID == "ppe-doffing" {
					if tm.Version != 2 {
						t.Errorf("ppe-doffing version %d, want the supervisor's 2", tm.Version)
					}
					if tm.Steps[0].ID != "hh-gloves" || time.Duration(tm.Steps[0].MinDuration) != 15*time.Second {
						t.Errorf("first step %+v, want hh-gloves of 15 s", tm.Steps[0])
					}
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.want) {
				t.Fatalf("templates %v, want %v", ids, c.want)
			}
			if len(got.Problems) != 1 || !strings.HasPrefix(got.Problems[0], filepath.Join(dir, "broken.yaml")+":") {
				t.Fatalf("problems %q, want the broken file with its line", got.Problems)
			}
		})
	}
}

func TestChecklistsFollowTheFolder(t *testing.T) {
	dir := t.TempDir()
	s := findings.New(findings.Options{Templates: dir})
	list := func() (ids []string, problems []string) {
		t.Helper()
		got, err := s.Checklists("")
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range got.Templates {
			ids = append(ids, tm.ID)
		}
		return ids, got.Problems
	}
	if ids, _ := list(); len(ids) != 6 {
		t.Fatalf("built-in templates %v", ids)
	}
	ppe, err := os.ReadFile("../../checklist/templates/ppe-doffing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(local, []byte(strings.Replace(string(ppe), "id: ppe-doffing", "id: ppe-doffing-local", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if ids, problems := list(); len(ids) != 7 || !strings.Contains(fmt.Sprint(ids), "ppe-doffing-local") || len(problems) != 0 {
		t.Fatalf("after a supervisor's file: %v %q", ids, problems)
	}
	if err := os.WriteFile(local, []byte("id: ppe-doffing-local\nversion: 1\nsteps: nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ids, problems := list(); len(ids) != 6 || len(problems) == 0 {
		t.Fatalf("after breaking it: %v %q", ids, problems)
	}
}

func TestRunMarksTimersAndFlags(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	s := findingstest.New(t, findingstest.Options{Now: clk.Now}).Findings

	created, err := s.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-01/doff1"})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Template.ID != "ppe-doffing" || created.Template.Version != 1 || created.Observations == nil || len(created.Observations) != 0 {
		t.Fatalf("created %+v", created)
	}

	// Each step in turn: what the officer does, and what the run answers.
	marking := func(step, mark, deviation string) func() (findings.TimerUpdate, error) {
		return func() (findings.TimerUpdate, error) {
			u, err := s.Mark(ctx, created.ID, findings.Marking{Step: step, Mark: checklist.Mark(mark), Deviation: deviation})
			return findings.TimerUpdate{RunUpdate: u}, err
		}
	}
	timing := func(step, action string) func() (findings.TimerUpdate, error) {
		return func() (findings.TimerUpdate, error) {
			return s.Timer(ctx, created.ID, findings.TimerAction{Step: step, Action: action})
		}
	}
	steps := []struct {
		name     string
		do       func() (findings.TimerUpdate, error)
		advance  time.Duration // on the clock before the call
		flags    []string      // step:deviation
		duration float64
		refused  *refusal
	}{
		{name: "hand rub starts", do: timing("hh-gloves", "start")},
		{name: "hand rub stops at 16 s", do: timing("hh-gloves", "stop"), advance: 16 * time.Second, duration: 16},
		{name: "goggles off", do: marking("goggles", "done", "")},
		{name: "coverall before hand hygiene", do: marking("coverall", "done", ""), flags: []string{"coverall:missed_hand_hygiene"}},
		{name: "short hand rub", do: timing("hh-after-coverall", "start")},
		{name: "stopped at 9 s", do: timing("hh-after-coverall", "stop"), advance: 9 * time.Second,
			duration: 9, flags: []string{"hh-after-coverall:short_hand_rub"}},
		{name: "a deviation from the catalogue", do: marking("respirator", "deviation", "face-touch"),
			flags: []string{"respirator:wrong_order"}}, // enter-room-2 was not seen first
		{name: "stop without start", do: timing("hh-after-respirator", "stop"), refused: &refusal{fault.Conflict, "timer_not_running", "step"}},
		{name: "untimed step", do: timing("goggles", "start"), refused: &refusal{fault.Invalid, "invalid_field", "step"}},
		{name: "bad action", do: timing("hh-gloves", "pause"), refused: &refusal{fault.Invalid, "invalid_field", "action"}},
		{name: "unknown step", do: marking("dance", "done", ""), refused: &refusal{fault.Invalid, "invalid_field", "step"}},
		{name: "bad mark", do: marking("goggles", "maybe", ""), refused: &refusal{fault.Invalid, "invalid_field", "mark"}},
		{name: "unknown deviation", do: marking("goggles", "deviation", "sneezed"), refused: &refusal{fault.Invalid, "invalid_field", "deviation"}},
		{name: "deviation with done", do: marking("goggles", "done", "face-touch"), refused: &refusal{fault.Invalid, "invalid_field", "deviation"}},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		got, err := st.do()
		if st.refused != nil {
			st.refused.check(t, st.name, err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var flags []string
		for _, f := range got.Flags {
			flags = append(flags, f.Step+":"+f.Deviation)
			if f.Reason["zh-CN"] == "" || f.Reason["en"] == "" {
				t.Fatalf("%s: flag without reasons %+v", st.name, f)
			}
		}
		if fmt.Sprint(flags) != fmt.Sprint(st.flags) || got.Flags == nil {
			t.Fatalf("%s: flags %v, want %v", st.name, flags, st.flags)
		}
		if got.Duration != st.duration {
			t.Fatalf("%s: duration %v s, want %v", st.name, got.Duration, st.duration)
		}
	}

	// The run's worksheet, as the last answer has it.
	last, err := s.Mark(ctx, created.ID, findings.Marking{Step: "enter-room-2", Mark: checklist.Mark("not_seen")})
	if err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, o := range last.Observations {
		marks = append(marks, fmt.Sprintf("%s=%s%s/%g", o.Step, o.Mark, o.Deviation, o.Duration))
	}
	want := "[hh-gloves=done/16 goggles=done/0 coverall=done/0 hh-after-coverall=done/9 enter-room-2=not_seen/0 respirator=deviationface-touch/0]"
	if fmt.Sprint(marks) != want {
		t.Fatalf("observations %v\nwant %s", marks, want)
	}

	_, err = s.Mark(ctx, "nope", findings.Marking{Step: "goggles", Mark: checklist.Mark("done")})
	refusal{fault.NotFound, "unknown_run", ""}.check(t, "unknown run", err)
	for _, c := range []struct {
		name string
		run  findings.NewRun
		want refusal
	}{
		{"no template", findings.NewRun{}, refusal{fault.Invalid, "invalid_field", "template_id"}},
		{"negative version", findings.NewRun{TemplateID: "ppe-doffing", TemplateVersion: -1}, refusal{fault.Invalid, "invalid_field", "template_version"}},
		{"unknown template", findings.NewRun{TemplateID: "juggling"}, refusal{fault.Invalid, "unknown_template", "template_id"}},
		{"unknown version", findings.NewRun{TemplateID: "ppe-doffing", TemplateVersion: 9}, refusal{fault.Invalid, "unknown_template", "template_id"}},
		{"unknown camera", findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-09/doff1"}, refusal{fault.Invalid, "unknown_camera", "camera"}},
	} {
		_, err := s.CreateRun(ctx, c.run)
		c.want.check(t, c.name, err)
	}
}

func TestFlagCommitsFindingWithSnapshotThenClip(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	v := r.Watch(t, findingstest.Doff1, findingstest.ClipBefore+time.Second)
	frame := v.OnScreen(t)
	onScreenSince := time.Now()
	jpg := snapshot(t, 320, 240, 1)

	f, err := r.Findings.Flag(ctx, flagRequest(frame.PTS, jpg))
	if err != nil {
		t.Fatal(err)
	}
	if f.Observer != findingstest.User || f.Relay != r.Relay.URL() || f.Zone != "doffing_room_1" || f.Severity != "major" || f.TemplateVersion != 1 || f.Status != "open" {
		t.Fatalf("finding %+v", f)
	}
	if f.Clip == nil || f.Clip.State != "recording" {
		t.Fatalf("clip %+v, want recording", f.Clip)
	}
	// observed_at is when the console received the frame on screen, as its
	// buffer says (the store keeps times to the millisecond).
	arrived, err := r.Buffers.Locate(findingstest.Doff1, frame.PTS)
	if err != nil {
		t.Fatal(err)
	}
	if d := f.ObservedAt.Sub(arrived).Abs(); d >= time.Millisecond || f.ObservedAt.After(onScreenSince) {
		t.Fatalf("observed at %v; the frame on screen arrived at %v, and was on screen by %v", f.ObservedAt, arrived, onScreenSince)
	}

	// Committed: the row, its JPEG, its history, its outbox entry.
	db := r.DB(t)
	if n := findingstest.Count(t, db, `SELECT count(*) FROM findings WHERE id = ? AND observer = ? AND camera = 'doff1'`, f.ID, findingstest.User); n != 1 {
		t.Fatalf("%d rows for the finding", n)
	}
	// (The clip's entry may be there too, on a machine slow enough.)
	if n := findingstest.Count(t, db, `SELECT count(*) FROM outbox WHERE finding_id = ? AND kind = 'finding'`, f.ID); n != 1 {
		t.Fatalf("%d outbox entries of the finding", n)
	}
	var file string
	var w, h int
	if err := db.QueryRow(`SELECT file, width, height FROM evidence WHERE finding_id = ? AND kind = 'snapshot'`, f.ID).Scan(&file, &w, &h); err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join(r.DataDir, "evidence", file))
	if err != nil || !bytes.Equal(stored, jpg) {
		t.Fatalf("snapshot file %s: %v", file, err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(stored))
	if err != nil || cfg.Width != 320 || cfg.Height != 240 || w != 320 || h != 240 {
		t.Fatalf("snapshot %dx%d (row %dx%d): %v", cfg.Width, cfg.Height, w, h, err)
	}

	// After clip-after, the clip: H.264 from a keyframe, at least the pre-roll.
	clip := r.WaitClip(t, f.ID, findingstest.ClipAfter+within)
	if clip.State != "complete" {
		t.Fatalf("clip %+v", clip)
	}
	p, err := testmedia.ProbeFile(filepath.Join(r.DataDir, "evidence", clip.File))
	if err != nil {
		t.Fatal(err)
	}
	// Cut by arrival time: in media time as long, less a few frames of jitter.
	if p.Codec != "h264" || !p.FirstKeyframe || p.Duration < findingstest.ClipBefore+findingstest.ClipAfter-300*time.Millisecond || p.Width != 320 {
		t.Fatalf("clip %+v, want H.264 from a keyframe of at least %v", p, findingstest.ClipBefore+findingstest.ClipAfter)
	}

	// The finding with its history.
	got, err := r.Findings.Get(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Clip.State != "complete" || got.Clip.Duration < findingstest.ClipBefore+findingstest.ClipAfter-300*time.Millisecond || len(got.Events) != 2 {
		t.Fatalf("finding %+v", got)
	}
	var detail map[string]any
	if err := json.Unmarshal(got.Events[0].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if e := got.Events[0]; e.Action != "flagged" || e.Actor != findingstest.User || detail["observed_at"] != "frame" {
		t.Fatalf("first event %+v", e)
	}
	if got.Events[1].Action != "clip_complete" {
		t.Fatalf("second event %+v", got.Events[1])
	}

	// Both files are there to read, named by the finding.
	for _, c := range []struct {
		file string
		size int64
	}{{f.Snapshot.File, int64(len(jpg))}, {clip.File, clip.Bytes}} {
		ev, err := r.Findings.Evidence(ctx, c.file)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(ev.File)
		ev.File.Close()
		if err != nil || int64(len(b)) != c.size || ev.Name != c.file || ev.SHA256 == "" {
			t.Fatalf("%s: %d bytes of %d, %+v: %v", c.file, len(b), c.size, ev, err)
		}
	}

	// Listed, edited, withdrawn.
	list, err := r.Findings.List(ctx, findings.Query{})
	if err != nil || len(list) != 1 || list[0].ID != f.ID {
		t.Fatalf("list: %+v %v", list, err)
	}
	if list, err := r.Findings.List(ctx, findings.Query{Since: time.Now().Add(time.Hour)}); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("list since later: %+v %v", list, err)
	}
	note, critical, urgent := "第二次", "critical", "urgent"
	edited, err := r.Findings.Edit(ctx, f.ID, findings.Edit{Note: &note, Severity: &critical})
	if err != nil || edited.Note != note || edited.Severity != critical || edited.Revision != 2 {
		t.Fatalf("edit: %+v %v", edited, err)
	}
	_, err = r.Findings.Edit(ctx, f.ID, findings.Edit{Severity: &urgent})
	refusal{fault.Invalid, "invalid_field", "severity"}.check(t, "bad edit", err)
	_, err = r.Findings.Edit(ctx, f.ID, findings.Edit{})
	refusal{fault.Invalid, "bad_request", ""}.check(t, "empty edit", err)
	_, err = r.Findings.Withdraw(ctx, f.ID, " ")
	refusal{fault.Invalid, "invalid_field", "reason"}.check(t, "withdraw without reason", err)
	withdrawn, err := r.Findings.Withdraw(ctx, f.ID, "看错了")
	if err != nil || withdrawn.Status != "withdrawn" || withdrawn.StatusNote != "看错了" {
		t.Fatalf("withdraw: %+v %v", withdrawn, err)
	}
	_, err = r.Findings.Withdraw(ctx, f.ID, "again")
	refusal{fault.Conflict, "not_withdrawable", ""}.check(t, "withdrawing twice", err)
	if _, err := r.Findings.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown finding: %v", err)
	}
}

func TestFlagRefusesBadInput(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{MaxSnapshotBytes: 256 << 10})
	v := r.Watch(t, findingstest.Doff1, time.Second)
	pts := v.OnScreen(t).PTS
	jpg := snapshot(t, 320, 240, 2)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewRGBA(image.Rect(0, 0, 320, 240))); err != nil {
		t.Fatal(err)
	}
	// A JPEG just over the cap: readers stop at the end-of-image marker, so
	// trailing bytes leave it a JPEG.
	padded := append(append([]byte(nil), jpg...), make([]byte, 260<<10)...)
	b64 := base64.StdEncoding.EncodeToString
	negative := int64(-1)

	cases := []struct {
		name   string
		change func(*findings.FlagRequest)
		want   refusal
	}{
		{"unknown camera", func(f *findings.FlagRequest) { f.Camera = "site-01/nope" }, refusal{fault.Invalid, "unknown_camera", "camera"}},
		{"not site/camera", func(f *findings.FlagRequest) { f.Camera = "doff1" }, refusal{fault.Invalid, "invalid_field", "camera"}},
		{"camera not pulled", func(f *findings.FlagRequest) { f.Camera = "site-01/doff2" }, refusal{fault.Conflict, "camera_not_pulled", "camera"}},
		{"stream not pulled", func(f *findings.FlagRequest) { f.Stream = "sub" }, refusal{fault.Conflict, "camera_not_pulled", "camera"}},
		{"bad stream", func(f *findings.FlagRequest) { f.Stream = "hd" }, refusal{fault.Invalid, "invalid_field", "stream"}},
		{"bad severity", func(f *findings.FlagRequest) { f.Severity = "urgent" }, refusal{fault.Invalid, "invalid_field", "severity"}},
		{"no severity or catalogue entry", func(f *findings.FlagRequest) { f.Severity, f.Deviation = "", "" }, refusal{fault.Invalid, "invalid_field", "severity"}},
		{"no pts", func(f *findings.FlagRequest) { f.PTS = nil }, refusal{fault.Invalid, "invalid_field", "pts_us"}},
		{"negative pts", func(f *findings.FlagRequest) { f.PTS = &negative }, refusal{fault.Invalid, "invalid_field", "pts_us"}},
		{"unknown template", func(f *findings.FlagRequest) { f.TemplateID = "juggling" }, refusal{fault.Invalid, "unknown_template", "template_id"}},
		{"unknown template version", func(f *findings.FlagRequest) { f.TemplateVersion = 7 }, refusal{fault.Invalid, "unknown_template", "template_id"}},
		{"unknown step", func(f *findings.FlagRequest) { f.Step = "dance" }, refusal{fault.Invalid, "invalid_field", "step"}},
		{"unknown deviation", func(f *findings.FlagRequest) { f.Deviation = "sneezed" }, refusal{fault.Invalid, "invalid_field", "deviation"}},
		{"step without template", func(f *findings.FlagRequest) { f.TemplateID = "" }, refusal{fault.Invalid, "invalid_field", "step"}},
		{"no words", func(f *findings.FlagRequest) { f.DeviationText, f.Deviation = " ", "" }, refusal{fault.Invalid, "invalid_field", "deviation_text"}},
		{"deadline in the past", func(f *findings.FlagRequest) { f.Deadline = time.Now().Add(-time.Hour).Format(time.RFC3339) }, refusal{fault.Invalid, "invalid_field", "deadline"}},
		{"deadline not RFC 3339", func(f *findings.FlagRequest) { f.Deadline = "tomorrow" }, refusal{fault.Invalid, "invalid_field", "deadline"}},
		{"no deadline or catalogue entry", func(f *findings.FlagRequest) { f.Deadline, f.Deviation = "", "" }, refusal{fault.Invalid, "invalid_field", "deadline"}},
		{"no snapshot", func(f *findings.FlagRequest) { f.Snapshot = "" }, refusal{fault.Invalid, "invalid_field", "snapshot"}},
		{"snapshot not base64", func(f *findings.FlagRequest) { f.Snapshot = "%%%" }, refusal{fault.Invalid, "invalid_field", "snapshot"}},
		{"snapshot a PNG", func(f *findings.FlagRequest) { f.Snapshot = b64(pngBuf.Bytes()) }, refusal{fault.Invalid, "invalid_field", "snapshot"}},
		{"snapshot a PNG data URL", func(f *findings.FlagRequest) { f.Snapshot = "data:image/png;base64," + b64(pngBuf.Bytes()) }, refusal{fault.Invalid, "invalid_field", "snapshot"}},
		{"snapshot a broken JPEG", func(f *findings.FlagRequest) { f.Snapshot = b64([]byte{0xff, 0xd8, 0xff, 0xd9}) }, refusal{fault.Invalid, "invalid_field", "snapshot"}},
		{"snapshot over its cap", func(f *findings.FlagRequest) { f.Snapshot = b64(padded) }, refusal{fault.TooLarge, "snapshot_too_large", "snapshot"}},
		{"snapshot of another size", func(f *findings.FlagRequest) { f.SnapshotWidth = 640 }, refusal{fault.Invalid, "invalid_field", "snapshot_width"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := flagRequest(pts, jpg)
			c.change(&in)
			_, err := r.Findings.Flag(ctx, in)
			c.want.check(t, c.name, err)
		})
	}
	db := r.DB(t)
	for _, table := range []string{"findings", "evidence", "finding_events", "outbox"} {
		if n := findingstest.Count(t, db, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%d rows in %s after refused flags", n, table)
		}
	}
	if files := r.EvidenceFiles(t); len(files) != 0 {
		t.Errorf("evidence files after refused flags: %v", files)
	}
}

func TestFlagOfAFrameNoLongerBufferedTakesTheFlagTime(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	v := r.Watch(t, findingstest.Doff1, time.Second)
	pts := v.OnScreen(t).PTS
	in := flagRequest(pts+time.Hour, snapshot(t, 320, 240, 3))
	// The catalogue fills severity, words and deadline.
	in.Severity, in.DeviationText, in.Deadline = "", "", ""
	// The store keeps times to the millisecond.
	before := time.Now().Truncate(time.Millisecond)
	f, err := r.Findings.Flag(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if f.ObservedAt.Before(before) || f.ObservedAt.After(time.Now()) {
		t.Fatalf("observed at %v, want the flag's time", f.ObservedAt)
	}
	if f.Severity != "major" || f.DeviationText != "脱卸顺序错误" || f.Deadline.Sub(f.FlaggedAt).Round(time.Minute) != 48*time.Hour {
		t.Fatalf("catalogue defaults not applied: %+v", f)
	}
	events, err := r.Store.Events(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	var detail map[string]any
	if err := json.Unmarshal(events[0].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if detail["observed_at"] != "flag_time" || !strings.Contains(fmt.Sprint(detail["reason"]), "not found") {
		t.Fatalf("flagged event detail %v, want it to say the flag time stands in", detail)
	}
	// The clip is cut around the flag time, and completes.
	if clip := r.WaitClip(t, f.ID, findingstest.ClipAfter+within); clip.State != "complete" {
		t.Fatalf("clip %+v", clip)
	}
}

// Every change is made in a signed-in officer's name; without one, the
// view hears why.
func TestChangesNeedASignedInObserver(t *testing.T) {
	for _, c := range []struct {
		name string
		opts findingstest.Options
		code string
	}{
		{"signed out", findingstest.Options{SignedOut: true}, "signed_out"},
		{"session expired", findingstest.Options{Expired: true}, "session_expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := findingstest.New(t, c.opts)
			v := r.Watch(t, findingstest.Doff1, time.Second)
			want := refusal{fault.Unauthenticated, c.code, ""}
			_, err := r.Findings.Flag(ctx, flagRequest(v.OnScreen(t).PTS, snapshot(t, 320, 240, 4)))
			want.check(t, "flag", err)
			if n := findingstest.Count(t, r.DB(t), "SELECT count(*) FROM findings"); n != 0 {
				t.Fatalf("%d findings stored", n)
			}
			f := r.Create(t, "漏做手卫生", time.Hour)
			note := "x"
			_, err = r.Findings.Edit(ctx, f.ID, findings.Edit{Note: &note})
			want.check(t, "edit", err)
			_, err = r.Findings.Withdraw(ctx, f.ID, "x")
			want.check(t, "withdraw", err)
			_, err = r.Findings.Reopen(ctx, f.ID, findings.Recheck{Note: "x"})
			want.check(t, "reopen", err)
		})
	}
}

func TestEvidenceOnlyOfFindings(t *testing.T) {
	r := findingstest.New(t, findingstest.Options{})
	// A file in the evidence folder that no finding refers to.
	stray := strings.Repeat("ab", 32) + ".jpg"
	if err := os.WriteFile(filepath.Join(r.DataDir, "evidence", stray), snapshot(t, 16, 16, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{stray, "../console.db", "nope.jpg", ""} {
		_, err := r.Findings.Evidence(ctx, name)
		refusal{fault.NotFound, "unknown_evidence", ""}.check(t, name, err)
	}
	// Recorded, but gone from the disk.
	f := r.Create(t, "漏做手卫生", time.Hour)
	if err := os.Remove(filepath.Join(r.DataDir, "evidence", f.Snapshot.File)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Findings.Evidence(ctx, f.Snapshot.File)
	refusal{fault.NotFound, "evidence_missing", ""}.check(t, "removed", err)
}
