package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestOutboxCarriesEveryChangeInOrder(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Queued():
	default:
		t.Fatal("no signal after a flag")
	}
	newDeadline := f.Deadline.Add(24 * time.Hour)
	if _, err := s.Update(ctx, f.ID, "duty", Edit{Note: ptr("gloves too"), Deadline: &newDeadline}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, f.ID, "duty", Edit{Severity: ptr("critical")}); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishClip(ctx, f.ID, true, f.ObservedAt, 30*time.Second, 640, 360); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Withdraw(ctx, f.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind string
		rev  int
	}
	wants := []want{{"finding", 1}, {"finding", 2}, {"finding", 3}, {"evidence", 0}, {"finding", 4}}
	if len(entries) != len(wants) {
		t.Fatalf("%d entries, want %d: %+v", len(entries), len(wants), entries)
	}
	for i, w := range wants {
		if e := entries[i]; e.Kind != w.kind || e.Revision != w.rev || e.FindingID != f.ID {
			t.Fatalf("entry %d is %+v, want %+v", i, e, w)
		}
	}

	// The finding as flagged is what the relay gets first, whatever
	// was edited since.
	orig, err := s.Original(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Note != "" || orig.Severity != "major" || !orig.Deadline.Equal(f.Deadline) || orig.Status != "open" || orig.Revision != 1 {
		t.Fatalf("original %+v", orig)
	}

	changes := []struct {
		entry  int
		action string
		note   string
		detail string
	}{
		{1, "edited", "gloves too", "note"},
		{2, "edited", "gloves too", "severity"},
		{4, "withdrawn", "gloves too", "reason"},
	}
	for _, c := range changes {
		got, err := s.ChangeOf(ctx, entries[c.entry])
		if err != nil {
			t.Fatal(err)
		}
		if got.Action != c.action || got.Note != c.note || got.Detail[c.detail] == nil || got.Actor != "duty" {
			t.Errorf("change of entry %d: %+v, want %s with note %q and %s", c.entry, got, c.action, c.note, c.detail)
		}
	}
	if _, err := s.ChangeOf(ctx, entries[0]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the flag is not a change: %v", err)
	}
}

func TestForwardStateFollowsTheOutbox(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	state := func() Forward {
		t.Helper()
		got, err := s.Get(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Forward == nil {
			t.Fatal("no forward state")
		}
		return *got.Forward
	}
	if st := state(); st.State != ForwardLocal || st.At.IsZero() {
		t.Fatalf("new finding: %+v", st)
	}
	entries, _ := s.Outbox(ctx, 0)
	next := time.Now().Add(time.Minute)
	if err := s.RecordAttempt(ctx, entries[0].Seq, "relay unreachable", next); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.State != ForwardFailing || st.Error != "relay unreachable (retrying)" || !st.Retrying {
		t.Fatalf("after a failed attempt: %+v", st)
	}
	if got, _ := s.Outbox(ctx, 0); len(got) != 1 || got[0].Attempts != 1 || !got[0].NextAttempt.Equal(next.Truncate(time.Millisecond)) {
		t.Fatalf("entry after a failed attempt: %+v", got)
	}
	if err := s.MarkSent(ctx, entries[0].Seq); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.State != ForwardForwarded || st.Error != "" {
		t.Fatalf("after sending: %+v", st)
	}
	if _, err := s.Withdraw(ctx, f.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.State != ForwardLocal {
		t.Fatalf("with a change queued: %+v", st)
	}
	entries, _ = s.Outbox(ctx, 0)
	if err := s.MarkFailed(ctx, entries[0].Seq, "relay answered 409 bad_transition"); err != nil {
		t.Fatal(err)
	}
	if st := state(); st.State != ForwardFailing || st.Error != "relay answered 409 bad_transition" {
		t.Fatalf("after a refusal: %+v", st)
	}
	if got, _ := s.Outbox(ctx, 0); len(got) != 0 {
		t.Fatalf("a refused entry is still pending: %+v", got)
	}
	if err := s.MarkSent(ctx, 99999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown entry: %v", err)
	}
}

func TestRelayChangesAndRecheck(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	f, err := s.Create(ctx, flag())
	if err != nil {
		t.Fatal(err)
	}
	const relay = "http://127.0.0.1:1"
	at := time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)
	change := func(cursor int64, status, action string, detail string) RelayChange {
		return RelayChange{Cursor: cursor, FindingID: f.ID, Status: status, Deadline: f.Deadline,
			Event: RelayEvent{At: at, Actor: "site-mgr", Role: "site_manager", Action: action, Detail: json.RawMessage(detail)}}
	}

	// Not yet forwarded: the relay's status waits for the console's own.
	if _, err := s.ApplyRelayChanges(ctx, relay, 3, []RelayChange{change(3, "acknowledged", "acknowledge", `{}`)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, f.ID); got.Status != "open" {
		t.Fatalf("status %q taken over a change still queued", got.Status)
	}
	entries, _ := s.Outbox(ctx, 0)
	for _, e := range entries {
		s.MarkSent(ctx, e.Seq)
	}
	if _, err := s.Verify(ctx, f.ID, "duty", "looks fine"); !errors.Is(err, ErrTransition) {
		t.Fatalf("verify of an open finding: %v", err)
	}

	batch := []RelayChange{
		change(3, "rectified", "acknowledge", `{}`), // again: recorded once
		change(5, "rectified", "rectify", `{"note":"retrained the staff"}`),
		{Cursor: 6, FindingID: "someone-elses", Status: "open"},
	}
	n, err := s.ApplyRelayChanges(ctx, relay, 6, batch)
	if err != nil {
		t.Fatal(err)
	}
	// The repeated change moves the status (nothing was queued now),
	// the rectification adds its history; the stranger's is passed over.
	if n != 2 {
		t.Fatalf("%d applied, want 2", n)
	}
	got, _ := s.Get(ctx, f.ID)
	if got.Status != "rectified" || got.StatusNote != "retrained the staff" {
		t.Fatalf("after the relay's changes: %q %q", got.Status, got.StatusNote)
	}
	if c, err := s.RelayCursor(ctx, relay); err != nil || c != 6 {
		t.Fatalf("cursor %d %v", c, err)
	}
	if c, _ := s.RelayCursor(ctx, "http://127.0.0.1:2"); c != 0 {
		t.Fatalf("another relay's cursor is %d", c)
	}
	events, _ := s.Events(ctx, f.ID)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if want := "flagged acknowledge rectify"; join(actions) != want {
		t.Fatalf("history %q, want %q", join(actions), want)
	}

	newDeadline := at.Add(72 * time.Hour)
	reopened, err := s.Reopen(ctx, f.ID, "duty", "still no hand hygiene", newDeadline)
	if err != nil {
		t.Fatal(err)
	}
	if reopened.Status != "reopened" || !reopened.Deadline.Equal(newDeadline) || reopened.Forward.State != ForwardLocal {
		t.Fatalf("reopened %+v", reopened)
	}
	entries, _ = s.Outbox(ctx, 0)
	if len(entries) != 1 {
		t.Fatalf("%d entries after reopen", len(entries))
	}
	c, err := s.ChangeOf(ctx, entries[0])
	if err != nil || c.Action != "reopened" || c.Detail["deadline"] == nil || c.Detail["note"] != "still no hand hygiene" {
		t.Fatalf("reopen change %+v %v", c, err)
	}
	if _, err := s.Verify(ctx, f.ID, "duty", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("verify without a note: %v", err)
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// TestFindingsBoundToTheirRelay: a finding flagged under a relay is in
// that relay's outbox only, says it waits for it while no forwarder sends
// to it, and takes changes from it only.
func TestFindingsBoundToTheirRelay(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	const relayA, relayB = "https://relay-a.example", "https://relay-b.example"
	fl := flag()
	fl.Relay = relayA
	f, err := s.Create(ctx, fl)
	if err != nil {
		t.Fatal(err)
	}
	if f.Relay != relayA {
		t.Fatalf("flagged under %q, want %q", f.Relay, relayA)
	}
	for relay, want := range map[string]int{relayA: 1, relayB: 0} {
		if es, err := s.OutboxFor(ctx, relay, 0); err != nil || len(es) != want {
			t.Fatalf("outbox of %s: %d entries (%v), want %d", relay, len(es), err, want)
		}
	}
	if _, err := s.OutboxFor(ctx, "", 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("outbox of no relay: %v", err)
	}

	forward := func() Forward {
		t.Helper()
		got, err := s.Get(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		return *got.Forward
	}
	entries, _ := s.OutboxFor(ctx, relayA, 0)
	if err := s.RecordAttempt(ctx, entries[0].Seq, "relay unreachable", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	doneA := s.Forwarding(relayA)
	if got := forward(); got.State != ForwardFailing || !got.Retrying || got.WaitingFor != "" {
		t.Fatalf("while A is forwarded to and unreachable: %+v", got)
	}
	doneA()
	doneA() // twice is once
	doneB := s.Forwarding(relayB)
	defer doneB()
	// A's attempts say nothing while the console is on B.
	if got := forward(); got.State != ForwardLocal || got.Retrying || got.Error != "" || got.WaitingFor != relayA {
		t.Fatalf("while B is forwarded to: %+v, want local waiting for %s", got, relayA)
	}

	// Only A's site moves A's finding.
	for _, e := range entries {
		if err := s.MarkSent(ctx, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if got := forward(); got.State != ForwardForwarded || got.WaitingFor != "" {
		t.Fatalf("delivered: %+v", got)
	}
	ack := func(cursor int64) []RelayChange {
		return []RelayChange{{Cursor: cursor, FindingID: f.ID, Status: "acknowledged", Deadline: f.Deadline,
			Event: RelayEvent{At: time.Now(), Actor: "mgr", Role: "site_manager", Action: "acknowledge", Detail: json.RawMessage(`{}`)}}}
	}
	if n, err := s.ApplyRelayChanges(ctx, relayB, 4, ack(4)); err != nil || n != 0 {
		t.Fatalf("B's change of A's finding: %d applied (%v), want passed over", n, err)
	}
	if n, err := s.ApplyRelayChanges(ctx, relayA, 9, ack(9)); err != nil || n != 1 {
		t.Fatalf("A's change of A's finding: %d applied (%v)", n, err)
	}
	if got, _ := s.Get(ctx, f.ID); got.Status != "acknowledged" {
		t.Fatalf("status %q after A's change", got.Status)
	}
}
