package forward

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestWatchesForwardedAcrossARelayOutageSkewCorrected: a console whose
// clock is 5 min behind the relay's records ten minutes of watching while
// the relay is down; once it is back the relay has exactly the seconds
// driven, at the times driven moved by the 5 min (the relay's clock is the
// record), and the outbox sent again from the start changes nothing.
func TestWatchesForwardedAcrossARelayOutageSkewCorrected(t *testing.T) {
	ctx := context.Background()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	clock := fakeclock.New(time.Date(2026, 12, 2, 11, 0, 0, 0, shanghai))
	const skew = 5 * time.Minute
	consoleNow := func() time.Time { return clock.Now().Add(-skew) }
	tr := relaytest.Start(t, relaytest.Options{Now: clock.Now})
	duty := asDuty(t, tr)
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	runForwarder(t, st, duty, Options{Poll: 100 * time.Millisecond, Now: consoleNow})
	tr.Stop(t)

	// Every 15 s for 10 min, by the console's clock, 40 min ago: doff1 in a
	// tile throughout, doff2 for the first 20 s and from 300 s, waste
	// focused between.
	base := consoleNow().Add(-40 * time.Minute)
	for sec := 0; sec < 600; sec += 5 {
		vis := []store.Watching{{Camera: "site-01/doff1", Mode: store.WatchTile}}
		switch {
		case sec < 20 || sec >= 300:
			vis = append(vis, store.Watching{Camera: "site-01/doff2", Mode: store.WatchTile})
		default:
			vis = append(vis, store.Watching{Camera: "site-01/waste", Mode: store.WatchFocus})
		}
		if _, err := st.SetWatching(ctx, store.WatchUpdate{Officer: tr.Demo().User, Relay: duty.BaseURL(),
			At: base.Add(time.Duration(sec) * time.Second), Visible: vis}); err != nil {
			t.Fatal(err)
		}
	}
	end := base.Add(600 * time.Second)
	if err := st.EndWatching(ctx, end); err != nil {
		t.Fatal(err)
	}
	waitFailedAttempt(t, st)

	tr.Resume(t)
	// The forwarder's backoff runs on the console's clock: past it, once,
	// so that the console's now and the relay's differ by the skew alone.
	clock.Advance(time.Second)
	eventually.True(t, eventually.Ceiling, "the outbox drained", func() bool {
		return pending(t, st) == 0
	})
	local := openConsoleDB(t, dir)
	if n := count(t, local, `SELECT count(*) FROM outbox WHERE failed_at != ''`); n != 0 {
		t.Fatalf("%d watch batches refused by the relay", n)
	}
	check := func(when string) {
		t.Helper()
		cov, err := duty.Coverage(ctx, relayclient.CoverageQuery{From: base.Add(skew - time.Hour), To: end.Add(skew + time.Hour),
			At: clock.Now(), Site: "site-01"})
		if err != nil || len(cov.Sites) != 1 {
			t.Fatalf("%s: coverage %+v, %v", when, cov, err)
		}
		got := map[string]int64{}
		for _, c := range cov.Sites[0].Cameras {
			got[c.Camera] = c.WatchedSeconds
			if c.Camera == "doff1" && (c.LastWatched == nil || !c.LastWatched.Equal(end.Add(skew))) {
				t.Errorf("%s: doff1 last watched %v, want %v (the console's end moved by its skew)", when, c.LastWatched, end.Add(skew))
			}
		}
		if got["doff1"] != 600 || got["doff2"] != 320 || got["waste"] != 280 {
			t.Errorf("%s: seconds watched %v, want doff1 600, doff2 320, waste 280", when, got)
		}
	}
	check("forwarded")

	writable, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "console.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer writable.Close()
	if _, err := writable.Exec(`UPDATE outbox SET sent_at = '' WHERE kind = 'watch'`); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the outbox drained again", func() bool {
		return pending(t, st) == 0
	})
	if n := count(t, local, `SELECT count(*) FROM outbox WHERE failed_at != ''`); n != 0 {
		t.Fatalf("%d batches refused on the second sending", n)
	}
	check("sent again")
}

// TestWatchesWaitForTheirOfficer: a batch of another officer's watching (a
// shift before, on this console) is not sent under this officer's sign-in,
// where the relay would record it as theirs; this officer's is.
func TestWatchesWaitForTheirOfficer(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	st := openStore(t)
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, officer := range []string{"night-officer", tr.Demo().User} {
		if _, err := st.SetWatching(ctx, store.WatchUpdate{Officer: officer, Relay: duty.BaseURL(), At: at,
			Visible: []store.Watching{{Camera: "site-01/doff1", Mode: store.WatchTile}}}); err != nil {
			t.Fatal(err)
		}
		at = at.Add(30 * time.Second) // within a heartbeat's silence
		if err := st.EndWatching(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if es, _ := st.Outbox(ctx, 0); len(es) != 2 {
		t.Fatalf("%d batches queued, want 2", len(es))
	}
	runForwarder(t, st, duty, Options{Poll: 50 * time.Millisecond})
	var left []store.OutboxEntry
	eventually.True(t, eventually.Ceiling, "this officer's batch sent", func() bool {
		left, _ = st.Outbox(ctx, 0)
		return len(left) == 1
	})
	b, err := st.WatchBatchOf(ctx, left[0])
	if err != nil || b.Officer != "night-officer" || left[0].Attempts != 0 {
		t.Fatalf("left %+v: batch %+v, %v; want the night officer's, never tried", left[0], b, err)
	}
	cov, err := duty.Coverage(ctx, relayclient.CoverageQuery{From: at.Add(-time.Hour), To: at, At: at, Site: "site-01"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cov.Sites[0].Cameras {
		if c.Camera == "doff1" && c.WatchedSeconds != 30 {
			t.Errorf("doff1 at the relay: %d s, want this officer's 30", c.WatchedSeconds)
		}
	}
}
