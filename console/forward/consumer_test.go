package forward

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

func runConsumer(t testing.TB, st *store.Store, c Relay, self string) {
	t.Helper()
	runConsumerWith(t, ConsumerOptions{Store: st, Relay: c, Self: self})
}

// runConsumerWith runs a consumer with quick polls and backoff until the
// test ends.
func runConsumerWith(t testing.TB, opts ConsumerOptions) {
	t.Helper()
	opts.Wait, opts.MinBackoff, opts.MaxBackoff, opts.Log = 2*time.Second, 50*time.Millisecond, 400*time.Millisecond, testLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewConsumer(opts).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("consumer ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("consumer did not stop within 5 s of its cancellation")
		}
	})
}

func history(t testing.TB, st *store.Store, id string) string {
	t.Helper()
	events, err := st.Events(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		out = append(out, e.Actor+":"+e.Action)
	}
	return strings.Join(out, " ")
}

func TestConsumerBringsTheSitesAnswersAndTheRecheckGoesBack(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	mgr := asManager(t, tr)
	m := mgr.User().Name
	st := openStore(t)
	f, err := st.Create(ctx, flagOf(t, 1, false))
	if err != nil {
		t.Fatal(err)
	}
	runForwarder(t, st, duty, Options{})
	runConsumer(t, st, duty, duty.User().Name)
	eventually.True(t, eventually.Ceiling, "the flag forwarded", func() bool { return pending(t, st) == 0 })

	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-ack", Action: wire.ActAcknowledge, Note: "seen"})
	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-fix", Action: wire.ActRectify, Note: "retrained the cleaners"})
	eventually.True(t, eventually.Ceiling, "the rectification seen by the console", func() bool {
		got, _ := st.Get(ctx, f.ID)
		return got.Status == "rectified"
	})
	got, _ := st.Get(ctx, f.ID)
	if got.StatusNote != "retrained the cleaners" {
		t.Fatalf("status note %q", got.StatusNote)
	}
	// The console's own filing comes back from the relay too, and is not
	// recorded twice.
	if h := history(t, st, f.ID); h != "duty:flagged "+m+":acknowledge "+m+":rectify" {
		t.Fatalf("history %q", h)
	}

	if _, err := st.Verify(ctx, f.ID, "duty", "hand hygiene seen on the next shift"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the verification at the relay", func() bool {
		rf, _ := finding(t, duty, f.ID)
		return rf.Status == "verified"
	})
	eventually.True(t, eventually.Ceiling, "the verification forwarded", func() bool {
		got, _ := st.Get(ctx, f.ID)
		return got.Forward.State == store.ForwardForwarded
	})
	// Let the consumer take the verification's change too.
	cursor := func() int64 {
		c, err := st.RelayCursor(ctx, duty.BaseURL())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	db := tr.DB(t)
	last := int64(count(t, db, `SELECT max(id) FROM finding_events`))
	eventually.True(t, eventually.Ceiling, "the cursor at the relay's last change", func() bool { return cursor() == last })
	got, _ = st.Get(ctx, f.ID)
	if got.Status != "verified" || got.StatusNote != "hand hygiene seen on the next shift" {
		t.Fatalf("after verification: %q %q", got.Status, got.StatusNote)
	}
	if h := history(t, st, f.ID); h != "duty:flagged "+m+":acknowledge "+m+":rectify duty:verified" {
		t.Fatalf("history %q", h)
	}
}

func TestConsumerResumesFromItsCursorAfterTheRelayRestarts(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	mgr := asManager(t, tr)
	st := openStore(t)
	f, _ := st.Create(ctx, flagOf(t, 1, false))
	runForwarder(t, st, duty, Options{})
	runConsumer(t, st, duty, duty.User().Name)
	eventually.True(t, eventually.Ceiling, "the flag forwarded", func() bool { return pending(t, st) == 0 })

	tr.Stop(t)
	tr.Resume(t)
	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-ack", Action: wire.ActAcknowledge, Note: "on it"})
	eventually.True(t, eventually.Ceiling, "the acknowledgement seen after the relay's restart", func() bool {
		got, _ := st.Get(ctx, f.ID)
		return got.Status == "acknowledged"
	})
	if h := history(t, st, f.ID); h != "duty:flagged "+mgr.User().Name+":acknowledge" {
		t.Fatalf("history %q", h)
	}
}
