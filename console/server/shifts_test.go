package server

import (
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestShiftsAPI: the view's shift and handover calls reach the real relay
// and answer its bodies; the relay's refusals keep their status and code;
// a handover while the relay is down is 503 relay_unreachable, recording
// nothing, and the same request once it is back is the handover.
func TestShiftsAPI(t *testing.T) {
	c, relay := newConsole(t)
	h := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Trusted: true, Log: zerolog.Nop(),
		Shifts: func() (Shifts, error) { return c.relay, nil }})

	var now wire.ShiftNow
	decoded(t, get(t, h, "GET", "/api/v1/shift", ""), http.StatusOK, &now)
	if now.You == nil || now.You.User != relay.Demo().User || now.Shift.Name["en"] == "" || now.LeftSeconds <= 0 {
		t.Fatalf("shift %+v", now)
	}
	var draft wire.HandoverDraft
	decoded(t, get(t, h, "GET", "/api/v1/handover/draft", ""), http.StatusOK, &draft)
	if len(draft.Checklist) != 5 || draft.Checklist[0].Key != wire.ItemFlagged {
		t.Fatalf("draft %+v", draft)
	}

	for _, tc := range []struct{ name, body, code string }{
		{"no id", `{"note":"n","checklist":[]}`, "invalid_field"},
		{"an unknown field", `{"id":"h-x","note":"n","officer":"someone"}`, "unknown_field"},
		{"an unknown key, the relay's refusal", `{"id":"h-x","note":"n","checklist":[{"key":"coffee","checked":true}]}`, "invalid_field"},
	} {
		if a := send(t, h, "POST", "/api/v1/handover", tc.body, jsonBody); a.status != http.StatusBadRequest || errorCode(t, a.body) != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.name, a.status, a.body, tc.code)
		}
	}

	body := `{"id":"h-1","note":"交班：site-01 二号摄像头离线","checklist":[{"key":"overdue","checked":true}]}`
	relay.Stop(t)
	a := send(t, h, "POST", "/api/v1/handover", body, jsonBody)
	if a.status != http.StatusServiceUnavailable || errorCode(t, a.body) != "relay_unreachable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("handing over with the relay down: %d %s", a.status, a.body)
	}
	relay.Resume(t)
	var ho wire.Handover
	decoded(t, send(t, h, "POST", "/api/v1/handover", body, jsonBody), http.StatusCreated, &ho)
	if ho.ID != "h-1" || ho.By != relay.Demo().User || !ho.Checklist[2].Checked {
		t.Fatalf("handover %+v", ho)
	}
	decoded(t, send(t, h, "POST", "/api/v1/handover", body, jsonBody), http.StatusOK, &ho)

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"off duty", "POST", "/api/v1/handover", `{"id":"h-2","note":"again"}`, http.StatusConflict, "not_on_duty"},
		{"no such handover", "POST", "/api/v1/handover/nope/receipt", "", http.StatusNotFound, "unknown_handover"},
	} {
		if a := send(t, h, tc.method, tc.path, tc.body, jsonBody); a.status != tc.status || errorCode(t, a.body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, a.status, a.body, tc.status, tc.code)
		}
	}
	var view wire.HandoverView
	decoded(t, get(t, h, "GET", "/api/v1/handover/current", ""), http.StatusOK, &view)
	if len(view.Handovers) != 1 || view.Handovers[0].Note != "交班：site-01 二号摄像头离线" {
		t.Fatalf("current %+v", view)
	}
	decoded(t, send(t, h, "POST", "/api/v1/handover/h-1/receipt", "", nil), http.StatusOK, &ho)
	if len(ho.Receipts) != 1 {
		t.Fatalf("receipt %+v", ho)
	}

	out := New(Options{Assets: assets, Console: c, Wall: newWall(t), Secret: token, Trusted: true, Log: zerolog.Nop(),
		Shifts: func() (Shifts, error) { return nil, fault.New(fault.Unauthenticated, "signed_out", "not signed in") }})
	if a := get(t, out, "GET", "/api/v1/shift", ""); a.status != http.StatusUnauthorized || errorCode(t, a.body) != "signed_out" {
		t.Fatalf("signed out: %d %s", a.status, a.body)
	}
}
