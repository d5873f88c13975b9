package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Stats is the supervisors' statistics and the on-site follow-up list
// (relay/stats.Store). Each takes the request's query (the review filter
// and its own parameters), refuses what it does not know, and refuses
// roles itself.
type Stats interface {
	Findings(ctx context.Context, p auth.Principal, q url.Values) (wire.FindingStats, error)
	Rectification(ctx context.Context, p auth.Principal, q url.Values) (wire.RectificationStats, error)
	Overdue(ctx context.Context, p auth.Principal, q url.Values) (wire.OverdueStats, error)
	Repeats(ctx context.Context, p auth.Principal, q url.Values) ([]wire.RepeatSite, error)
	Sites(ctx context.Context, p auth.Principal, q url.Values) ([]wire.RankedSite, error)
	Coverage(ctx context.Context, p auth.Principal, q url.Values) ([]wire.ShiftCoverage, error)
	Followups(ctx context.Context, p auth.Principal) ([]wire.Followup, error)
	Follow(ctx context.Context, p auth.Principal, site string, req wire.FollowupRequest) (wire.Followup, bool, error)
	Unfollow(ctx context.Context, p auth.Principal, site string) error
}

// followupBodyBytes bounds a follow-up's JSON (a reason and a filter).
const followupBodyBytes = 16 << 10

func (s *server) mountStats(rt *httpapi.Router) {
	rt.Route("/api/v1/stats/findings", httpapi.Methods{http.MethodGet: statsOf(s, s.Stats.Findings)})
	rt.Route("/api/v1/stats/rectification", httpapi.Methods{http.MethodGet: statsOf(s, s.Stats.Rectification)})
	rt.Route("/api/v1/stats/overdue", httpapi.Methods{http.MethodGet: statsOf(s, s.Stats.Overdue)})
	rt.Route("/api/v1/stats/repeats", httpapi.Methods{http.MethodGet: statsOf(s, s.Stats.Repeats)})
	rt.Route("/api/v1/stats/sites", httpapi.Methods{http.MethodGet: statsOf(s, s.Stats.Sites)})
	rt.Route("/api/v1/stats/coverage", httpapi.Methods{http.MethodGet: statsOf(s, s.Stats.Coverage)})
	rt.Route("/api/v1/followups", httpapi.Methods{http.MethodGet: s.followups})
	rt.Route("/api/v1/followups/{site}", httpapi.Methods{http.MethodPut: s.follow, http.MethodDelete: s.unfollow})
}

// statsOf answers a statistic from the request's query.
func statsOf[T any](s *server, get func(context.Context, auth.Principal, url.Values) (T, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, _, err := s.principal(r)
		if err != nil {
			return err
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return badRequest("the query string: %v", err)
		}
		v, err := get(r.Context(), p, q)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, v)
		return nil
	}
}

func (s *server) followups(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	list, err := s.Stats.Followups(r.Context(), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
	return nil
}

// follow puts a site on the follow-up list: 201 when it was not on it,
// 200 when it was (its reason and filter replaced).
func (s *server) follow(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	var req wire.FollowupRequest
	if err := httpapi.Decode(w, r, followupBodyBytes, &req); err != nil {
		return err
	}
	f, created, err := s.Stats.Follow(r.Context(), p, r.PathValue("site"), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.Log.Info().Str("user", p.Name).Str("site", f.Site).Msg("site put on the on-site follow-up list")
	}
	httpapi.WriteJSON(w, status, f)
	return nil
}

// unfollow takes a site off the list: 204, whether it was on it or not.
func (s *server) unfollow(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	if err := s.Stats.Unfollow(r.Context(), p, r.PathValue("site")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
