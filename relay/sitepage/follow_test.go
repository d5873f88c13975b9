package sitepage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// An open page follows its findings without a reload: a new finding of
// the manager's site appears on the list, another site's does not, and a
// change the console makes shows on the open finding.
func TestOpenPageFollowsChanges(t *testing.T) {
	r := startRelay(t)
	duty := apiLogin(t, r, "duty", r.Demo().Password)
	duty.file("f-old", "site-01", time.Now().Add(3*time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bctx := newBrowser(t, ctx)
	do(t, bctx, chromedp.Navigate("about:blank"))
	walk, stop := context.WithTimeout(bctx, 90*time.Second)
	defer stop()
	do(t, walk, chromedp.Navigate(r.URL()+"/site/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "mgr1"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Submit(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`li.finding[data-id="f-old"]`)),
	)
	// A reload would lose this.
	eval[bool](t, walk, `window.__notReloaded = true`)

	duty.file("f-other", "site-02", time.Now().Add(3*time.Hour))
	duty.file("f-new", "site-01", time.Now().Add(time.Hour))
	do(t, walk, waitJS(`!!document.querySelector('li.finding[data-id="f-new"]')`))
	ids := eval[[]string](t, walk, `[...document.querySelectorAll('li.finding')].map(e => e.dataset.id)`)
	if strings.Join(ids, ",") != "f-new,f-old" {
		t.Errorf("list %v, want f-new (the nearer deadline), f-old; not site-02's", ids)
	}
	if !eval[bool](t, walk, `window.__notReloaded === true && document.querySelector('li.finding[data-id="f-new"]').classList.contains('fresh')`) {
		t.Error("the page reloaded, or the new finding is not marked as new")
	}

	// The open finding shows the console's change.
	do(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-new"), chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)))
	eval[bool](t, walk, `window.__notReloaded = true`)
	if status, b := duty.do("POST", "/api/v1/findings/f-new/actions", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"action_id":"withdraw-1","action":"withdraw","note":"flagged by mistake"}`)); status != 200 {
		t.Fatalf("withdraw: %d %s", status, b)
	}
	do(t, walk, waitJS(`document.getElementById('status').textContent === '已撤回' && !document.getElementById('acknowledge')`))
	if !eval[bool](t, walk, `window.__notReloaded === true`) {
		t.Error("the finding's page reloaded")
	}
	if h := text(t, walk, "#history"); !strings.Contains(h, "flagged by mistake") {
		t.Errorf("history without the withdrawal: %q", h)
	}

	// Typing a note is not thrown away: the page only says it changed.
	duty.file("f-typing", "site-01", time.Now().Add(time.Hour))
	do(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-typing"), chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)),
		chromedp.SendKeys(chromedp.CSS(`#acknowledge textarea[name=note]`), "正在处理"))
	if status, b := duty.do("POST", "/api/v1/findings/f-typing/actions", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"action_id":"edit-1","action":"edit","note":"see the clip from 14:02"}`)); status != 200 {
		t.Fatalf("edit: %d %s", status, b)
	}
	do(t, walk, waitJS(`!!document.querySelector('#changed a')`))
	if v := eval[string](t, walk, `document.querySelector('#acknowledge textarea[name=note]').value`); v != "正在处理" {
		t.Errorf("the note being typed is now %q", v)
	}
}

// The long poll itself: scoped to the manager's sites, in the API's error
// shape for scripts.
func TestChangesEndpoint(t *testing.T) {
	r := startRelay(t)
	duty := apiLogin(t, r, "duty", r.Demo().Password)
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
	duty.file("f1", "site-01", time.Now().Add(time.Hour))
	select {
	case a := <-woke:
		if len(a.Changes) == 0 || a.Changes[0].Finding != "f1" || a.Changes[0].Action != "created" {
			t.Errorf("woken with %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting page was not told of its site's new finding within 10 s")
	}
	duty.file("f2", "site-02", time.Now().Add(time.Hour))
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
	r := startRelay(t)
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
