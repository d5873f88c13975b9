package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Coverage is the record of what was watched (relay/coverage.Store).
type Coverage interface {
	Record(ctx context.Context, officer string, b wire.WatchBatch) (wire.WatchBatchResult, error)
	Report(ctx context.Context, q coverage.Query) (wire.Coverage, error)
	Moments(ctx context.Context, back, ahead time.Duration) (wire.Moments, error)
	Unwatched(ctx context.Context, at time.Time) (wire.Unwatched, error)
	Watches(ctx context.Context, q coverage.WatchQuery) ([]wire.Watch, error)
}

// watchBatchBytes bounds a batch of watch intervals (1000 of ~200 bytes).
const watchBatchBytes = 512 << 10

// Default and longest windows of the key moments a console asks for.
const (
	defaultMomentsBack, defaultMomentsAhead = time.Hour, 2 * time.Hour
	maxMomentsWindow                        = 48 * time.Hour
)

func (s *server) mountCoverage(rt *httpapi.Router) {
	rt.Route("/api/v1/coverage", httpapi.Methods{http.MethodGet: s.coverageReport})
	rt.Route("/api/v1/coverage/intervals", httpapi.Methods{http.MethodPost: s.coverageIntervals})
	rt.Route("/api/v1/coverage/moments", httpapi.Methods{http.MethodGet: s.coverageMoments})
	rt.Route("/api/v1/coverage/unwatched", httpapi.Methods{http.MethodGet: s.coverageUnwatched})
	rt.Route("/api/v1/coverage/watches", httpapi.Methods{http.MethodGet: s.coverageWatches})
}

// watcher returns the caller if their role is one that watches for the
// duty room (duty, supervisor, admin): coverage is never a site manager's.
func (s *server) watcher(r *http.Request) (auth.Principal, error) {
	p, _, err := s.principal(r)
	if err != nil {
		return p, err
	}
	if p.Role == auth.RoleSiteManager {
		return p, fault.New(fault.Forbidden, "forbidden", "the duty room's coverage is not a site manager's to see")
	}
	return p, nil
}

// auditor returns the caller if they may read the audit trail (supervisor, admin).
func (s *server) auditor(r *http.Request) (auth.Principal, error) {
	p, _, err := s.principal(r)
	if err != nil {
		return p, err
	}
	if p.Role != auth.RoleSupervisor && p.Role != auth.RoleAdmin {
		return p, fault.New(fault.Forbidden, "forbidden", "who watched which camera is for supervisors and admins")
	}
	return p, nil
}

func (s *server) coverageIntervals(w http.ResponseWriter, r *http.Request) error {
	p, err := s.watcher(r)
	if err != nil {
		return err
	}
	var b wire.WatchBatch
	if err := httpapi.Decode(w, r, watchBatchBytes, &b); err != nil {
		return err
	}
	res, err := s.Coverage.Record(r.Context(), p.Name, b)
	if err != nil {
		return err
	}
	if res.SkewMillis != 0 {
		s.Log.Info().Str("user", p.Name).Str("console", b.Console).Int64("skew_ms", res.SkewMillis).Msg("watch intervals corrected for the console's clock")
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
	return nil
}

// timeParam parses an RFC 3339 query parameter; zero when absent.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("%s %q: want an RFC 3339 time, e.g. 2026-12-02T08:00:00+08:00", name, v)
	}
	return t, nil
}

// durationParam parses a duration query parameter (90m, 2h).
func durationParam(r *http.Request, name string, def time.Duration) (time.Duration, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxMomentsWindow {
		return 0, badRequest("%s %q: want a duration from 0 to %v, e.g. 2h", name, v, maxMomentsWindow)
	}
	return d, nil
}

// coverageReport answers the coverage of a period: from and to (RFC
// 3339), by default the shift under way; at, when "since last watched" is
// measured (default to, or now); site, zone and camera narrow it.
func (s *server) coverageReport(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.watcher(r); err != nil {
		return err
	}
	var q coverage.Query
	var err error
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}, {"at", &q.At}} {
		if *p.t, err = timeParam(r, p.name); err != nil {
			return err
		}
	}
	if q.From.IsZero() != q.To.IsZero() {
		return badRequest("give both from and to, or neither (the shift under way)")
	}
	if !q.From.IsZero() && !q.To.After(q.From) {
		return badRequest("to %s is not after from %s", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	qv := r.URL.Query()
	q.Site, q.Zone, q.Camera = qv.Get("site"), qv.Get("zone"), qv.Get("camera")
	c, err := s.Coverage.Report(r.Context(), q)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, c)
	return nil
}

// coverageMoments answers the key moments from back before now to ahead
// after it (defaults 1h and 2h), so a console can prompt for them.
func (s *server) coverageMoments(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.watcher(r); err != nil {
		return err
	}
	back, err := durationParam(r, "back", defaultMomentsBack)
	if err != nil {
		return err
	}
	ahead, err := durationParam(r, "ahead", defaultMomentsAhead)
	if err != nil {
		return err
	}
	m, err := s.Coverage.Moments(r.Context(), back, ahead)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

func (s *server) coverageUnwatched(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.watcher(r); err != nil {
		return err
	}
	at, err := timeParam(r, "at")
	if err != nil {
		return err
	}
	u, err := s.Coverage.Unwatched(r.Context(), at)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, u)
	return nil
}

// coverageWatches is the audit trail: who had which camera on screen in
// [from, to) (both required), optionally of one officer, site or camera.
func (s *server) coverageWatches(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.auditor(r); err != nil {
		return err
	}
	var q coverage.WatchQuery
	var err error
	if q.From, err = timeParam(r, "from"); err != nil {
		return err
	}
	if q.To, err = timeParam(r, "to"); err != nil {
		return err
	}
	if q.From.IsZero() || q.To.IsZero() || !q.To.After(q.From) {
		return badRequest("from and to are required, to after from")
	}
	qv := r.URL.Query()
	q.Officer, q.Site, q.Camera = qv.Get("officer"), qv.Get("site"), qv.Get("camera")
	if v := qv.Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > coverage.MaxWatches {
			return badRequest("limit %q: want 1 to %d", v, coverage.MaxWatches)
		}
	}
	list, err := s.Coverage.Watches(r.Context(), q)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, wire.Watches{Watches: list})
	return nil
}
