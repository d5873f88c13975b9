package console

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestFindingsForwardedWhileSignedIn: the outbox goes to the relay while
// a session lasts, waits while signed out, and goes on at the next sign-in.
func TestFindingsForwardedWhileSignedIn(t *testing.T) {
	ctx := context.Background()
	opts := options(t, nil)
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	b, v := signedIn(t, opts, r)

	flag := func(text string) string {
		at := time.Now().Add(-time.Minute)
		f, err := b.store.Create(ctx, store.Flag{Site: "site-01", Camera: "doff1", Zone: "doffing_room_1",
			DeviationText: text, Severity: "minor", Observer: creds.User, ObservedAt: at, Deadline: at.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return f.ID
	}
	state := func(id string) string {
		var f store.Finding
		if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+id, nil, &f); status != http.StatusOK || f.Forward == nil {
			t.Fatalf("GET finding: %d %s", status, raw)
		}
		return f.Forward.State
	}
	first := flag("first")
	eventually.True(t, within, "the first finding forwarded", func() bool { return state(first) == store.ForwardForwarded })

	if status, raw := v.call(http.MethodDelete, "/api/v1/session", nil, nil); status != http.StatusNoContent {
		t.Fatalf("sign-out: %d %s", status, raw)
	}
	second := flag("second")
	time.Sleep(time.Second)
	if s := state(second); s != store.ForwardLocal {
		t.Fatalf("flagged while signed out: %s", s)
	}
	if status, raw := v.call(http.MethodPost, "/api/v1/session", map[string]string{"relay": r.URL(), "user": creds.User, "password": creds.Password}, nil); status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", status, raw)
	}
	eventually.True(t, within, "the second finding forwarded after signing in again", func() bool { return state(second) == store.ForwardForwarded })
}
