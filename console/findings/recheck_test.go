package findings

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
)

func TestRecheckAndForwardState(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rigOptions{})
	at := time.Now().Add(-time.Minute).UTC()
	f, err := r.store.Create(ctx, store.Flag{
		Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: "漏做手卫生", Severity: "major",
		Observer: "duty", ObservedAt: at, Deadline: at.Add(48 * time.Hour), Snapshot: snapshot(t, 32, 18, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func() store.Finding {
		t.Helper()
		var got store.Finding
		if status, _ := r.call(t, http.MethodGet, "/api/v1/findings/"+f.ID, "", nil, &got); status != http.StatusOK {
			t.Fatalf("GET: %d", status)
		}
		return got
	}
	if got := get(); got.Forward == nil || got.Forward.State != store.ForwardLocal {
		t.Fatalf("forward state of a new finding: %+v", got.Forward)
	}
	var list struct{ Findings []json.RawMessage }
	r.call(t, http.MethodGet, "/api/v1/findings", "", nil, &list)
	var inList struct{ Forward store.Forward }
	if len(list.Findings) != 1 || json.Unmarshal(list.Findings[0], &inList) != nil || inList.Forward.State != store.ForwardLocal {
		t.Fatalf("forward state in the list: %s", list.Findings)
	}

	var e apiError
	if status := r.send(t, http.MethodPost, "/api/v1/findings/"+f.ID+"/verify", map[string]any{"note": "fine"}, &e); status != http.StatusConflict || e.Error.Code != "bad_transition" {
		t.Fatalf("verifying an open finding: %d %+v", status, e)
	}

	// Forwarded, and reported rectified by the site.
	entries, _ := r.store.Outbox(ctx, 0)
	for _, en := range entries {
		r.store.MarkSent(ctx, en.Seq)
	}
	if _, err := r.store.ApplyRelayChanges(ctx, "http://relay", 7, []store.RelayChange{{Cursor: 7, FindingID: f.ID, Status: "rectified",
		Event: store.RelayEvent{At: time.Now(), Actor: "mgr", Role: "site_manager", Action: "rectify", Detail: json.RawMessage(`{"note":"done"}`)}}}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got.Forward.State != store.ForwardForwarded || got.Status != "rectified" || got.StatusNote != "done" {
		t.Fatalf("after the site's rectification: %s %q %+v", got.Status, got.StatusNote, got.Forward)
	}

	bad := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"no note", "verify", map[string]any{"note": " "}, http.StatusBadRequest, "invalid_field", "note"},
		{"verify with a deadline", "verify", map[string]any{"note": "x", "deadline": "2030-01-01T00:00:00Z"}, http.StatusBadRequest, "invalid_field", "deadline"},
		{"deadline in the past", "reopen", map[string]any{"note": "x", "deadline": "2020-01-01T00:00:00Z"}, http.StatusBadRequest, "invalid_field", "deadline"},
		{"deadline not a time", "reopen", map[string]any{"note": "x", "deadline": "tomorrow"}, http.StatusBadRequest, "invalid_field", "deadline"},
		{"note not a string", "reopen", map[string]any{"note": 3}, http.StatusBadRequest, "invalid_field", "note"},
	}
	for _, c := range bad {
		var e apiError
		if status := r.send(t, http.MethodPost, "/api/v1/findings/"+f.ID+"/"+c.path, c.body, &e); status != c.status || e.Error.Code != c.code || e.Error.Field != c.field {
			t.Errorf("%s: %d %+v, want %d %s on %s", c.name, status, e, c.status, c.code, c.field)
		}
	}
	if status := r.send(t, http.MethodPost, "/api/v1/findings/nope/verify", map[string]any{"note": "x"}, &e); status != http.StatusNotFound {
		t.Fatalf("unknown finding: %d", status)
	}

	var reopened store.Finding
	before := time.Now()
	if status := r.send(t, http.MethodPost, "/api/v1/findings/"+f.ID+"/reopen", map[string]any{"note": "still no hand hygiene"}, &reopened); status != http.StatusOK {
		t.Fatalf("reopen: %d", status)
	}
	// Without a deadline the site gets as long again as it first had.
	if reopened.Status != "reopened" || reopened.Deadline.Before(before.Add(47*time.Hour)) || reopened.Forward.State != store.ForwardLocal {
		t.Fatalf("reopened: %s %v %+v", reopened.Status, reopened.Deadline, reopened.Forward)
	}
	if status := r.send(t, http.MethodPost, "/api/v1/findings/"+f.ID+"/verify", map[string]any{"note": "x"}, &e); status != http.StatusConflict {
		t.Fatalf("verifying a reopened finding: %d", status)
	}
}
