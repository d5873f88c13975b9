package relayclient

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestContractCoverage: a batch of watch intervals from a console whose
// clock is 5 min behind is recorded on the relay's clock and a resend is
// counted as duplicates; overlapping or unknown cameras are refused as
// Errors with their status and code; the shift's coverage, the key
// moments ahead and the zones unwatched read back. (Beside
// contract_test.go, like the runs', so that its tables stay their owners'.)
func TestContractCoverage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	clock := fakeclock.New(time.Date(2026, 12, 2, 10, 0, 0, 0, shanghai))
	r := relaytest.Start(t, relaytest.Options{Now: clock.Now})
	c := signIn(t, r.URL(), r.Demo().User, r.Demo().Password)

	const skew = 5 * time.Minute
	t0 := clock.Now().Add(-time.Hour - skew) // by the console's clock
	batch := wire.WatchBatch{Console: "console-contract", Now: clock.Now().Add(-skew), Intervals: []wire.WatchInterval{
		{ID: "w1", Site: "site-01", Camera: "doff1", Mode: wire.ModeTile, Start: t0, End: t0.Add(10 * time.Minute)},
		{ID: "w2", Site: "site-01", Camera: "doff1", Mode: wire.ModeFocus, Start: t0.Add(10 * time.Minute), End: t0.Add(11 * time.Minute)},
	}}
	res, err := c.PostWatches(ctx, batch)
	if err != nil || res.Accepted != 2 || res.Duplicates != 0 || res.SkewMillis != skew.Milliseconds() {
		t.Fatalf("a batch: %+v, %v", res, err)
	}
	if res, err := c.PostWatches(ctx, batch); err != nil || res.Accepted != 0 || res.Duplicates != 2 {
		t.Fatalf("the batch again: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		name   string
		iv     wire.WatchInterval
		status int
		code   string
	}{
		{"overlap", wire.WatchInterval{ID: "w3", Site: "site-01", Camera: "doff1", Mode: wire.ModeTile, Start: t0.Add(5 * time.Minute), End: t0.Add(20 * time.Minute)}, http.StatusConflict, "overlap"},
		{"unknown camera", wire.WatchInterval{ID: "w3", Site: "site-01", Camera: "roof", Mode: wire.ModeTile, Start: t0, End: t0.Add(time.Minute)}, http.StatusUnprocessableEntity, "unknown_camera"},
	} {
		_, err := c.PostWatches(ctx, wire.WatchBatch{Console: "console-contract", Now: clock.Now().Add(-skew), Intervals: []wire.WatchInterval{tc.iv}})
		var rerr *Error
		if !errors.As(err, &rerr) || rerr.Status != tc.status || rerr.Code != tc.code {
			t.Errorf("%s: %v, want %d %s", tc.name, err, tc.status, tc.code)
		}
	}

	cov, err := c.Coverage(ctx, CoverageQuery{Site: "site-01"})
	if err != nil || len(cov.Sites) != 1 || cov.Shift == nil {
		t.Fatalf("coverage: %+v, %v", cov, err)
	}
	for _, cam := range cov.Sites[0].Cameras {
		if cam.Camera == "doff1" && (cam.WatchedSeconds != 660 || cam.LastWatched == nil || !cam.LastWatched.Equal(t0.Add(11*time.Minute+skew))) {
			t.Errorf("doff1: %+v, want 660 s up to %v by the relay's clock", cam, t0.Add(11*time.Minute+skew))
		}
	}
	ms, err := c.Moments(ctx, time.Hour, 2*time.Hour)
	if err != nil || !ms.Now.Equal(clock.Now()) || len(ms.Moments) == 0 {
		t.Fatalf("moments: %+v, %v", ms, err)
	}
	for _, m := range ms.Moments {
		if m.State != wire.MomentUpcoming || m.Name["zh-CN"] == "" || len(m.Cameras) == 0 {
			t.Errorf("moment at 10:00 for the two hours ahead: %+v", m)
		}
	}
	un, err := c.Unwatched(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, z := range un.Zones {
		seen[z.Site+"/"+z.Zone] = true
	}
	if !seen["site-02/doffing_room_1"] || seen["site-01/doffing_room_1"] {
		t.Errorf("unwatched at 10:00: %+v; want site-02's doffing room 1, not site-01's (seen 55 min ago)", un.Zones)
	}
}
