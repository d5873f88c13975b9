package sitepage_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// The long poll itself: scoped to the manager's sites, in the API's error
// shape for scripts.
func TestChangesEndpoint(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	mgr1 := signIn(t, r, "mgr1")
	mgr2 := signIn(t, r, "mgr2")
	type answer struct {
		Cursor  int64
		Changes []struct {
			Cursor  int64
			Finding string
			Action  string
		}
		Error struct{ Code string }
	}
	ask := func(pc *pageClient, query string) (int, answer) {
		t.Helper()
		status, body := pc.get("/site/changes" + query)
		var a answer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("%s: %d %q: %v", query, status, body, err)
		}
		return status, a
	}
	_, start := ask(mgr1, "")

	// A waiting page wakes when its site's finding comes.
	woke := make(chan answer, 1)
	go func() {
		resp, err := mgr1.http.Get(fmt.Sprintf("%s/site/changes?after=%d&wait=20", r.URL(), start.Cursor))
		if err != nil {
			woke <- answer{}
			return
		}
		defer resp.Body.Close()
		var a answer
		json.NewDecoder(resp.Body).Decode(&a)
		woke <- a
	}()
	time.Sleep(200 * time.Millisecond) // let it wait (either way it must answer)
	r.File("f1", "site-01", time.Now().Add(time.Hour))
	select {
	case a := <-woke:
		if len(a.Changes) == 0 || a.Changes[0].Finding != "f1" || a.Changes[0].Action != "created" {
			t.Errorf("woken with %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting page was not told of its site's new finding within 10 s")
	}
	r.File("f2", "site-02", time.Now().Add(time.Hour))
	_, newest := ask(signIn(t, r, "sup"), "") // a supervisor sees every site

	for _, c := range []struct {
		name    string
		pc      *pageClient
		query   string
		status  int
		code    string
		changes string
		cursor  int64
	}{
		{"site-01's manager", mgr1, fmt.Sprintf("?after=%d&wait=0", start.Cursor), 200, "", "f1:created,f1:evidence,f1:evidence", newest.Cursor},
		{"site-02's manager", mgr2, fmt.Sprintf("?after=%d&wait=0", start.Cursor), 200, "", "f2:created,f2:evidence,f2:evidence", newest.Cursor},
		// Only another site's changes: the cursor moves past them after the wait.
		{"only another site's changes", mgr1, fmt.Sprintf("?after=%d&wait=0.2", newest.Cursor-3), 200, "", "", newest.Cursor},
		{"bad cursor", mgr1, "?after=-1", 400, "bad_request", "", 0},
		{"bad wait", mgr1, "?after=0&wait=soon", 400, "bad_request", "", 0},
		{"signed out", &pageClient{t: t, base: r.URL(), http: &http.Client{}}, "?after=0", 401, "signed_out", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, a := ask(c.pc, c.query)
			var got []string
			for _, ch := range a.Changes {
				got = append(got, ch.Finding+":"+ch.Action)
			}
			if status != c.status || a.Error.Code != c.code || strings.Join(got, ",") != c.changes || a.Cursor != c.cursor {
				t.Errorf("%d %q %v cursor %d; want %d %q %q cursor %d", status, a.Error.Code, got, a.Cursor, c.status, c.code, c.changes, c.cursor)
			}
		})
	}
}

// A page waiting on the relay does not hold up its shutdown.
func TestChangesEndAtShutdown(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	mgr1 := signIn(t, r, "mgr1")
	answered := make(chan string, 1)
	go func() {
		resp, err := mgr1.http.Get(r.URL() + "/site/changes?after=0&wait=25")
		if err != nil {
			answered <- err.Error()
			return
		}
		defer resp.Body.Close()
		var a struct {
			Changes []any
		}
		json.NewDecoder(resp.Body).Decode(&a)
		answered <- fmt.Sprintf("%d %d changes", resp.StatusCode, len(a.Changes))
	}()
	time.Sleep(300 * time.Millisecond) // let it wait (either way it must answer)
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-answered:
		if got != "200 0 changes" {
			t.Errorf("the waiting page got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5 s of the shutdown")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closing the relay took %v with a page waiting", d)
	}
}
