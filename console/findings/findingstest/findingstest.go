// Package findingstest starts the console's findings core for tests, over
// the real parts: a stand-in relay (console/internal/relaytest) sending real
// H.264 over a real pion peer, the console's sources with their rolling
// buffers, the clip recorder and a real store in a temporary folder.
package findingstest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // to read the store's file as it is
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/evidence"
	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/console/internal/relaytest"
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// Within bounds every wait for video or a clip beyond its own length.
const Within = 5 * time.Second

// Clip bounds of the rig's recorder.
const ClipBefore, ClipAfter = 3 * time.Second, time.Second

// Doff1 is the main stream of the stand-in relay's first camera.
var Doff1 = media.Key{Site: "site-01", Camera: "doff1", Stream: "main"}

// User is the officer the rig is signed in as.
const User = relaytest.User

// session is the console's relay session as the core sees it: the relay
// client signed in as user ("" = signed out).
type session struct {
	rc      *relayclient.Client
	user    string
	expired bool // signed out because the relay ended the session
}

func (s session) Cameras(ctx context.Context) ([]relayclient.Camera, error) { return s.rc.Cameras(ctx) }

func (s session) Observer(context.Context) (string, string, error) {
	if s.expired {
		return "", "", fault.New(fault.Unauthenticated, "session_expired", "the relay ended the session")
	}
	if s.user == "" {
		return "", "", errors.New("signed out")
	}
	return s.user, s.rc.BaseURL(), nil
}

// Options configures a Rig; zero values are sensible.
type Options struct {
	Templates        string
	Now              func() time.Time
	SignedOut        bool
	Expired          bool
	MaxSnapshotBytes int
}

// Rig is the findings core over the real parts.
type Rig struct {
	Relay    *relaytest.Relay
	Sources  *media.Sources
	Buffers  *evidence.Buffers
	Store    *store.Store
	DataDir  string
	Findings *findings.Service
}

// New starts a Rig, stopped when the test ends.
func New(t testing.TB, o Options) *Rig {
	t.Helper()
	relay := relaytest.Start(t, relaytest.Options{})
	rc, err := relayclient.New(relay.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := rc.Login(context.Background(), relaytest.User, relaytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	puller, err := media.NewWHEP(relay.URL(), rc, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	buffers := evidence.NewBuffers(ClipBefore+evidence.KeepMargin, evidence.MaxBufferBytes, nil)
	sources := media.NewSources(context.Background(), puller, media.Options{Tap: buffers.Tap, Log: zerolog.Nop()})
	t.Cleanup(sources.Close)
	dataDir := t.TempDir()
	st, err := store.Open(context.Background(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := evidence.NewRecorder(context.Background(), evidence.RecorderOptions{
		Sources: sources, Buffers: buffers, Store: st, Before: ClipBefore, After: ClipAfter,
	})
	t.Cleanup(rec.Close)
	user := sess.User.Name
	if o.SignedOut {
		user = ""
	}
	core := findings.New(findings.Options{
		Store: st, Console: session{rc, user, o.Expired}, Frames: buffers, Clips: rec,
		Templates: o.Templates, Now: o.Now, MaxSnapshotBytes: o.MaxSnapshotBytes,
		Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
	})
	return &Rig{Relay: relay, Sources: sources, Buffers: buffers, Store: st, DataDir: dataDir, Findings: core}
}

// Viewer stands for the bridge: it keeps the stream pulling and hands the
// test the units it gets.
type Viewer struct{ units chan avc.AccessUnit }

func (v *Viewer) OnAccessUnit(au avc.AccessUnit) {
	select {
	case v.units <- au:
	default:
	}
}

func (v *Viewer) OnState(media.State) {}

// Watch opens a stream as the view does and waits until its buffer holds
// span of video.
func (r *Rig) Watch(t testing.TB, key media.Key, span time.Duration) *Viewer {
	t.Helper()
	v := &Viewer{units: make(chan avc.AccessUnit, 4096)}
	unsub, err := r.Sources.Subscribe(key, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	deadline := time.Now().Add(span + Within)
	for {
		if ring, ok := r.Buffers.Ring(key); ok {
			if _, _, got := ring.Stats(); got >= span {
				return v
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the buffer of %s did not reach %v", key, span)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// OnScreen is the newest unit the viewer got: the frame on screen.
func (v *Viewer) OnScreen(t testing.TB) avc.AccessUnit {
	t.Helper()
	var au avc.AccessUnit
	select {
	case au = <-v.units:
	case <-time.After(Within):
		t.Fatal("no video")
	}
	for {
		select {
		case au = <-v.units:
		default:
			return au
		}
	}
}

// Snapshot encodes a real JPEG of w×h, different for each seed.
func Snapshot(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y), seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Create commits a finding observed a minute ago, due deadline after,
// straight to the store: for tests of what follows a flag.
func (r *Rig) Create(t testing.TB, text string, deadline time.Duration) store.Finding {
	t.Helper()
	at := time.Now().Add(-time.Minute).UTC()
	f, err := r.Store.Create(context.Background(), store.Flag{
		Site: "site-01", Camera: "doff1", Zone: "doffing_room_1", DeviationText: text, Severity: "major",
		Observer: "duty", ObservedAt: at, Deadline: at.Add(deadline), Snapshot: Snapshot(t, 32, 18, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Rectified marks every pending change of f sent, and applies the site's
// report that it is rectified, as the relay's changes feed would.
func (r *Rig) Rectified(t testing.TB, f store.Finding, cursor int64) {
	t.Helper()
	ctx := context.Background()
	entries, err := r.Store.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.FindingID == f.ID {
			if err := r.Store.MarkSent(ctx, en.Seq); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := r.Store.ApplyRelayChanges(ctx, "http://relay", cursor, []store.RelayChange{{Cursor: cursor, FindingID: f.ID, Status: "rectified",
		Event: store.RelayEvent{At: time.Now(), Actor: "mgr", Role: "site_manager", Action: "rectify", Detail: []byte(`{"note":"done"}`)}}}); err != nil {
		t.Fatal(err)
	}
}

// WaitClip waits until the finding's clip has left the recording state.
func (r *Rig) WaitClip(t testing.TB, id string, within time.Duration) store.Evidence {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		f, err := r.Store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Clip.State != "recording" {
			return *f.Clip
		}
		if time.Now().After(deadline) {
			t.Fatalf("clip still recording after %v", within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// DB opens the console's SQLite file itself, read-only, to see what is
// committed.
func (r *Rig) DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(r.DataDir, "console.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Count is the one number query returns.
func Count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// EvidenceFiles lists the files in the evidence folder (not partial/).
func (r *Rig) EvidenceFiles(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(r.DataDir, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}
