// Package findingstest starts the console's findings core for tests, over
// the real parts: the real relay in-process (relay/relaytest) with a camera
// publishing real H.264 to it, the console's sources pulling from it with
// their rolling buffers, the clip recorder and a real store in a temporary
// folder.
package findingstest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	"github.com/qianliyan/qianliyan/console/media"
	"github.com/qianliyan/qianliyan/console/mediatest"
	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// Within bounds every wait for video or a clip beyond its own length: it
// only catches a hang.
const Within = eventually.Ceiling

// Clip bounds of the rig's recorder.
const ClipBefore, ClipAfter = 3 * time.Second, time.Second

// Doff1 is the main stream of the relay's first camera, the one publishing.
var Doff1 = media.Key{Site: "site-01", Camera: "doff1", Stream: "main"}

// User is the officer the rig is signed in as: the relay's demo duty
// officer.
const User = "duty"

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
	relay := relaytest.Start(t, relaytest.Options{Cameras: []string{Doff1.Site + "/" + Doff1.Camera}})
	creds := relay.Demo()
	if creds.User != User {
		t.Fatalf("the relay's duty officer is %q, not findingstest.User", creds.User)
	}
	rc := relayclienttest.SignedIn(t, relay.URL(), creds.User, creds.Password)
	buffers := evidence.NewBuffers(ClipBefore+evidence.KeepMargin, evidence.MaxBufferBytes, nil)
	sources := mediatest.Sources(t, rc, media.Options{Tap: buffers.Tap, Log: zerolog.Nop()})
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
	user := User
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

// Watch opens a stream as the view does and waits until its buffer holds
// span of video; the viewer has the frame on screen.
func (r *Rig) Watch(t testing.TB, key media.Key, span time.Duration) *mediatest.Viewer {
	t.Helper()
	v, _ := mediatest.Watch(t, r.Sources, key)
	eventually.True(t, span+Within, fmt.Sprintf("the buffer of %v holding %v", key, span), func() bool {
		ring, ok := r.Buffers.Ring(key)
		if !ok {
			return false
		}
		_, _, got := ring.Stats()
		return got >= span
	})
	return v
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
	var clip store.Evidence
	eventually.True(t, within, "the clip of "+id+" filed", func() bool {
		f, err := r.Store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		clip = *f.Clip
		return clip.State != "recording"
	})
	return clip
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
