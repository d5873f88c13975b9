package findings_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/findings/findingstest"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// relayProxy stands between the console and the relay: once slowed, every
// request waits before it goes on, as over a slow link or to a hung relay.
type relayProxy struct {
	url string

	mu      sync.Mutex
	delay   time.Duration // 0 passes requests on at once
	hold    chan struct{} // closed to let held requests go, when delay < 0
	arrived []string      // the requests since the last slow, as "METHOD path"
}

// newRelayProxy starts a proxy to the relay at target, stopped when the
// test ends.
func newRelayProxy(t testing.TB, target string) *relayProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &relayProxy{hold: make(chan struct{})}
	relay := httputil.NewSingleHostReverseProxy(u)
	relay.FlushInterval = -1 // an event stream passes each event on as it comes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		delay, hold := p.delay, p.hold
		p.arrived = append(p.arrived, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		var wait <-chan time.Time
		switch {
		case delay > 0:
			wait = time.After(delay)
		case delay < 0:
			wait = make(chan time.Time) // hold released below
		}
		if wait != nil {
			select {
			case <-wait:
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		relay.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		p.slow(0)
		srv.Close()
	})
	p.url = srv.URL
	return p
}

// slow makes every request from now on wait d, or until the next slow
// when d < 0 (a hung relay); 0 lets them all go.
func (p *relayProxy) slow(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.delay < 0 {
		close(p.hold)
		p.hold = make(chan struct{})
	}
	p.delay, p.arrived = d, nil
}

// requests are those that came since the last slow.
func (p *relayProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.arrived...)
}

// A flag is a local commit: with the relay hung, flags, a run's start and
// an edit all complete without asking the relay anything.
func TestFlagDoesNotWaitOnTheRelay(t *testing.T) {
	var proxy *relayProxy
	r := findingstest.NewWith(t, findingstest.Options{}, findingstest.Parts{Via: func(relay string) string {
		proxy = newRelayProxy(t, relay)
		return proxy.url
	}})
	v := r.Watch(t, findingstest.Doff1, findingstest.ClipBefore+time.Second)

	proxy.slow(-1)
	for i := range 3 {
		f, err := r.Findings.Flag(ctx, flagRequest(v.OnScreen(t).PTS, snapshot(t, 320, 240, uint8(i))))
		if err != nil {
			t.Fatalf("flag %d with the relay hung: %v", i, err)
		}
		if f.Zone != "doffing_room_1" {
			t.Fatalf("flag %d: zone %q, want the camera's from the list the session holds", i, f.Zone)
		}
		if asked := proxy.requests(); len(asked) > 0 {
			t.Fatalf("flag %d asked the relay %v: a flag must not wait on the network", i, asked)
		}
		note := "seen again"
		if _, err := r.Findings.Edit(ctx, f.ID, findings.Edit{Note: &note}); err != nil {
			t.Fatalf("editing flag %d: %v", i, err)
		}
	}
	if _, err := r.Findings.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-01/doff1"}); err != nil {
		t.Fatalf("starting a run with the relay hung: %v", err)
	}
	if asked := proxy.requests(); len(asked) > 0 {
		t.Fatalf("the edits and the run asked the relay %v", asked)
	}
	_, err := r.Findings.CreateRun(ctx, findings.NewRun{TemplateID: "ppe-doffing", Camera: "site-09/doff1"})
	refusal{fault.Invalid, "unknown_camera", "camera"}.check(t, "a camera not in the held list", err)
}

// BenchmarkFlagSlowRelay is BenchmarkFlag with every request to the relay
// held 100 ms (a 100 ms round trip): what a flag costs an officer on a slow
// link. Nothing of a flag should wait on it.
func BenchmarkFlagSlowRelay(b *testing.B) {
	var proxy *relayProxy
	r := findingstest.NewWith(b, findingstest.Options{}, findingstest.Parts{Via: func(relay string) string {
		proxy = newRelayProxy(b, relay)
		return proxy.url
	}})
	v := r.Watch(b, findingstest.Doff1, findingstest.ClipBefore+time.Second)
	in := flagRequest(v.OnScreen(b).PTS, snapshot(b, 320, 240, 9))
	proxy.slow(100 * time.Millisecond)
	b.ResetTimer()
	for range b.N {
		if _, err := r.Findings.Flag(ctx, in); err != nil {
			b.Fatalf("flag: %v", err)
		}
	}
}
