package coverage_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/fakeclock"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

const password = "a long test password"

// TestIntervalsOverHTTP posts watch intervals to a real relay as a
// console does: good batches are recorded on the relay's clock, bad ones
// are refused 4xx naming what was wrong and change nothing, and the audit
// and the coverage report show what was recorded.
func TestIntervalsOverHTTP(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	clock := fakeclock.New(time.Date(2026, 12, 2, 10, 0, 0, 0, shanghai))
	r := relaytest.Start(t, relaytest.Options{Now: clock.Now,
		Config: relaytest.UsersConfig(t, relaytest.User{Name: "sup", Role: "supervisor", Password: password})})
	duty := apitest.SignIn(t, r.URL(), r.Demo().User, r.Demo().Password)
	sup := apitest.SignIn(t, r.URL(), "sup", password)
	mgr := apitest.SignIn(t, r.URL(), r.Demo().Managers[0], r.Demo().ManagerPassword)

	// The console's clock is five minutes behind the relay's.
	skew := 5 * time.Minute
	consoleNow := func() time.Time { return clock.Now().Add(-skew) }
	t0 := clock.Now().Add(-time.Hour) // by the relay's clock
	batch := func(ivs ...wire.WatchInterval) []byte {
		b, _ := json.Marshal(wire.WatchBatch{Console: "console-1", Now: consoleNow(), Intervals: ivs})
		return b
	}
	iv := func(id, site, cam string, from, to time.Duration) wire.WatchInterval {
		return wire.WatchInterval{ID: id, Site: site, Camera: cam, Mode: wire.ModeFocus, Start: t0.Add(from - skew), End: t0.Add(to - skew)}
	}
	status, b := duty.Do("POST", "/api/v1/coverage/intervals", apitest.JSON, batch(iv("a1", "site-01", "doff1", 0, 10*time.Minute)))
	var res wire.WatchBatchResult
	if err := json.Unmarshal(b, &res); status != 200 || err != nil || res.Accepted != 1 || res.SkewMillis != skew.Milliseconds() {
		t.Fatalf("a good batch: %d %s", status, b)
	}
	watches := func() []wire.Watch {
		t.Helper()
		q := url.Values{"from": {t0.Add(-time.Hour).Format(time.RFC3339)}, "to": {clock.Now().Format(time.RFC3339)}}
		status, b := sup.Do("GET", "/api/v1/coverage/watches?"+q.Encode(), nil, nil)
		var w wire.Watches
		if err := json.Unmarshal(b, &w); status != 200 || err != nil {
			t.Fatalf("audit: %d %s", status, b)
		}
		return w.Watches
	}
	if w := watches(); len(w) != 1 || !w[0].Start.Equal(t0) || !w[0].End.Equal(t0.Add(10*time.Minute)) || w[0].Officer != r.Demo().User {
		t.Fatalf("recorded: %+v, want %s's watch from %v by the relay's clock", w, r.Demo().User, t0)
	}
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		code   string
		field  string
	}{
		{"overlap", batch(iv("a2", "site-01", "doff2", 0, time.Minute), iv("a3", "site-01", "doff1", 5*time.Minute, 15*time.Minute)), 409, "overlap", "intervals[1]"},
		{"end before start", batch(iv("a2", "site-01", "doff2", time.Minute, 0)), 422, "invalid_field", "intervals[0].end"},
		{"unknown camera", batch(iv("a2", "site-01", "roof", 0, time.Minute)), 422, "unknown_camera", "intervals[0].camera"},
		{"unknown field", []byte(`{"console":"console-1","now":"2026-12-02T02:00:00Z","intervals":[],"officer":"someone"}`), 400, "unknown_field", "officer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, b := duty.Do("POST", "/api/v1/coverage/intervals", apitest.JSON, c.body)
			e, ok := apitest.Refusal(b)
			if status != c.status || !ok || (c.code != "" && e.Code != c.code) || e.Field != c.field {
				t.Fatalf("%d %s, want %d %s on %q", status, b, c.status, c.code, c.field)
			}
			if w := watches(); len(w) != 1 {
				t.Errorf("a refused batch changed the record: %+v", w)
			}
		})
	}
	if status, b := mgr.Do("POST", "/api/v1/coverage/intervals", apitest.JSON, batch(iv("m1", "site-01", "doff1", 20*time.Minute, 21*time.Minute))); status != 403 {
		t.Errorf("a site manager's intervals: %d %s", status, b)
	}

	// The shift's report counts the ten minutes, to the second.
	status, b = duty.Do("GET", "/api/v1/coverage?site=site-01", nil, nil)
	var cov wire.Coverage
	if err := json.Unmarshal(b, &cov); status != 200 || err != nil || len(cov.Sites) != 1 {
		t.Fatalf("coverage: %d %s", status, b)
	}
	if c := cov.Sites[0].Cameras[0]; c.Camera != "doff1" || c.WatchedSeconds != 600 || !c.LastWatched.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("site-01's doff1: %+v", c)
	}
	if cov.Shift == nil || cov.Shift.ID != "day" {
		t.Errorf("the report's shift: %+v", cov.Shift)
	}
}
