package console

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestFindingsEventsReachTheView: the views hear of a finding reaching the
// relay and of the site's answer from the relay's changes, as a findings
// event naming it, once the console's copy has the change.
func TestFindingsEventsReachTheView(t *testing.T) {
	ctx := context.Background()
	opts := options(t, nil)
	r := relaytest.Start(t, relaytest.Options{})
	creds := r.Demo()
	b, v := signedIn(t, opts, r)
	events := v.events()

	// next waits for a findings event naming id.
	next := func(what, id string) {
		t.Helper()
		for {
			var ev struct{ IDs []string }
			if err := json.Unmarshal(events.next("findings"), &ev); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if slices.Contains(ev.IDs, id) {
				return
			}
		}
	}
	at := time.Now().Add(-time.Minute)
	f, err := b.store.Create(ctx, store.Flag{Site: "site-01", Camera: "doff1", Zone: "doffing_room_1",
		DeviationText: "漏做手卫生", Severity: "major", Observer: creds.User, ObservedAt: at, Deadline: at.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	next("the finding forwarded", f.ID)
	var got store.Finding
	if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+f.ID, nil, &got); status != http.StatusOK || got.Forward.State != store.ForwardForwarded {
		t.Fatalf("after the event: %d %s", status, raw)
	}

	mgr, err := relayclient.New(r.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Login(ctx, relay.DemoManager("site-01"), creds.ManagerPassword); err != nil {
		t.Fatal(err)
	}
	token, err := mgr.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"action_id": "ack-1", "action": "acknowledge", "note": "收到"})
	req, _ := http.NewRequest(http.MethodPost, r.URL()+"/api/v1/findings/"+f.ID+"/actions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the site's acknowledgement: %d", resp.StatusCode)
	}
	next("the site's acknowledgement", f.ID)
	if status, raw := v.call(http.MethodGet, "/api/v1/findings/"+f.ID, nil, &got); status != http.StatusOK || got.Status != "acknowledged" {
		t.Fatalf("after the event: %d %s", status, raw)
	}
}
