package relaytest

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
)

// events follows the relay's event stream with token; its lines come on
// the channel, which closes when the stream ends.
func events(t *testing.T, r *Relay, token string) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", r.URL()+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", resp, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines
}

// A site manager disabled while watching (relay user disable, which writes
// the database beside the running relay) is ended by the relay within
// moments: their WHEP session, recorded token_revoked, and their event
// stream, whose last comment says why; others watch on (issue 12: a
// disabled site manager kept watching until their client left).
func TestDisabledViewerIsEnded(t *testing.T) {
	r := Start(t, Options{Cameras: []string{"site-01/doff1"}})
	creds := r.Demo()
	manager := creds.Managers[0] // site-01's
	mgr := apitest.Login(t, r.URL(), manager, creds.ManagerPassword)
	v, _, err := watch(t, r, mgr, "site-01/doff1")
	if err != nil {
		t.Fatalf("the manager watching: %v", err)
	}
	if _, err := play(t, r, login(t, r), "site-01/doff1"); err != nil {
		t.Fatalf("the duty officer watching: %v", err)
	}
	lines := events(t, r, mgr)

	if err := r.records.SetDisabled(context.Background(), manager, true); err != nil {
		t.Fatal(err)
	}
	if rec := r.WaitEnded(t, 0); rec.User != manager || rec.EndReason != "token_revoked" {
		t.Fatalf("the manager's session ended as %+v, want token_revoked", rec)
	}
	var last string
	deadline := time.After(eventually.Ceiling)
	for ended := false; !ended; {
		select {
		case l, ok := <-lines:
			if ended = !ok; strings.HasPrefix(l, ": ") && l != ": keepalive" {
				last = l
			}
		case <-deadline:
			t.Fatal("the disabled manager's event stream runs on")
		}
	}
	if !strings.HasPrefix(last, ": token_revoked: ") {
		t.Fatalf("the event stream's last comment %q, want token_revoked and why", last)
	}
	eventually.True(t, eventually.Ceiling, "the manager's viewer dropped", func() bool {
		return v.PC.ConnectionState() != webrtc.PeerConnectionStateConnected
	})
	if recs := r.Sessions(t); len(recs) != 2 || !recs[1].Ended.IsZero() {
		t.Fatalf("sessions %+v: the duty officer's should run on", recs)
	}
}
