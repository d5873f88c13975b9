package forward

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// siteManager signs in to the test relays as the manager of site-01; the
// hash is of "the password" (relay/config.example.yaml).
const (
	siteManager         = "mgr"
	siteManagerPassword = "the password"
	relayConfig         = `users:
  - name: mgr
    role: site_manager
    password_hash: $2a$10$J6rZ61DQQTU4Es/GymVgCeAO20ZNgKxsNV8xuN2E3qzIXz.A.pgYm
    sites: [site-01]
`
)

func testLog(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Timestamp().Logger()
}

// testRelay is a real relay with the demo sites and a site manager, which
// can be stopped and started again on the same address and data.
type testRelay struct {
	t    testing.TB
	dir  string
	addr string
	r    *relay.Relay
}

func startRelay(t testing.TB) *testRelay {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "relay.yaml")
	if err := os.WriteFile(config, []byte(relayConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := &testRelay{t: t, dir: dir, addr: "127.0.0.1:0"}
	tr.start()
	tr.addr = strings.TrimPrefix(tr.r.URL(), "http://")
	t.Cleanup(func() { tr.stop() })
	return tr
}

func (tr *testRelay) start() {
	tr.t.Helper()
	var err error
	for range 50 { // the port may linger a moment after a stop
		tr.r, err = relay.Start(context.Background(), relay.Options{Listen: tr.addr, DataDir: filepath.Join(tr.dir, "data"),
			ConfigFile: filepath.Join(tr.dir, "relay.yaml"), Demo: true, Log: zerolog.Nop()})
		if err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tr.t.Fatalf("starting the relay: %v", err)
}

func (tr *testRelay) stop() {
	if tr.r != nil {
		tr.r.Close()
		tr.r = nil
	}
}

func (tr *testRelay) URL() string { return "http://" + tr.addr }

// signIn signs in to the relay as user.
func (tr *testRelay) signIn(t testing.TB, user, password string) *relayclient.Client {
	t.Helper()
	c, err := relayclient.New(tr.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), user, password); err != nil {
		t.Fatal(err)
	}
	return c
}

func (tr *testRelay) duty(t testing.TB) *relayclient.Client {
	return tr.signIn(t, tr.r.Demo().User, tr.r.Demo().Password)
}

// db opens the relay's database to count what reached it.
func (tr *testRelay) db(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(tr.dir, "data", relay.DatabaseFile)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// finding reads a finding at the relay as c, with the status the relay
// answered.
func (tr *testRelay) finding(t testing.TB, c *relayclient.Client, id string) (wire.Finding, int) {
	t.Helper()
	f, err := c.Finding(context.Background(), id)
	var rerr *relayclient.Error
	switch {
	case errors.As(err, &rerr):
		return wire.Finding{}, rerr.Status
	case err != nil:
		t.Fatal(err)
	}
	return f, http.StatusOK
}

// act asks an action of a finding at the relay as c.
func act(t testing.TB, c *relayclient.Client, id string, a wire.ActionRequest) {
	t.Helper()
	if _, err := c.Act(context.Background(), id, a); err != nil {
		t.Fatalf("%s at the relay: %v", a.Action, err)
	}
}

// standInSignIn answers a stand-in relay's sign-in with the token it
// takes, "stand-in"; it reports whether r was one.
func standInSignIn(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/api/v1/login" {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token":"stand-in","expires_at":%q,"user":{"name":"duty","role":"duty"}}`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	return true
}

// signInToStandIn signs in to a stand-in relay that answers with
// standInSignIn.
func signInToStandIn(t testing.TB, url string) *relayclient.Client {
	t.Helper()
	c, err := relayclient.New(url, relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), "duty", "any"); err != nil {
		t.Fatal(err)
	}
	return c
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// smallJPEG is a real JPEG, different for every seed.
func smallJPEG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 18))
	for i := range img.Pix {
		img.Pix[i] = uint8(i*7 + seed*13)
	}
	img.Set(seed%32, (seed/32)%18, color.RGBA{R: uint8(seed), G: uint8(seed >> 8), A: 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err) // in memory, of a valid image: cannot fail
	}
	return buf.Bytes()
}

// flagOf is a flag on site-01's first doffing room camera.
func flagOf(t testing.TB, seed int, clip bool) store.Flag { return flagNumber(seed, clip) }

func flagNumber(seed int, clip bool) store.Flag {
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	return store.Flag{
		Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", TemplateID: "ppe-doffing", TemplateVersion: 1,
		Step: "goggles", Deviation: "wrong_order", DeviationText: fmt.Sprintf("脱卸顺序错误 #%d", seed), Severity: "major",
		Observer: "duty", ObservedAt: at, Deadline: at.Add(48 * time.Hour),
		Snapshot: smallJPEG(seed), SnapshotW: 32, SnapshotH: 18, RecordClip: clip,
	}
}

// finishClip files a recorded clip for a finding: the bytes of an MP4's
// first box are enough for the relay, which checks only the type.
func finishClip(t testing.TB, st *store.Store, f store.Finding) {
	t.Helper()
	writeClip(t, st, f, append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), []byte(f.ID)...))
}

// writeClip files data as a finding's recorded clip.
func writeClip(t testing.TB, st *store.Store, f store.Finding, data []byte) {
	t.Helper()
	if err := os.WriteFile(st.PartialClipPath(f.ID), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishClip(context.Background(), f.ID, true, f.ObservedAt.Add(-20*time.Second), 30*time.Second, 640, 360); err != nil {
		t.Fatal(err)
	}
}

// runForwarder runs a forwarder until the test ends.
func runForwarder(t testing.TB, st *store.Store, c Relay, opts Options) {
	t.Helper()
	opts.Store, opts.Relay = st, c
	opts.Log = testLog(t)
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 50*time.Millisecond, 400*time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(opts).Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != context.Canceled {
				t.Errorf("forwarder ended with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("forwarder did not stop within 5 s of its cancellation")
		}
	})
}

// waitFor polls cond until it holds or within passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pending(t testing.TB, st *store.Store) int {
	t.Helper()
	es, err := st.Outbox(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
