package forward

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

func ptr[T any](v T) *T { return &v }

func TestForwardsFindingsEvidenceAndChanges(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	st := openStore(t)

	// Edited before it was sent: the relay gets it as flagged, then the edit.
	edited, err := st.Create(ctx, flagOf(t, 1, false))
	if err != nil {
		t.Fatal(err)
	}
	deadline := edited.Deadline.Add(24 * time.Hour)
	if _, err := st.Update(ctx, edited.ID, "duty", store.Edit{Note: ptr("gloves off first"), Severity: ptr("critical"), Deadline: &deadline}); err != nil {
		t.Fatal(err)
	}
	withClip, err := st.Create(ctx, flagOf(t, 2, true))
	if err != nil {
		t.Fatal(err)
	}
	finishClip(t, st, withClip)
	withdrawn, err := st.Create(ctx, flagOf(t, 3, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Withdraw(ctx, withdrawn.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}

	runForwarder(t, st, duty, Options{})
	eventually.True(t, eventually.Ceiling, "the outbox drained", func() bool { return pending(t, st) == 0 })

	f, status := finding(t, duty, edited.ID)
	if status != http.StatusOK || f.Status != "open" || f.Note != "gloves off first" || f.Severity != "critical" || !f.Deadline.Equal(deadline) {
		t.Fatalf("edited finding at the relay: %d %+v", status, f)
	}
	snap := edited.Snapshot.SHA256
	if f.Evidence.Snapshot == nil || f.Evidence.Snapshot.SHA256 != snap {
		t.Fatalf("snapshot at the relay: %+v, want %s", f.Evidence.Snapshot, snap)
	}
	if got := actionsOf(f); got != "created evidence edit" {
		t.Fatalf("relay history %q", got)
	}

	f, _ = finding(t, duty, withClip.ID)
	local, _ := st.Get(ctx, withClip.ID)
	if f.Evidence.Clip == nil || f.Evidence.Clip.SHA256 != local.Clip.SHA256 {
		t.Fatalf("clip at the relay: %+v, want %s", f.Evidence.Clip, local.Clip.SHA256)
	}

	f, _ = finding(t, duty, withdrawn.ID)
	if f.Status != "withdrawn" {
		t.Fatalf("withdrawn finding is %q at the relay", f.Status)
	}

	for _, id := range []string{edited.ID, withClip.ID, withdrawn.ID} {
		got, _ := st.Get(ctx, id)
		if got.Forward == nil || got.Forward.State != store.ForwardForwarded || got.Forward.Error != "" {
			t.Errorf("forward state of %s: %+v", id, got.Forward)
		}
	}
	// Once forwarded, the console refuses edits: the site has it.
	if _, err := st.Update(ctx, edited.ID, "duty", store.Edit{Note: ptr("late")}); err != store.ErrForwarded {
		t.Fatalf("edit after forwarding: %v", err)
	}
}

func actionsOf(f wire.Finding) string {
	var out []string
	for _, e := range f.Events {
		out = append(out, e.Action)
	}
	return strings.Join(out, " ")
}

func TestRefusedChangeFailsWithTheReasonAndLaterOnesGoOn(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	st := openStore(t)
	f, err := st.Create(ctx, flagOf(t, 1, true))
	if err != nil {
		t.Fatal(err)
	}
	runForwarder(t, st, duty, Options{})
	eventually.True(t, eventually.Ceiling, "the flag forwarded", func() bool { return pending(t, st) == 0 })

	// The site rectifies it and another officer verifies it at the relay;
	// this officer's withdrawal, sent after, is refused for good: 409
	// bad_transition.
	mgr := asManager(t, tr)
	other := asDuty(t, tr)
	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-ack", Action: wire.ActAcknowledge, Note: "seen"})
	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-fix", Action: wire.ActRectify, Note: "fixed"})
	act(t, other, f.ID, wire.ActionRequest{ActionID: "elsewhere-1", Action: wire.ActVerify, Note: "checked"})
	if _, err := st.Withdraw(ctx, f.ID, "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	// The clip, queued after the refused change, still goes.
	finishClip(t, st, f)
	eventually.True(t, eventually.Ceiling, "the outbox settled", func() bool { return pending(t, st) == 0 })

	got, _ := st.Get(ctx, f.ID)
	if got.Forward == nil || got.Forward.State != store.ForwardFailing ||
		!strings.Contains(got.Forward.Error, "409") || !strings.Contains(got.Forward.Error, "bad_transition") {
		t.Fatalf("forward state %+v, want failing with 409 bad_transition", got.Forward)
	}
	// The console shows what the site sees, not the refused withdrawal.
	if got.Status != "verified" {
		t.Fatalf("status %q after the refusal, want the relay's verified", got.Status)
	}
	rf, _ := finding(t, duty, f.ID)
	if rf.Evidence.Clip == nil || rf.Evidence.Clip.SHA256 != got.Clip.SHA256 {
		t.Fatalf("the clip after the refused change did not reach the relay: %+v", rf.Evidence.Clip)
	}
}

// calls lists the proxy's calls for a finding as "METHOD rest-of-path",
// in order, leaving out those it failed.
func calls(p *relaytest.Proxy, id string) []string {
	var out []string
	for _, c := range p.Calls("/api/v1/findings/" + id) {
		if c.Status == 0 {
			out = append(out, c.Method+" "+strings.TrimPrefix(c.Path, "/api/v1/findings/"+id))
		}
	}
	return out
}

func TestEachFindingInOrderWithoutHoldingUpTheOthers(t *testing.T) {
	ctx := context.Background()
	relay := relaytest.Start(t, relaytest.Options{})
	// The real relay fails a finding only when it is unwell: a proxy fails
	// a's calls as one that is does.
	proxy := relaytest.NewProxy(t, relay.URL())
	st := openStore(t)
	a, _ := st.Create(ctx, flagOf(t, 1, true))
	b, _ := st.Create(ctx, flagOf(t, 2, true))
	for _, f := range []store.Finding{a, b} {
		if _, err := st.Update(ctx, f.ID, "duty", store.Edit{Note: ptr("first")}); err != nil {
			t.Fatal(err)
		}
		finishClip(t, st, f)
		if _, err := st.Withdraw(ctx, f.ID, "duty", "second"); err != nil {
			t.Fatal(err)
		}
	}
	// a's flag fails as a relay that is unwell does, b's goes through.
	proxy.Fail(a.ID, http.StatusServiceUnavailable)
	duty := relayclienttest.SignedIn(t, proxy.URL(), relay.Demo().User, relay.Demo().Password)
	runForwarder(t, st, duty, Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})

	want := []string{"PUT ", "PUT /evidence/snapshot", "POST /actions", "PUT /evidence/clip", "POST /actions"}
	eventually.True(t, eventually.Ceiling, "b delivered while a is held up", func() bool { return len(calls(proxy, b.ID)) == len(want) })
	if got := calls(proxy, a.ID); len(got) != 0 {
		t.Fatalf("a's later changes went before its flag: %q", got)
	}
	got, _ := st.Get(ctx, a.ID)
	if got.Forward.State != store.ForwardFailing || !strings.Contains(got.Forward.Error, "503") {
		t.Fatalf("a's forward state while retried: %+v", got.Forward)
	}
	proxy.Fail(a.ID, 0)
	eventually.True(t, eventually.Ceiling, "a delivered once the relay takes it", func() bool { return pending(t, st) == 0 })
	for _, f := range []store.Finding{a, b} {
		if got := calls(proxy, f.ID); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("calls for %s: %q, want %q", f.ID, got, want)
		}
		if rf, _ := finding(t, duty, f.ID); rf.Status != wire.StatusWithdrawn || rf.Note != "first" || rf.Evidence.Clip == nil {
			t.Errorf("%s at the relay: %+v", f.ID, rf)
		}
	}
}

func TestActionsCarryTheirChange(t *testing.T) {
	ctx := context.Background()
	relay := relaytest.Start(t, relaytest.Options{})
	// Through a proxy, to read what the forwarder sends.
	proxy := relaytest.NewProxy(t, relay.URL())
	st := openStore(t)
	f, _ := st.Create(ctx, flagOf(t, 1, false))
	deadline := f.Deadline.Add(time.Hour).UTC()
	st.Update(ctx, f.ID, "duty", store.Edit{Note: ptr("n1")})
	st.Update(ctx, f.ID, "duty", store.Edit{Severity: ptr("minor"), Deadline: &deadline})
	st.Withdraw(ctx, f.ID, "duty", "mistaken")
	runForwarder(t, st, relayclienttest.SignedIn(t, proxy.URL(), relay.Demo().User, relay.Demo().Password), Options{})
	eventually.True(t, eventually.Ceiling, "the outbox drained", func() bool { return pending(t, st) == 0 })

	cases := []struct {
		rev                    int
		action, note, severity string
		deadline               string
	}{
		{2, "edit", "n1", "", ""},
		// The note goes with every edit: the relay keeps one it is not given.
		{3, "edit", "n1", "minor", deadline.Format(time.RFC3339Nano)},
		{4, "withdraw", "mistaken", "", ""},
	}
	var bodies []map[string]any
	for _, c := range proxy.Calls("/api/v1/findings/" + f.ID + "/actions") {
		var m map[string]any
		if err := json.Unmarshal(c.Body, &m); err != nil {
			t.Fatalf("an action's body %s: %v", c.Body, err)
		}
		bodies = append(bodies, m)
	}
	if len(bodies) != len(cases) {
		t.Fatalf("%d actions sent, want %d: %v", len(bodies), len(cases), bodies)
	}
	for i, c := range cases {
		b := bodies[i]
		sev, _ := b["severity"].(string)
		dl, _ := b["deadline"].(string)
		if b["action_id"] != ActionID(f.ID, c.rev) || b["action"] != c.action || b["note"] != c.note || sev != c.severity || dl != c.deadline {
			t.Errorf("action %d: %v, want %+v", i, b, c)
		}
	}
	if ActionID(f.ID, 2) == ActionID(f.ID, 3) || ActionID(f.ID, 2) != ActionID(f.ID, 2) {
		t.Fatal("action ids are not one per finding and revision")
	}
}

func TestRelayDownWhileFlaggingThenBack(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	st := openStore(t)
	runForwarder(t, st, duty, Options{})
	tr.Stop(t)

	const n = 100
	ids := make([]string, n)
	sums := make(map[string]string, n)
	for i := range n {
		f, err := st.Create(ctx, flagOf(t, i, false))
		if err != nil {
			t.Fatal(err)
		}
		ids[i], sums[f.ID] = f.ID, f.Snapshot.SHA256
	}
	eventually.True(t, eventually.Ceiling, "a failed attempt recorded", func() bool {
		got, _ := st.Get(ctx, ids[0])
		return got.Forward.State == store.ForwardFailing
	})
	got, _ := st.Get(ctx, ids[0])
	if !strings.Contains(got.Forward.Error, "retrying") {
		t.Fatalf("forward state while the relay is down: %+v", got.Forward)
	}
	// While the relay is down one finding probes it, with backoff: the
	// backlog is not sent again and again.
	down := time.Now()
	time.Sleep(time.Second)
	entries, _ := st.Outbox(ctx, 0)
	attempts := 0
	for _, e := range entries {
		attempts += e.Attempts
	}
	// At most the first pass's side-by-side sends, then one probe per
	// backoff (50 ms at least) since the flags.
	if limit := 4 + int(time.Since(down.Add(-5*time.Second))/(50*time.Millisecond)); attempts > limit {
		t.Fatalf("%d attempts while the relay was down, want at most %d", attempts, limit)
	}

	t0 := time.Now()
	tr.Resume(t)
	t.Logf("relay restarted in %v", time.Since(t0))
	eventually.True(t, eventually.Ceiling, "all 100 forwarded after the relay came back", func() bool { return pending(t, st) == 0 })
	t.Logf("backlog forwarded %v after the relay's restart", time.Since(t0))
	db := tr.DB(t)
	for _, id := range ids {
		if c := count(t, db, `SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'created'`, id); c != 1 {
			t.Fatalf("%s created %d times at the relay", id, c)
		}
		if c := count(t, db, `SELECT count(*) FROM finding_evidence WHERE finding_id = ? AND kind = 'snapshot' AND sha256 = ?`, id, sums[id]); c != 1 {
			t.Fatalf("%s has %d snapshots at the relay", id, c)
		}
		if c := count(t, db, `SELECT count(*) FROM finding_events WHERE finding_id = ? AND action = 'evidence'`, id); c != 1 {
			t.Fatalf("%s's snapshot recorded %d times at the relay", id, c)
		}
	}
	if c := count(t, db, `SELECT count(*) FROM findings`); c != n {
		t.Fatalf("%d findings at the relay, want %d", c, n)
	}
}

func TestForwardingStopsWhenTheRelayEndsTheSession(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	relay := asDuty(t, tr)
	// A new signing key: the relay refuses the token and its renewal.
	tr.RestartWithNewKey(t)
	st := openStore(t)
	f, _ := st.Create(ctx, flagOf(t, 1, false))
	done := make(chan error, 2)
	go func() { done <- New(Options{Store: st, Relay: relay, Log: testLog(t)}).Run(ctx) }()
	go func() { done <- NewConsumer(ConsumerOptions{Store: st, Relay: relay, Log: testLog(t)}).Run(ctx) }()
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, relayclient.ErrSessionExpired) {
				t.Fatalf("ended with %v, want the session's end", err)
			}
		case <-time.After(eventually.Ceiling):
			t.Fatal("still running after the relay refused the token and its renewal")
		}
	}
	// Kept for the next sign-in, neither sent nor failed.
	got, _ := st.Get(ctx, f.ID)
	if pending(t, st) != 1 || got.Forward.State != store.ForwardLocal {
		t.Fatalf("after the session's end: %d pending, %+v", pending(t, st), got.Forward)
	}
}
