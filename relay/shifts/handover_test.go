package shifts_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// Password is the password of the test's own users.
const password = "a long test password"

// dutyRoom starts a real relay with two cameras publishing, the clock at
// 19:00 in Shanghai (the day shift), a second duty officer (officer-b) and
// a supervisor (sup) besides the demo's duty officer and site managers.
func dutyRoom(t *testing.T) (*relaytest.Relay, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 12, 2, 19, 0, 0, 0, shanghai))
	r := relaytest.Start(t, relaytest.Options{Cameras: []string{"site-01/doff1", "site-01/doff2"}, Now: clock.Now,
		Config: relaytest.UsersConfig(t, relaytest.User{Name: "officer-b", Role: "duty", Password: password}, relaytest.User{Name: "sup", Role: "supervisor", Password: password})})
	return r, clock
}

// call makes a request as c and decodes the answer, which must be want.
func call[T any](t *testing.T, c *apitest.Client, method, path string, body []byte, want int) T {
	t.Helper()
	var v T
	var header map[string]string
	if body != nil {
		header = apitest.JSON
	}
	status, b := c.Do(method, path, header, body)
	if status != want {
		t.Fatalf("status %d, want %d: %s", status, want, b)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func file(t *testing.T, c *apitest.Client, id string, flagged, deadline time.Time) {
	t.Helper()
	d := wire.Draft{ID: id, Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", Deviation: "wrong_order",
		DeviationText: "脱卸顺序错误 " + id, Severity: "major", Observer: "duty", ObservedAt: flagged, FlaggedAt: flagged, Deadline: deadline}
	body, _ := json.Marshal(d)
	if status, b := c.Do("PUT", "/api/v1/findings/"+id, apitest.JSON, body); status != 201 {
		t.Fatalf("filing %s: %d %s", id, status, b)
	}
}

// cameraState is the state the relay recorded last of camera (site/id).
func cameraState(t *testing.T, r *relaytest.Relay, site, id string) string {
	var status string
	_ = r.DB(t).QueryRow(`SELECT status FROM camera_states WHERE site_id = ? AND camera_id = ? AND until IS NULL`, site, id).Scan(&status)
	return status
}

// TestHandover: officer A (the demo's duty officer) is on duty from
// signing in, flags two findings, sees a camera go offline, and hands over
// at 19:55 with a note; officer B, signing in at 20:05, sees the note, A's
// findings, the overdue one and the offline camera with its time down in
// the shift, and confirms; the relay records both with times and names.
func TestHandover(t *testing.T) {
	r, clock := dutyRoom(t)
	a := apitest.SignIn(t, r.URL(), r.Demo().User, r.Demo().Password)
	now := call[wire.ShiftNow](t, a, "GET", "/api/v1/shift", nil, 200)
	if now.Shift.ID != "day" || now.LeftSeconds != 3600 || len(now.OnDuty) != 1 || now.You == nil || now.You.By != wire.DutyBySignIn {
		t.Fatalf("shift at 19:00: %+v", now)
	}
	start := clock.Now()
	file(t, a, "f-overdue", start, start.Add(30*time.Minute))
	file(t, a, "f-open", start, start.Add(4*time.Hour))

	eventually.True(t, 30*time.Second, "site-01/doff2 recorded online", func() bool { return cameraState(t, r, "site-01", "doff2") == "online" })
	r.SetOnline(t, "site-01/doff2", false)
	eventually.True(t, 30*time.Second, "site-01/doff2 recorded offline", func() bool { return cameraState(t, r, "site-01", "doff2") == "offline" })

	clock.Advance(55 * time.Minute) // 19:55
	draft := call[wire.HandoverDraft](t, a, "GET", "/api/v1/handover/draft", nil, 200)
	items := map[string][]string{}
	for _, it := range draft.Checklist {
		items[it.Key] = it.Refs
	}
	if draft.Shift.ID != "day" || len(items[wire.ItemFlagged]) != 2 || fmt.Sprint(items[wire.ItemOverdue]) != "[f-overdue]" ||
		!slices.Contains(items[wire.ItemCamerasDown], "site-01/doff2") ||
		!slices.Contains(items[wire.ItemUnderwatched], "site-01") {
		t.Fatalf("suggested checklist: %+v", draft)
	}
	note := "一脱间 f-overdue 已超期,请回头看;二脱间掉线。"
	body, _ := json.Marshal(wire.HandoverRequest{ID: "h-1", Note: note, Checklist: []wire.ChecklistMark{{Key: wire.ItemOverdue, Checked: true}}})
	call[wire.Handover](t, a, "POST", "/api/v1/handover", body, 201)
	status, b := a.Do("POST", "/api/v1/handover", apitest.JSON, body)
	if status != 200 {
		t.Fatalf("the same handover again: %d %s", status, b)
	}
	if now := call[wire.ShiftNow](t, a, "GET", "/api/v1/shift", nil, 200); len(now.OnDuty) != 0 || now.You != nil {
		t.Fatalf("A handed over but is on duty: %+v", now)
	}

	clock.Advance(10 * time.Minute) // 20:05
	b2 := apitest.SignIn(t, r.URL(), "officer-b", password)
	view := call[wire.HandoverView](t, b2, "GET", "/api/v1/handover/current", nil, 200)
	var ids, overdue []string
	for _, f := range view.Flagged {
		ids = append(ids, f.ID)
	}
	for _, f := range view.Overdue {
		overdue = append(overdue, f.ID)
	}
	slices.Sort(ids)
	if view.Shift == nil || view.Shift.ID != "day" || len(view.Handovers) != 1 || view.Handovers[0].Note != note ||
		view.Handovers[0].By != r.Demo().User || fmt.Sprint(ids) != "[f-open f-overdue]" || fmt.Sprint(overdue) != "[f-overdue]" || view.Received {
		t.Fatalf("B's handover screen: %+v", view)
	}
	if !view.Handovers[0].Checklist[2].Checked || view.Handovers[0].Checklist[2].Key != wire.ItemOverdue {
		t.Errorf("A's tick is not kept: %+v", view.Handovers[0].Checklist)
	}
	i := slices.IndexFunc(view.Cameras, func(c wire.CameraDown) bool { return c.Site == "site-01" && c.Camera == "doff2" })
	if i < 0 || view.Cameras[i].Status != "offline" || view.Cameras[i].DownSeconds != 3600 {
		t.Fatalf("the offline camera on B's screen: %+v", view.Cameras)
	}
	// doff1 published throughout: it is online now. (The clock's jumps may
	// make it stalled for a moment, between its frames, and then listed as
	// down for a while in the shift.)
	eventually.True(t, 30*time.Second, "site-01/doff1, publishing, online on B's screen", func() bool {
		v := call[wire.HandoverView](t, b2, "GET", "/api/v1/handover/current", nil, 200)
		i := slices.IndexFunc(v.Cameras, func(c wire.CameraDown) bool { return c.Site == "site-01" && c.Camera == "doff1" })
		return i < 0 || v.Cameras[i].Status == "online"
	})
	if !slices.ContainsFunc(view.Underwatched, func(s wire.SiteCoverage) bool { return s.Site == "site-02" }) {
		t.Errorf("site-02, never watched, is not under-watched: %+v", view.Underwatched)
	}

	got := call[wire.Handover](t, b2, "POST", "/api/v1/handover/h-1/receipt", nil, 200)
	if len(got.Receipts) != 1 || got.Receipts[0].By != "officer-b" || !got.Receipts[0].At.Equal(clock.Now()) {
		t.Fatalf("receipt: %+v", got.Receipts)
	}
	if view := call[wire.HandoverView](t, b2, "GET", "/api/v1/handover/current", nil, 200); !view.Received {
		t.Errorf("B confirmed, the screen says not")
	}
	// What the relay keeps: A's handover at 19:55, B's receipt at 20:05.
	var by, at, receiver, receivedAt string
	if err := r.DB(t).QueryRow(`SELECT h.by_user, h.at, r.user_name, r.at FROM handovers h JOIN handover_receipts r ON r.handover_id = h.id
		WHERE h.id = 'h-1'`).Scan(&by, &at, &receiver, &receivedAt); err != nil {
		t.Fatal(err)
	}
	if by != r.Demo().User || !sameTime(at, start.Add(55*time.Minute)) || receiver != "officer-b" || !sameTime(receivedAt, start.Add(65*time.Minute)) {
		t.Errorf("recorded: handover by %s at %s, received by %s at %s", by, at, receiver, receivedAt)
	}
}

func sameTime(s string, want time.Time) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && t.Equal(want)
}

// TestShiftRoles: a site manager is refused the duty room's shift, handover
// and coverage (403); refusals name the error.
func TestShiftRoles(t *testing.T) {
	r, _ := dutyRoom(t)
	mgr := apitest.SignIn(t, r.URL(), r.Demo().Managers[0], r.Demo().ManagerPassword)
	duty := apitest.SignIn(t, r.URL(), r.Demo().User, r.Demo().Password)
	sup := apitest.SignIn(t, r.URL(), "sup", password)
	for _, c := range []struct {
		who          *apitest.Client
		name         string
		method, path string
		want         int
	}{
		{mgr, "manager", "GET", "/api/v1/shift", 403},
		{mgr, "manager", "POST", "/api/v1/duty/start", 403},
		{mgr, "manager", "GET", "/api/v1/handover/current", 403},
		{mgr, "manager", "GET", "/api/v1/handover/draft", 403},
		{mgr, "manager", "GET", "/api/v1/coverage", 403},
		{mgr, "manager", "GET", "/api/v1/coverage/moments", 403},
		{mgr, "manager", "GET", "/api/v1/coverage/unwatched", 403},
		{mgr, "manager", "GET", "/api/v1/coverage/watches?from=2026-12-02T00:00:00Z&to=2026-12-03T00:00:00Z", 403},
		{duty, "duty", "GET", "/api/v1/coverage/watches?from=2026-12-02T00:00:00Z&to=2026-12-03T00:00:00Z", 403},
		{duty, "duty", "GET", "/api/v1/coverage", 200},
		{sup, "supervisor", "GET", "/api/v1/coverage/watches?from=2026-12-02T00:00:00Z&to=2026-12-03T00:00:00Z", 200},
		{sup, "supervisor", "POST", "/api/v1/duty/start", 201},
		{sup, "supervisor", "POST", "/api/v1/duty/start", 200},
	} {
		t.Run(c.name+" "+c.method+" "+c.path, func(t *testing.T) {
			status, b := c.who.Do(c.method, c.path, nil, nil)
			if status != c.want {
				t.Fatalf("%d %s, want %d", status, b, c.want)
			}
			if e, ok := apitest.Refusal(b); c.want == 403 && (!ok || e.Code != "forbidden") {
				t.Errorf("refusal %s", b)
			}
		})
	}
}
