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
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/relayclient/relayclienttest"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

func testLog(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Timestamp().Logger()
}

// asDuty signs in to the relay as its demo duty officer.
func asDuty(t testing.TB, r *relaytest.Relay) *relayclient.Client {
	t.Helper()
	return relayclienttest.SignedIn(t, r.URL(), r.Demo().User, r.Demo().Password)
}

// asManager signs in to the relay as the demo manager of site-01.
func asManager(t testing.TB, r *relaytest.Relay) *relayclient.Client {
	t.Helper()
	creds := r.Demo()
	return relayclienttest.SignedIn(t, r.URL(), creds.Managers[0], creds.ManagerPassword)
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
func finding(t testing.TB, c *relayclient.Client, id string) (wire.Finding, int) {
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

// waitFailedAttempt waits until the forwarder has tried an entry and
// recorded the failure: it has met the relay down.
func waitFailedAttempt(t testing.TB, st *store.Store) {
	t.Helper()
	eventually.True(t, eventually.Ceiling, "a failed attempt recorded", func() bool {
		es, _ := st.Outbox(context.Background(), 0)
		return slices.ContainsFunc(es, func(e store.OutboxEntry) bool { return e.Attempts > 0 })
	})
}

func pending(t testing.TB, st *store.Store) int {
	t.Helper()
	es, err := st.Outbox(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}
