package relayclient

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestContractShifts: the shift and who is on duty, a handover written by
// one duty officer and confirmed by another, and the relay's refusals as
// Errors with their status and code. (Beside contract_test.go, like the
// runs', so that its tables stay their owners'.)
func TestContractShifts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const password = "a long test password"
	r := relaytest.Start(t, relaytest.Options{
		Config: relaytest.UsersConfig(t, relaytest.User{Name: "officer-b", Role: "duty", Password: password})})
	creds := r.Demo()
	a := signIn(t, r.URL(), creds.User, creds.Password)

	now, err := a.Shift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if now.Shift.ID == "" || now.Shift.Name["zh-CN"] == "" || now.Shift.Name["en"] == "" ||
		!now.Shift.End.After(now.Now) || now.LeftSeconds <= 0 || now.You == nil || now.You.User != creds.User ||
		now.You.By != wire.DutyBySignIn || len(now.OnDuty) != 1 || !now.Next.Start.Equal(now.Shift.End) {
		t.Fatalf("the shift as A signed in: %+v", now)
	}
	if d, started, err := a.StartDuty(ctx); err != nil || started || d.User != creds.User {
		t.Fatalf("starting duty while on: %+v started %v, %v; want the duty as it is", d, started, err)
	}

	draft, err := a.HandoverDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{wire.ItemFlagged, wire.ItemRecheck, wire.ItemOverdue, wire.ItemCamerasDown, wire.ItemUnderwatched}
	if draft.Shift.ID != now.Shift.ID || len(draft.Checklist) != len(keys) {
		t.Fatalf("draft %+v", draft)
	}
	for i, k := range keys {
		if draft.Checklist[i].Key != k {
			t.Fatalf("checklist item %d is %q, want %q", i, draft.Checklist[i].Key, k)
		}
	}

	req := wire.HandoverRequest{ID: "handover-contract-1", Note: "夜班：site-01 脱卸间二号摄像头离线",
		Checklist: []wire.ChecklistMark{{Key: wire.ItemCamerasDown, Checked: true}}}
	h, created, err := a.Handover(ctx, req)
	if err != nil || !created {
		t.Fatalf("handing over: created %v, %v", created, err)
	}
	if h.ID != req.ID || h.By != creds.User || h.Note != req.Note || h.Shift.ID != now.Shift.ID || len(h.Checklist) != len(keys) ||
		!h.Checklist[3].Checked || h.Checklist[0].Checked || len(h.Receipts) != 0 {
		t.Fatalf("handover %+v", h)
	}
	if again, created, err := a.Handover(ctx, req); err != nil || created || again.ID != h.ID || !again.At.Equal(h.At) {
		t.Fatalf("the same handover again: %+v created %v, %v; want it as done", again, created, err)
	}
	if now, err := a.Shift(ctx); err != nil || now.You != nil {
		t.Fatalf("A after handing over: %+v, %v; want off duty", now, err)
	}

	b := signIn(t, r.URL(), "officer-b", password)
	view, err := b.CurrentHandover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if view.Shift == nil || view.Shift.ID != now.Shift.ID || len(view.Handovers) != 1 || view.Handovers[0].Note != req.Note || view.Received {
		t.Fatalf("B's handover screen: %+v", view)
	}
	got, err := b.ConfirmHandover(ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Receipts) != 1 || got.Receipts[0].By != "officer-b" || got.Receipts[0].At.IsZero() {
		t.Fatalf("after B's receipt: %+v", got)
	}
	if view, err := b.CurrentHandover(ctx); err != nil || !view.Received {
		t.Fatalf("B's handover screen after the receipt: received %v, %v", view.Received, err)
	}

	mgr := signIn(t, r.URL(), creds.Managers[0], creds.ManagerPassword)
	refusals := []struct {
		name   string
		call   func() error
		status int
		code   string
	}{
		{"A hands over again, off duty", func() error {
			_, _, err := a.Handover(ctx, wire.HandoverRequest{ID: "handover-contract-2", Note: "again"})
			return err
		}, http.StatusConflict, "not_on_duty"},
		{"the id again with another note", func() error {
			_, _, err := b.Handover(ctx, wire.HandoverRequest{ID: req.ID, Note: "another"})
			return err
		}, http.StatusConflict, "conflict"},
		{"an unknown checklist key", func() error {
			_, _, err := b.Handover(ctx, wire.HandoverRequest{ID: "handover-contract-3", Checklist: []wire.ChecklistMark{{Key: "coffee"}}})
			return err
		}, http.StatusBadRequest, "invalid_field"},
		{"a receipt of no handover", func() error {
			_, err := b.ConfirmHandover(ctx, "no-such-handover")
			return err
		}, http.StatusNotFound, "unknown_handover"},
		{"a site manager's shift", func() error {
			_, err := mgr.Shift(ctx)
			return err
		}, http.StatusForbidden, "forbidden"},
		{"a site manager's handover screen", func() error {
			_, err := mgr.CurrentHandover(ctx)
			return err
		}, http.StatusForbidden, "forbidden"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			var rerr *Error
			if err := tc.call(); !errors.As(err, &rerr) || rerr.Status != tc.status || rerr.Code != tc.code || !Permanent(err) {
				t.Fatalf("%v; want the relay's %d %s", err, tc.status, tc.code)
			}
		})
	}
}
