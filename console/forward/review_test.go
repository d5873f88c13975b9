package forward

import (
	"context"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The supervisors' review of a finding (reviewed, a comment, an outcome)
// comes down the changes feed as history events that move no status: the
// console keeps them in the history, its status and the site's note stay
// as they were, and the officer's re-check still goes back.
func TestConsumerTakesTheReviewsEvents(t *testing.T) {
	ctx := context.Background()
	const password = "a long supervisor password"
	tr := relaytest.Start(t, relaytest.Options{Config: relaytest.UsersConfig(t, relaytest.User{Name: "sup", Role: "supervisor", Password: password})})
	duty := asDuty(t, tr)
	mgr := asManager(t, tr)
	st := openStore(t)
	f, err := st.Create(ctx, flagOf(t, 1, false))
	if err != nil {
		t.Fatal(err)
	}
	runForwarder(t, st, duty, Options{})
	runConsumer(t, st, duty, duty.User().Name)
	eventually.True(t, eventually.Ceiling, "the flag forwarded", func() bool { return pending(t, st) == 0 })
	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-ack", Action: wire.ActAcknowledge})
	act(t, mgr, f.ID, wire.ActionRequest{ActionID: "site-fix", Action: wire.ActRectify, Note: "retrained the cleaners"})

	sup := apitest.SignIn(t, tr.URL(), "sup", password)
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/reviewed", `{"reviewed": true}`},
		{"POST", "/comments", `{"text": "回头看 check on site"}`},
		{"POST", "/outcomes", `{"kind": "rectify_order", "doc_number": "责改〔2026〕1号", "note": "the order's note"}`},
	} {
		if status, b := sup.Do(c.method, "/api/v1/review/findings/"+f.ID+c.path, apitest.JSON, []byte(c.body)); status/100 != 2 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, status, b)
		}
	}
	last := int64(count(t, tr.DB(t), `SELECT max(id) FROM finding_events`))
	eventually.True(t, eventually.Ceiling, "the console at the relay's last change", func() bool {
		c, err := st.RelayCursor(ctx, duty.BaseURL())
		return err == nil && c == last
	})
	got, err := st.Get(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "rectified" || got.StatusNote != "retrained the cleaners" {
		t.Errorf("after the review: status %q, note %q; want rectified with the site's note", got.Status, got.StatusNote)
	}
	if h := history(t, st, f.ID); !strings.HasSuffix(h, "sup:reviewed sup:commented sup:outcome") {
		t.Errorf("history %q, want the review's events at its end", h)
	}

	if _, err := st.Verify(ctx, f.ID, duty.User().Name, "seen fixed"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the verification at the relay", func() bool {
		rf, _ := finding(t, duty, f.ID)
		return rf.Status == wire.StatusVerified
	})
	eventually.True(t, eventually.Ceiling, "the verification forwarded", func() bool {
		got, _ := st.Get(ctx, f.ID)
		return got.Forward.State == store.ForwardForwarded && got.Status == "verified"
	})
}
