package findings

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
)

// create commits a finding observed a minute ago, due deadline after.
func (r *rig) create(t testing.TB, text string, deadline time.Duration) store.Finding {
	t.Helper()
	at := time.Now().Add(-time.Minute).UTC()
	f, err := r.store.Create(context.Background(), store.Flag{
		Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: text, Severity: "major",
		Observer: "duty", ObservedAt: at, Deadline: at.Add(deadline), Snapshot: snapshot(t, 32, 18, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRecheckAndForwardState(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rigOptions{})
	f := r.create(t, "漏做手卫生", 48*time.Hour)
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

// The re-check queue and the overdue ones are listed whatever their age;
// the plain list stays the last day.
func TestListFiltersByStatusAndOverdue(t *testing.T) {
	ctx := context.Background()
	later := time.Now().Add(72 * time.Hour) // every finding is three days old
	r := newRig(t, rigOptions{now: func() time.Time { return later }})
	rectified := r.create(t, "rectified", 96*time.Hour) // not yet due three days on
	open := r.create(t, "open", time.Hour)
	withdrawn := r.create(t, "withdrawn", time.Hour)
	at := open.ObservedAt
	if _, err := r.store.Withdraw(ctx, withdrawn.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	// Forwarded, so that the site's answer is taken.
	entries, _ := r.store.Outbox(ctx, 0)
	for _, en := range entries {
		if en.FindingID == rectified.ID {
			r.store.MarkSent(ctx, en.Seq)
		}
	}
	if _, err := r.store.ApplyRelayChanges(ctx, "http://relay", 3, []store.RelayChange{{Cursor: 3, FindingID: rectified.ID, Status: "rectified",
		Event: store.RelayEvent{At: time.Now(), Actor: "mgr", Role: "site_manager", Action: "rectify", Detail: json.RawMessage(`{"note":"done"}`)}}}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		query string
		want  []string
	}{
		{"", nil},
		{"?status=rectified", []string{rectified.ID}},
		{"?status=rectified,open", []string{open.ID, rectified.ID}},
		{"?overdue=1", []string{open.ID}},
		{"?overdue=true&status=rectified", nil},
		{"?overdue=0", []string{withdrawn.ID, rectified.ID}},
		{"?status=withdrawn&since=" + later.Add(-time.Hour).UTC().Format(time.RFC3339), nil},
		{"?since=" + at.Add(-time.Hour).Format(time.RFC3339), []string{withdrawn.ID, open.ID, rectified.ID}},
	}
	for _, c := range cases {
		var list struct{ Findings []store.Finding }
		if status, _ := r.call(t, http.MethodGet, "/api/v1/findings"+c.query, "", nil, &list); status != http.StatusOK {
			t.Errorf("%s: %d", c.query, status)
			continue
		}
		var got []string
		for _, f := range list.Findings {
			got = append(got, f.ID)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}

	for _, c := range []struct{ query, field, names string }{
		{"?status=rectified,fixed", "status", `"fixed"`},
		{"?status=", "", ""},
		{"?overdue=maybe", "overdue", `"maybe"`},
		{"?status=open&since=yesterday", "since", `"yesterday"`},
	} {
		var e apiError
		status, _ := r.call(t, http.MethodGet, "/api/v1/findings"+c.query, "", nil, &e)
		if c.field == "" {
			if status != http.StatusOK {
				t.Errorf("%s: %d", c.query, status)
			}
			continue
		}
		if status != http.StatusBadRequest || e.Error.Field != c.field || !strings.Contains(e.Error.Message, c.names) {
			t.Errorf("%s: %d %+v, want 400 naming %s", c.query, status, e, c.names)
		}
	}
}

func TestRetryPutsRefusedChangesBack(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rigOptions{})
	f := r.create(t, "漏做手卫生", 48*time.Hour)
	var e apiError
	if status := r.send(t, http.MethodPost, "/api/v1/findings/"+f.ID+"/retry", nil, &e); status != http.StatusConflict || e.Error.Code != "nothing_failing" {
		t.Fatalf("retrying a finding nothing failed of: %d %+v", status, e)
	}
	if status := r.send(t, http.MethodPost, "/api/v1/findings/nope/retry", nil, &e); status != http.StatusNotFound || e.Error.Code != "unknown_finding" {
		t.Fatalf("retrying an unknown finding: %d %+v", status, e)
	}
	entries, _ := r.store.Outbox(ctx, 0)
	if len(entries) != 1 {
		t.Fatalf("%d outbox entries", len(entries))
	}
	if err := r.store.MarkFailed(ctx, entries[0].Seq, "relay answered 404 unknown_site: site-01"); err != nil {
		t.Fatal(err)
	}
	var got store.Finding
	if status, _ := r.call(t, http.MethodGet, "/api/v1/findings/"+f.ID, "", nil, &got); status != http.StatusOK || got.Forward.State != store.ForwardFailing {
		t.Fatalf("failed: %d %+v", status, got.Forward)
	}
	select {
	case <-r.store.Queued(): // drain the signal of the failure's commit
	default:
	}
	if status := r.send(t, http.MethodPost, "/api/v1/findings/"+f.ID+"/retry", nil, &got); status != http.StatusOK || got.Forward.State != store.ForwardLocal {
		t.Fatalf("retry: %d %+v", status, got.Forward)
	}
	select {
	case <-r.store.Queued():
	case <-time.After(5 * time.Second):
		t.Fatal("the retry did not wake the forwarder")
	}
	if entries, _ := r.store.Outbox(ctx, 0); len(entries) != 1 {
		t.Fatalf("outbox after the retry: %+v", entries)
	}
}
