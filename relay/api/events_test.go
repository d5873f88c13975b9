package api

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
)

// readTimeout is the test server's: streams must outlive it.
const readTimeout = 300 * time.Millisecond

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// eventServer serves the API over a real store and hub, with the event
// stream paced in milliseconds, and a server ReadTimeout far shorter than
// the streams last.
type eventServer struct {
	url      string
	st       *store.Store
	signer   *auth.Signer
	stopping chan struct{}
}

func newEventServer(t *testing.T, ttl time.Duration) *eventServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutSite(ctx, store.Site{ID: "site-01", TimeZone: "Asia/Shanghai"}, []store.Camera{{ID: "doff1", Zone: "doffing_room_1"}}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err := st.PutUser(ctx, store.User{Name: "duty", Role: "duty", PasswordHash: string(hash)}); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	signer, err := auth.NewSigner(make([]byte, auth.KeySize), ttl, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Now: clock.Now})
	es := &eventServer{st: st, signer: signer, stopping: make(chan struct{})}
	srv := httptest.NewUnstartedServer(New(Config{
		Store: st, Signer: signer, Streams: h, Changes: health.NewWatcher(h),
		MaxSDPBytes: 1 << 16, Started: clock.Now(), Now: clock.Now,
		EventsRefresh: 100 * time.Millisecond, EventsKeepalive: 30 * time.Millisecond,
		Stopping: es.stopping, Log: zerolog.Nop(),
	}))
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	es.url = srv.URL
	return es
}

// stream opens the event stream and returns its lines.
func (es *eventServer) stream(t *testing.T) <-chan string {
	t.Helper()
	token, _, err := es.signer.Issue("duty", auth.RoleDuty)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", es.url+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	lines := make(chan string, 1000)
	go func() {
		defer resp.Body.Close()
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return lines
}

// until reads lines until one starts with prefix, failing after 5 s or
// if the stream ends first.
func until(t *testing.T, lines <-chan string, prefix string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within 5 s", prefix)
		}
	}
}

// ends waits for the stream to end, failing after 5 s.
func ends(t *testing.T, lines <-chan string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream did not end within 5 s")
		}
	}
}

func TestEventStreamPacing(t *testing.T) {
	es := newEventServer(t, time.Hour)
	lines := es.stream(t)
	until(t, lines, "event: cameras")
	// Longer than the server's ReadTimeout: the stream lives on.
	time.Sleep(2 * readTimeout)
	for drained := false; !drained; {
		select {
		case _, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
		default:
			drained = true
		}
	}
	until(t, lines, ": keepalive")
	until(t, lines, "event: cameras") // the periodic whole list
	until(t, lines, `data: {"cameras":[{"site":"site-01","id":"doff1"`)
}

func TestEventStreamEnds(t *testing.T) {
	cases := []struct {
		name string
		ttl  time.Duration
		end  func(es *eventServer)
		last string
	}{
		{"token expires", time.Second, func(*eventServer) {}, ": token expired"},
		{"user disabled", time.Hour, func(es *eventServer) {
			if err := es.st.SetDisabled(context.Background(), "duty", true); err != nil {
				panic(err)
			}
		}, ""},
		{"relay stops", time.Hour, func(es *eventServer) { close(es.stopping) }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es := newEventServer(t, c.ttl)
			lines := es.stream(t)
			until(t, lines, "event: cameras")
			c.end(es)
			if c.last != "" {
				until(t, lines, c.last)
			}
			ends(t, lines)
		})
	}
}
