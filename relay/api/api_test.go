package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
)

// readTimeout is the test server's: event streams and long polls must
// outlive it.
const readTimeout = 300 * time.Millisecond

// fixture is the API served over real parts: a store with sites site-01
// and site-02 (one camera each, doff1), findings, and a hub. Its users,
// each with a token living ttl, are duty, sup (a supervisor), and mgr1
// and mgr2, the managers of site-01 and site-02. The clock of stream
// health and tokens stands at the start until a test advances it (the
// event stream's timers run on real time); the event stream is paced in
// milliseconds. What users hold open is leased within the relay's default
// limits, checked every few milliseconds.
type fixture struct {
	url      string
	st       *store.Store
	clock    *fakeclock.Clock
	signer   *auth.Signer
	leases   *auth.Leases      // checked every few milliseconds
	tokens   map[string]string // by user
	stopping chan struct{}     // closing it is the relay stopping
}

func newFixture(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	ctx := context.Background()
	db, st := storetest.Open(t)
	for _, site := range []string{"site-01", "site-02"} {
		if err := st.PutSite(ctx, store.Site{ID: site, TimeZone: "Asia/Shanghai"}, []store.Camera{{ID: "doff1", Zone: "doffing_room_1"}}); err != nil {
			t.Fatal(err)
		}
	}
	clock := fakeclock.New(time.Now().Truncate(time.Second))
	signer, err := auth.NewSigner(make([]byte, auth.KeySize), ttl, 12*time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	finds, err := findings.New(findings.Config{DB: db, Sites: st, EvidenceDir: filepath.Join(t.TempDir(), "evidence")})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Now: clock.Now})
	leases := auth.NewLeases(auth.LeasesConfig{Users: st, Now: clock.Now, Log: zerolog.Nop(),
		Limits: auth.Limits{WHEPSessions: 32, EventStreams: 8, LongPolls: 8}})
	checking, stopChecks := context.WithCancel(ctx)
	t.Cleanup(stopChecks)
	go leases.Run(checking, 20*time.Millisecond)
	f := &fixture{st: st, clock: clock, signer: signer, leases: leases, tokens: map[string]string{}, stopping: make(chan struct{})}
	srv := httptest.NewUnstartedServer(New(Config{
		Store: st, Signer: signer, Leases: leases, Streams: h, Changes: health.NewWatcher(h), Findings: finds,
		MaxSDPBytes: 1 << 16, Started: clock.Now(), Now: clock.Now,
		EventsRefresh: 100 * time.Millisecond, EventsKeepalive: 30 * time.Millisecond,
		Stopping: f.stopping, Log: zerolog.Nop(),
	}))
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	f.url = srv.URL
	for _, u := range []store.User{
		{Name: "duty", Role: "duty"}, {Name: "sup", Role: "supervisor"},
		{Name: "mgr1", Role: "site_manager", Sites: []string{"site-01"}},
		{Name: "mgr2", Role: "site_manager", Sites: []string{"site-02"}},
	} {
		u.PasswordHash = "x" // tokens are issued here: nobody signs in
		if err := st.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if f.tokens[u.Name], _, err = signer.Issue(u.Name, auth.Role(u.Role), auth.AudienceAPI, 0); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// reply is an answer of the API.
type reply struct {
	status int
	body   []byte
}

// code is the error code of a refusal.
func (r reply) code() string {
	e, _ := apitest.Refusal(r.body)
	return e.Code
}

// do makes one request as user (as nobody when empty).
func (f *fixture) do(t *testing.T, user, method, path string, header map[string]string, body []byte) reply {
	t.Helper()
	c := &apitest.Client{T: t, Base: f.url, Token: f.tokens[user]}
	status, b := c.Do(method, path, header, body)
	return reply{status, b}
}

// poll starts a long poll of the changes feed as user, after cursor
// after, waiting up to wait seconds; its answer comes on the channel.
func (f *fixture) poll(user string, after int64, wait int) <-chan reply {
	answered := make(chan reply, 1)
	go func() {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/findings/changes?after=%d&wait=%d", f.url, after, wait), nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens[user])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- reply{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- reply{resp.StatusCode, b}
	}()
	return answered
}
