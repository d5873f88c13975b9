package findings

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/internal/relaytest"
	"github.com/qianliyan/qianliyan/console/jsonapi"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/testmedia"
)

const within = 5 * time.Second

var doff1 = media.Key{Site: "site-01", Camera: "doff1", Stream: "main"}

// session is the console's relay session as the API sees it: the relay
// client signed in as user ("" = signed out).
type session struct {
	rc      *relayclient.Client
	user    string
	expired bool // signed out because the relay ended the session
}

func (s session) Cameras(ctx context.Context) ([]relayclient.Camera, error) { return s.rc.Cameras(ctx) }

func (s session) Observer(context.Context) (string, string, error) {
	if s.expired {
		return "", "", jsonapi.Fail(http.StatusUnauthorized, "session_expired", "the relay ended the session")
	}
	if s.user == "" {
		return "", "", errors.New("signed out")
	}
	return s.user, s.rc.BaseURL(), nil
}

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

// rig is the findings API over a stand-in relay sending real H.264 over a
// real pion peer, the console's sources with their buffers, the clip
// recorder and a real store, served on 127.0.0.1.
type rig struct {
	relay   *relaytest.Relay
	sources *media.Sources
	buffers *evidence.Buffers
	store   *store.Store
	dataDir string
	srv     *httptest.Server
}

type rigOptions struct {
	templates        string
	now              func() time.Time
	signedOut        bool
	expired          bool
	maxSnapshotBytes int
}

const clipBefore, clipAfter = 3 * time.Second, time.Second

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{})
	rc, err := relayclient.New(relay.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := rc.Login(context.Background(), relaytest.User, relaytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	puller, err := media.NewWHEP(relay.URL(), rc, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	buffers := evidence.NewBuffers(clipBefore+evidence.KeepMargin, evidence.MaxBufferBytes, nil)
	sources := media.NewSources(context.Background(), puller, media.Options{Tap: buffers.Tap, Log: zerolog.Nop()})
	t.Cleanup(sources.Close)
	dataDir := t.TempDir()
	st, err := store.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := evidence.NewRecorder(context.Background(), evidence.RecorderOptions{
		Sources: sources, Buffers: buffers, Store: st, Before: clipBefore, After: clipAfter,
	})
	t.Cleanup(rec.Close)
	user := sess.User.Name
	if o.signedOut {
		user = ""
	}
	api := New(Options{
		Store: st, Console: session{rc, user, o.expired}, Frames: buffers, Clips: rec,
		Templates: o.templates, Now: o.now, MaxSnapshotBytes: o.maxSnapshotBytes,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	})
	mux := http.NewServeMux()
	for p, h := range api.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &rig{relay: relay, sources: sources, buffers: buffers, store: st, dataDir: dataDir, srv: srv}
}

// viewer stands for the bridge: it keeps the stream pulling and hands the
// test the units it gets.
type viewer struct{ units chan avc.AccessUnit }

func (v *viewer) OnAccessUnit(au avc.AccessUnit) {
	select {
	case v.units <- au:
	default:
	}
}

func (v *viewer) OnState(media.State) {}

// watch opens a stream as the view does and waits until its buffer holds
// span of video.
func (r *rig) watch(t testing.TB, key media.Key, span time.Duration) *viewer {
	t.Helper()
	v := &viewer{units: make(chan avc.AccessUnit, 4096)}
	unsub, err := r.sources.Subscribe(key, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	deadline := time.Now().Add(span + within)
	for {
		if ring, ok := r.buffers.Ring(key); ok {
			if _, _, got := ring.Stats(); got >= span {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the buffer of %s did not reach %v", key, span)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// onScreen is the newest unit the viewer got: the frame on screen.
func (v *viewer) onScreen(t testing.TB) avc.AccessUnit {
	t.Helper()
	var au avc.AccessUnit
	select {
	case au = <-v.units:
	case <-time.After(within):
		t.Fatal("no video")
	}
	for {
		select {
		case au = <-v.units:
		default:
			return au
		}
	}
}

// call sends a request and decodes the JSON answer into out (if not nil).
func (r *rig) call(t testing.TB, method, path, contentType string, body []byte, out any) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode, resp.Header
}

// send posts v as JSON.
func (r *rig) send(t testing.TB, method, path string, v, out any) int {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	status, _ := r.call(t, method, path, "application/json", body, out)
	return status
}

// apiError is the error answer.
type apiError struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}

// snapshot encodes a real JPEG of w×h, different for each seed.
func snapshot(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y), seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// flagBody is a valid flag request for the frame with pts.
func flagBody(t testing.TB, pts time.Duration, jpg []byte) map[string]any {
	return map[string]any{
		"camera": "site-01/doff1", "stream": "main", "pts_us": pts.Microseconds(),
		"template_id": "ppe-doffing", "template_version": 1, "step": "goggles",
		"deviation": "wrong_order", "deviation_text": "脱卸顺序错误", "severity": "major",
		"note": "", "deadline": time.Now().Add(48 * time.Hour).Format(time.RFC3339),
		"snapshot": base64.StdEncoding.EncodeToString(jpg), "snapshot_width": 320, "snapshot_height": 240,
	}
}

// db opens the console's SQLite file itself, to see what is committed.
func (r *rig) db(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(r.dataDir, "console.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// evidenceFiles lists the files in the evidence folder (not partial/).
func (r *rig) evidenceFiles(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(r.dataDir, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitClip waits until the finding's clip has left the recording state.
func (r *rig) waitClip(t testing.TB, id string, within time.Duration) store.Evidence {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		f, err := r.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Clip.State != "recording" {
			return *f.Clip
		}
		if time.Now().After(deadline) {
			t.Fatalf("clip still recording after %v", within)
		}
		time.Sleep(100 * time.Millisecond)
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
	r := newRig(t, rigOptions{templates: dir})

	type answer struct {
		Templates []struct {
			ID      string   `json:"id"`
			Version int      `json:"version"`
			Zones   []string `json:"zones"`
			Steps   []struct {
				ID          string  `json:"id"`
				MinDuration float64 `json:"min_duration_s"`
			} `json:"steps"`
		} `json:"templates"`
		Problems []string `json:"problems"`
	}
	cases := []struct {
		query string
		want  []string // template ids, in order
	}{
		{"", []string{"disinfection", "health-monitoring", "meal-delivery", "ppe-doffing", "waste-transfer", "zones-passages"}},
		// Disinfection covers the doffing rooms; zone passages every zone.
		{"?zone=doffing_room_1", []string{"disinfection", "ppe-doffing", "zones-passages"}},
		{"?zone=nowhere", []string{"zones-passages"}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var got answer
			if status, _ := r.call(t, "GET", "/api/v1/checklists"+c.query, "", nil, &got); status != 200 {
				t.Fatalf("status %d", status)
			}
			var ids []string
			for _, tm := range got.Templates {
				ids = append(ids, tm.ID)
				if tm.ID == "ppe-doffing" {
					if tm.Version != 2 {
						t.Errorf("ppe-doffing version %d, want the supervisor's 2", tm.Version)
					}
					if tm.Steps[0].ID != "hh-gloves" || tm.Steps[0].MinDuration != 15 {
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
	if status, hdr := r.call(t, "POST", "/api/v1/checklists", "application/json", []byte("{}"), nil); status != 405 || hdr.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST checklists: %d, Allow %q", status, hdr.Get("Allow"))
	}
}

type runAnswer struct {
	ID           string `json:"id"`
	Observations []struct {
		Step      string  `json:"step"`
		Mark      string  `json:"mark"`
		Deviation string  `json:"deviation"`
		Duration  float64 `json:"duration_s"`
	} `json:"observations"`
	Flags []struct {
		Step      string            `json:"step"`
		Deviation string            `json:"deviation"`
		Reason    map[string]string `json:"reason"`
	} `json:"flags"`
	Duration float64 `json:"duration_s"`
	Template struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	} `json:"template"`
}

func TestRunMarksTimersAndFlags(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	r := newRig(t, rigOptions{now: clk.Now})

	var created runAnswer
	if status := r.send(t, "POST", "/api/v1/runs", map[string]any{"template_id": "ppe-doffing", "template_version": 0, "camera": "site-01/doff1"}, &created); status != 201 {
		t.Fatalf("creating run: %d", status)
	}
	if created.ID == "" || created.Template.ID != "ppe-doffing" || created.Template.Version != 1 || created.Observations == nil || len(created.Observations) != 0 {
		t.Fatalf("created %+v", created)
	}
	base := "/api/v1/runs/" + created.ID

	// Each step in turn: what the officer does, and what the run answers.
	steps := []struct {
		name      string
		path      string
		body      map[string]any
		advance   time.Duration // on the clock before the request
		status    int
		flags     []string // step:deviation
		duration  float64
		errField  string
		errorCode string
	}{
		{name: "hand rub starts", path: "/timers", body: map[string]any{"step": "hh-gloves", "action": "start"}, status: 200},
		{name: "hand rub stops at 16 s", path: "/timers", body: map[string]any{"step": "hh-gloves", "action": "stop"}, advance: 16 * time.Second, status: 200, duration: 16},
		{name: "goggles off", path: "/marks", body: map[string]any{"step": "goggles", "mark": "done"}, status: 200},
		{name: "coverall before hand hygiene", path: "/marks", body: map[string]any{"step": "coverall", "mark": "done"}, status: 200,
			flags: []string{"coverall:missed_hand_hygiene"}},
		{name: "short hand rub", path: "/timers", body: map[string]any{"step": "hh-after-coverall", "action": "start"}, status: 200},
		{name: "stopped at 9 s", path: "/timers", body: map[string]any{"step": "hh-after-coverall", "action": "stop"}, advance: 9 * time.Second, status: 200,
			duration: 9, flags: []string{"hh-after-coverall:short_hand_rub"}},
		{name: "a deviation from the catalogue", path: "/marks", body: map[string]any{"step": "respirator", "mark": "deviation", "deviation": "face-touch"}, status: 200,
			flags: []string{"respirator:wrong_order"}}, // enter-room-2 was not seen first
		{name: "stop without start", path: "/timers", body: map[string]any{"step": "hh-after-respirator", "action": "stop"}, status: 409, errorCode: "timer_not_running", errField: "step"},
		{name: "untimed step", path: "/timers", body: map[string]any{"step": "goggles", "action": "start"}, status: 400, errField: "step"},
		{name: "bad action", path: "/timers", body: map[string]any{"step": "hh-gloves", "action": "pause"}, status: 400, errField: "action"},
		{name: "unknown step", path: "/marks", body: map[string]any{"step": "dance", "mark": "done"}, status: 400, errField: "step"},
		{name: "bad mark", path: "/marks", body: map[string]any{"step": "goggles", "mark": "maybe"}, status: 400, errField: "mark"},
		{name: "unknown deviation", path: "/marks", body: map[string]any{"step": "goggles", "mark": "deviation", "deviation": "sneezed"}, status: 400, errField: "deviation"},
		{name: "deviation with done", path: "/marks", body: map[string]any{"step": "goggles", "mark": "done", "deviation": "face-touch"}, status: 400, errField: "deviation"},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		var got runAnswer
		var bad apiError
		out := any(&got)
		if s.status >= 400 {
			out = &bad
		}
		if status := r.send(t, "POST", base+s.path, s.body, out); status != s.status {
			t.Fatalf("%s: status %d, want %d (%+v)", s.name, status, s.status, bad)
		}
		if s.status >= 400 {
			if bad.Error.Field != s.errField || (s.errorCode != "" && bad.Error.Code != s.errorCode) || bad.Error.Message == "" {
				t.Fatalf("%s: error %+v, want field %q code %q", s.name, bad.Error, s.errField, s.errorCode)
			}
			continue
		}
		var flags []string
		for _, f := range got.Flags {
			flags = append(flags, f.Step+":"+f.Deviation)
			if f.Reason["zh-CN"] == "" || f.Reason["en"] == "" {
				t.Fatalf("%s: flag without reasons %+v", s.name, f)
			}
		}
		if fmt.Sprint(flags) != fmt.Sprint(s.flags) || got.Flags == nil {
			t.Fatalf("%s: flags %v, want %v", s.name, flags, s.flags)
		}
		if got.Duration != s.duration {
			t.Fatalf("%s: duration %v s, want %v", s.name, got.Duration, s.duration)
		}
	}

	// The run's worksheet, as the last answer has it.
	var last runAnswer
	if status := r.send(t, "POST", base+"/marks", map[string]any{"step": "enter-room-2", "mark": "not_seen"}, &last); status != 200 {
		t.Fatalf("not seen: %d", status)
	}
	var marks []string
	for _, o := range last.Observations {
		marks = append(marks, fmt.Sprintf("%s=%s%s/%g", o.Step, o.Mark, o.Deviation, o.Duration))
	}
	want := "[hh-gloves=done/16 goggles=done/0 coverall=done/0 hh-after-coverall=done/9 enter-room-2=not_seen/0 respirator=deviationface-touch/0]"
	if fmt.Sprint(marks) != want {
		t.Fatalf("observations %v\nwant %s", marks, want)
	}

	for _, c := range []struct {
		name, path string
		body       map[string]any
		status     int
		code       string
	}{
		{"unknown run", "/api/v1/runs/nope/marks", map[string]any{"step": "goggles", "mark": "done"}, 404, "unknown_run"},
		{"unknown template", "/api/v1/runs", map[string]any{"template_id": "juggling"}, 400, "unknown_template"},
		{"unknown version", "/api/v1/runs", map[string]any{"template_id": "ppe-doffing", "template_version": 9}, 400, "unknown_template"},
		{"unknown camera", "/api/v1/runs", map[string]any{"template_id": "ppe-doffing", "camera": "site-09/doff1"}, 400, "unknown_camera"},
	} {
		var bad apiError
		if status := r.send(t, "POST", c.path, c.body, &bad); status != c.status || bad.Error.Code != c.code {
			t.Errorf("%s: %d %+v, want %d %s", c.name, status, bad.Error, c.status, c.code)
		}
	}
}

func TestFlagCommitsFindingWithSnapshotThenClip(t *testing.T) {
	r := newRig(t, rigOptions{})
	v := r.watch(t, doff1, clipBefore+time.Second)
	frame := v.onScreen(t)
	onScreenSince := time.Now()
	jpg := snapshot(t, 320, 240, 1)

	var f store.Finding
	status, hdr := r.call(t, "POST", "/api/v1/findings", "application/json", mustJSON(t, flagBody(t, frame.PTS, jpg)), &f)
	if status != 201 {
		t.Fatalf("flag: %d", status)
	}
	if hdr.Get("Location") != "/api/v1/findings/"+f.ID {
		t.Fatalf("Location %q", hdr.Get("Location"))
	}
	if f.Observer != relaytest.User || f.Zone != "doffing_room_1" || f.Severity != "major" || f.TemplateVersion != 1 || f.Status != "open" {
		t.Fatalf("finding %+v", f)
	}
	if f.Clip == nil || f.Clip.State != "recording" {
		t.Fatalf("clip %+v, want recording", f.Clip)
	}
	// observed_at is when the console received the frame on screen.
	if d := onScreenSince.Sub(f.ObservedAt); d < 0 || d > time.Second {
		t.Fatalf("observed at %v, %v before the frame was on screen", f.ObservedAt, d)
	}

	// Committed: the row, its JPEG, its history, its outbox entry.
	db := r.db(t)
	if n := count(t, db, `SELECT count(*) FROM findings WHERE id = ? AND observer = ? AND camera = 'doff1'`, f.ID, relaytest.User); n != 1 {
		t.Fatalf("%d rows for the finding", n)
	}
	if n := count(t, db, `SELECT count(*) FROM outbox WHERE finding_id = ?`, f.ID); n != 1 {
		t.Fatalf("%d outbox entries", n)
	}
	var file string
	var w, h int
	if err := db.QueryRow(`SELECT file, width, height FROM evidence WHERE finding_id = ? AND kind = 'snapshot'`, f.ID).Scan(&file, &w, &h); err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join(r.dataDir, "evidence", file))
	if err != nil || !bytes.Equal(stored, jpg) {
		t.Fatalf("snapshot file %s: %v", file, err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(stored))
	if err != nil || cfg.Width != 320 || cfg.Height != 240 || w != 320 || h != 240 {
		t.Fatalf("snapshot %dx%d (row %dx%d): %v", cfg.Width, cfg.Height, w, h, err)
	}

	// After clip-after, the clip: H.264 from a keyframe, at least the pre-roll.
	clip := r.waitClip(t, f.ID, clipAfter+within)
	if clip.State != "complete" {
		t.Fatalf("clip %+v", clip)
	}
	p, err := testmedia.ProbeFile(filepath.Join(r.dataDir, "evidence", clip.File))
	if err != nil {
		t.Fatal(err)
	}
	// Cut by arrival time: in media time as long, less a few frames of jitter.
	if p.Codec != "h264" || !p.FirstKeyframe || p.Duration < clipBefore+clipAfter-300*time.Millisecond || p.Width != 320 {
		t.Fatalf("clip %+v, want H.264 from a keyframe of at least %v", p, clipBefore+clipAfter)
	}

	// The finding with its history.
	var got struct {
		store.Finding
		Events []struct {
			Action string         `json:"action"`
			Actor  string         `json:"actor"`
			Detail map[string]any `json:"detail"`
		} `json:"events"`
	}
	if status, _ := r.call(t, "GET", "/api/v1/findings/"+f.ID, "", nil, &got); status != 200 {
		t.Fatalf("get: %d", status)
	}
	if got.Clip.State != "complete" || got.Clip.Duration < clipBefore+clipAfter-300*time.Millisecond || len(got.Events) != 2 {
		t.Fatalf("finding %+v", got)
	}
	if e := got.Events[0]; e.Action != "flagged" || e.Actor != relaytest.User || e.Detail["observed_at"] != "frame" {
		t.Fatalf("first event %+v", e)
	}
	if got.Events[1].Action != "clip_complete" {
		t.Fatalf("second event %+v", got.Events[1])
	}

	// Both files are served, with Range.
	for _, c := range []struct {
		file, ctype string
		size        int64
	}{{f.Snapshot.File, "image/jpeg", int64(len(jpg))}, {clip.File, "video/mp4", clip.Bytes}} {
		req, _ := http.NewRequest("GET", r.srv.URL+"/api/v1/evidence/"+c.file, nil)
		req.Header.Set("Range", "bytes=0-99")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || len(body) != 100 || resp.Header.Get("Content-Type") != c.ctype ||
			resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-99/%d", c.size) {
			t.Fatalf("%s: %d %q %q, %d bytes", c.file, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Range"), len(body))
		}
	}

	// Listed, edited, withdrawn.
	var list struct{ Findings []store.Finding }
	if status, _ := r.call(t, "GET", "/api/v1/findings", "", nil, &list); status != 200 || len(list.Findings) != 1 || list.Findings[0].ID != f.ID {
		t.Fatalf("list: %d %+v", status, list)
	}
	if status, _ := r.call(t, "GET", "/api/v1/findings?since="+time.Now().Add(time.Hour).Format(time.RFC3339), "", nil, &list); status != 200 || len(list.Findings) != 0 {
		t.Fatalf("list since later: %d %+v", status, list)
	}
	var edited store.Finding
	if status := r.send(t, "PATCH", "/api/v1/findings/"+f.ID, map[string]any{"note": "第二次", "severity": "critical"}, &edited); status != 200 ||
		edited.Note != "第二次" || edited.Severity != "critical" || edited.Revision != 2 {
		t.Fatalf("edit: %d %+v", status, edited)
	}
	var bad apiError
	if status := r.send(t, "PATCH", "/api/v1/findings/"+f.ID, map[string]any{"severity": "urgent"}, &bad); status != 400 || bad.Error.Field != "severity" {
		t.Fatalf("bad edit: %d %+v", status, bad)
	}
	if status := r.send(t, "POST", "/api/v1/findings/"+f.ID+"/withdraw", map[string]any{"reason": ""}, &bad); status != 400 || bad.Error.Field != "reason" {
		t.Fatalf("withdraw without reason: %d %+v", status, bad)
	}
	var withdrawn store.Finding
	if status := r.send(t, "POST", "/api/v1/findings/"+f.ID+"/withdraw", map[string]any{"reason": "看错了"}, &withdrawn); status != 200 ||
		withdrawn.Status != "withdrawn" || withdrawn.StatusNote != "看错了" {
		t.Fatalf("withdraw: %d %+v", status, withdrawn)
	}
	if status := r.send(t, "POST", "/api/v1/findings/"+f.ID+"/withdraw", map[string]any{"reason": "again"}, &bad); status != 409 {
		t.Fatalf("withdrawing twice: %d %+v", status, bad)
	}
	for _, path := range []string{"/api/v1/findings/nope", "/api/v1/evidence/nope.jpg"} {
		if status, _ := r.call(t, "GET", path, "", nil, &bad); status != 404 {
			t.Fatalf("%s: %d", path, status)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFlagRefusesBadInput(t *testing.T) {
	r := newRig(t, rigOptions{maxSnapshotBytes: 256 << 10})
	v := r.watch(t, doff1, time.Second)
	pts := v.onScreen(t).PTS
	jpg := snapshot(t, 320, 240, 2)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewRGBA(image.Rect(0, 0, 320, 240))); err != nil {
		t.Fatal(err)
	}
	// Noise compresses badly: a JPEG well over the 256 KiB cap.
	big := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
	for i := range big.Pix {
		big.Pix[i] = uint8(i*7919 + i/13*104729)
	}
	var bigBuf bytes.Buffer
	if err := jpeg.Encode(&bigBuf, big, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	if bigBuf.Len() <= 512<<10 {
		t.Fatalf("the oversized JPEG is only %d bytes", bigBuf.Len())
	}
	// A JPEG just over the cap, its body within the body's: readers stop
	// at the end-of-image marker, so trailing bytes leave it a JPEG.
	padded := append(append([]byte(nil), jpg...), make([]byte, 260<<10)...)

	with := func(changes map[string]any) []byte {
		b := flagBody(t, pts, jpg)
		for k, v := range changes {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return mustJSON(t, b)
	}
	b64 := base64.StdEncoding.EncodeToString
	cases := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		code, field string
	}{
		{"unknown camera", "", with(map[string]any{"camera": "site-01/nope"}), 400, "unknown_camera", "camera"},
		{"not site/camera", "", with(map[string]any{"camera": "doff1"}), 400, "invalid_field", "camera"},
		{"camera not pulled", "", with(map[string]any{"camera": "site-01/doff2"}), 409, "camera_not_pulled", "camera"},
		{"stream not pulled", "", with(map[string]any{"stream": "sub"}), 409, "camera_not_pulled", "camera"},
		{"bad stream", "", with(map[string]any{"stream": "hd"}), 400, "invalid_field", "stream"},
		{"bad severity", "", with(map[string]any{"severity": "urgent"}), 400, "invalid_field", "severity"},
		{"severity of the wrong type", "", with(map[string]any{"severity": 3}), 400, "invalid_field", "severity"},
		{"no severity or catalogue entry", "", with(map[string]any{"severity": nil, "deviation": nil}), 400, "invalid_field", "severity"},
		{"no pts", "", with(map[string]any{"pts_us": nil}), 400, "invalid_field", "pts_us"},
		{"negative pts", "", with(map[string]any{"pts_us": -1}), 400, "invalid_field", "pts_us"},
		{"unknown template", "", with(map[string]any{"template_id": "juggling"}), 400, "unknown_template", "template_id"},
		{"unknown template version", "", with(map[string]any{"template_version": 7}), 400, "unknown_template", "template_id"},
		{"unknown step", "", with(map[string]any{"step": "dance"}), 400, "invalid_field", "step"},
		{"unknown deviation", "", with(map[string]any{"deviation": "sneezed"}), 400, "invalid_field", "deviation"},
		{"step without template", "", with(map[string]any{"template_id": nil}), 400, "invalid_field", "step"},
		{"no words", "", with(map[string]any{"deviation_text": " ", "deviation": nil}), 400, "invalid_field", "deviation_text"},
		{"deadline in the past", "", with(map[string]any{"deadline": time.Now().Add(-time.Hour).Format(time.RFC3339)}), 400, "invalid_field", "deadline"},
		{"deadline not RFC 3339", "", with(map[string]any{"deadline": "tomorrow"}), 400, "invalid_field", "deadline"},
		{"no deadline or catalogue entry", "", with(map[string]any{"deadline": nil, "deviation": nil}), 400, "invalid_field", "deadline"},
		{"no snapshot", "", with(map[string]any{"snapshot": nil}), 400, "invalid_field", "snapshot"},
		{"snapshot not base64", "", with(map[string]any{"snapshot": "%%%"}), 400, "invalid_field", "snapshot"},
		{"snapshot a PNG", "", with(map[string]any{"snapshot": b64(pngBuf.Bytes())}), 400, "invalid_field", "snapshot"},
		{"snapshot a PNG data URL", "", with(map[string]any{"snapshot": "data:image/png;base64," + b64(pngBuf.Bytes())}), 400, "invalid_field", "snapshot"},
		{"snapshot a broken JPEG", "", with(map[string]any{"snapshot": b64([]byte{0xff, 0xd8, 0xff, 0xd9})}), 400, "invalid_field", "snapshot"},
		{"snapshot over its cap", "", with(map[string]any{"snapshot": b64(padded)}), 413, "snapshot_too_large", "snapshot"},
		{"body over its cap", "", with(map[string]any{"snapshot": b64(bigBuf.Bytes()), "snapshot_width": 1600, "snapshot_height": 1200}), 413, "body_too_large", ""},
		{"snapshot of another size", "", with(map[string]any{"snapshot_width": 640}), 400, "invalid_field", "snapshot_width"},
		{"wrong content type", "text/plain", with(nil), 415, "bad_content_type", ""},
		{"no content type", "-", with(nil), 415, "bad_content_type", ""},
		{"not JSON", "", []byte(`{"camera":`), 400, "bad_request", ""},
		{"two JSON values", "", append(with(nil), []byte(` {}`)...), 400, "bad_request", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctype := c.contentType
			switch ctype {
			case "":
				ctype = "application/json"
			case "-":
				ctype = ""
			}
			var bad apiError
			status, _ := r.call(t, "POST", "/api/v1/findings", ctype, c.body, &bad)
			if status != c.status || (c.code != "" && bad.Error.Code != c.code) || bad.Error.Field != c.field || bad.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s field %q", status, bad.Error, c.status, c.code, c.field)
			}
		})
	}
	db := r.db(t)
	for _, table := range []string{"findings", "evidence", "finding_events", "outbox"} {
		if n := count(t, db, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%d rows in %s after refused flags", n, table)
		}
	}
	if files := r.evidenceFiles(t); len(files) != 0 {
		t.Errorf("evidence files after refused flags: %v", files)
	}
}

func TestFlagOfAFrameNoLongerBufferedTakesTheFlagTime(t *testing.T) {
	r := newRig(t, rigOptions{})
	v := r.watch(t, doff1, time.Second)
	pts := v.onScreen(t).PTS
	body := flagBody(t, pts+time.Hour, snapshot(t, 320, 240, 3))
	// The catalogue fills severity, words and deadline.
	delete(body, "severity")
	delete(body, "deviation_text")
	delete(body, "deadline")
	before := time.Now()
	var f store.Finding
	if status := r.send(t, "POST", "/api/v1/findings", body, &f); status != 201 {
		t.Fatalf("flag: %d", status)
	}
	if f.ObservedAt.Before(before) || f.ObservedAt.After(time.Now()) {
		t.Fatalf("observed at %v, want the flag's time", f.ObservedAt)
	}
	if f.Severity != "major" || f.DeviationText != "脱卸顺序错误" || f.Deadline.Sub(f.FlaggedAt).Round(time.Minute) != 48*time.Hour {
		t.Fatalf("catalogue defaults not applied: %+v", f)
	}
	events, err := r.store.Events(context.Background(), f.ID)
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
	if clip := r.waitClip(t, f.ID, clipAfter+within); clip.State != "complete" {
		t.Fatalf("clip %+v", clip)
	}
}

func TestFlagNeedsASignedInObserver(t *testing.T) {
	for _, c := range []struct {
		name string
		opts rigOptions
		code string
	}{
		{"signed out", rigOptions{signedOut: true}, "signed_out"},
		{"session expired", rigOptions{expired: true}, "session_expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.opts)
			v := r.watch(t, doff1, time.Second)
			var bad apiError
			if status := r.send(t, "POST", "/api/v1/findings", flagBody(t, v.onScreen(t).PTS, snapshot(t, 320, 240, 4)), &bad); status != 401 || bad.Error.Code != c.code {
				t.Fatalf("flag: %d %+v, want 401 %s", status, bad, c.code)
			}
			if n := count(t, r.db(t), "SELECT count(*) FROM findings"); n != 0 {
				t.Fatalf("%d findings stored", n)
			}
		})
	}
}

func TestEvidenceServesOnlyKnownFiles(t *testing.T) {
	r := newRig(t, rigOptions{})
	// A file in the evidence folder that no finding refers to.
	stray := strings.Repeat("ab", 32) + ".jpg"
	if err := os.WriteFile(filepath.Join(r.dataDir, "evidence", stray), snapshot(t, 16, 16, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, code string }{
		{"/api/v1/evidence/" + stray, "unknown_evidence"},
		{"/api/v1/evidence/..%2fconsole.db", "unknown_evidence"},
		{"/api/v1/evidence/", "not_found"},
	}
	for _, c := range cases {
		var bad apiError
		if status, _ := r.call(t, "GET", c.path, "", nil, &bad); status != 404 || bad.Error.Code != c.code {
			t.Errorf("%s: %d %+v, want 404 %s", c.path, status, bad.Error, c.code)
		}
	}
	var bad apiError
	if status, hdr := r.call(t, "DELETE", "/api/v1/findings", "", nil, &bad); status != 405 || hdr.Get("Allow") != "GET, HEAD, POST" {
		t.Fatalf("DELETE findings: %d, Allow %q", status, hdr.Get("Allow"))
	}
}

func TestChecklistsFollowTheFolder(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, rigOptions{templates: dir})
	list := func() (ids []string, problems []string) {
		var got struct {
			Templates []struct{ ID string } `json:"templates"`
			Problems  []string              `json:"problems"`
		}
		if status, _ := r.call(t, "GET", "/api/v1/checklists", "", nil, &got); status != 200 {
			t.Fatalf("status %d", status)
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
