package server

import (
	"context"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// statsRoutes serve the supervisors' statistics and the on-site follow-up
// list under the relay's own paths (docs/PROTOCOLS.md, "Issue 13: the
// console's dashboard, notices and reports"). The filter is the relay's:
// the view's query goes on as it came, so the counts are the review list's
// and a parameter the relay does not know is its 400 invalid_field.
func (h *handler) statsRoutes() {
	rt := h.rt
	rt.Route("/api/v1/stats/findings", httpapi.Methods{"GET": statsCall(h, (*relayclient.Client).FindingStats)})
	rt.Route("/api/v1/stats/rectification", httpapi.Methods{"GET": statsCall(h, (*relayclient.Client).RectificationStats)})
	rt.Route("/api/v1/stats/overdue", httpapi.Methods{"GET": statsCall(h, (*relayclient.Client).OverdueStats)})
	rt.Route("/api/v1/stats/repeats", httpapi.Methods{"GET": statsCall(h, emptyList((*relayclient.Client).RepeatStats))})
	rt.Route("/api/v1/stats/sites", httpapi.Methods{"GET": statsCall(h, emptyList((*relayclient.Client).SiteRanking))})
	rt.Route("/api/v1/stats/coverage", httpapi.Methods{"GET": statsCall(h, emptyList((*relayclient.Client).ShiftCoverageStats))})
	rt.Route("/api/v1/stats/checks", httpapi.Methods{"GET": h.checkStats})
	rt.Route("/api/v1/followups", httpapi.Methods{"GET": h.followups})
	rt.Route("/api/v1/followups/{site}", httpapi.Methods{"PUT": h.follow, "DELETE": h.unfollow})
}

// relay is the signed-in relay's client, or why there is none.
func (h *handler) relay(w http.ResponseWriter) (*relayclient.Client, error) {
	return h.coverageClient(w)
}

type statsFunc[T any] func(c *relayclient.Client, ctx context.Context, q url.Values) (T, error)

// statsCall is a GET passed to the relay with the view's query.
func statsCall[T any](h *handler, call statsFunc[T]) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := h.relay(w)
		if err != nil {
			return err
		}
		out, err := call(c, r.Context(), r.URL.Query())
		return reply(w, http.StatusOK, out, relayAnswer(w, err))
	}
}

// emptyList answers a list the relay has nothing in as [], never null.
func emptyList[T any](call statsFunc[[]T]) statsFunc[[]T] {
	return func(c *relayclient.Client, ctx context.Context, q url.Values) ([]T, error) {
		out, err := call(c, ctx, q)
		if out == nil {
			out = []T{}
		}
		return out, err
	}
}

// GET /api/v1/stats/checks?site=&activity=&from=&to=&by=
func (h *handler) checkStats(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	st, err := c.Checks(r.Context(), r.URL.Query())
	if st.Stats == nil {
		st.Stats = []wire.CheckStat{}
	}
	return reply(w, http.StatusOK, st, relayAnswer(w, err))
}

// GET /api/v1/followups
func (h *handler) followups(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	list, err := c.Followups(r.Context())
	if list == nil {
		list = []wire.Followup{}
	}
	return reply(w, http.StatusOK, list, relayAnswer(w, err))
}

// PUT /api/v1/followups/{site} {"reason","filter"}
func (h *handler) follow(w http.ResponseWriter, r *http.Request) error {
	var in wire.FollowupRequest
	if err := httpapi.Decode(w, r, maxBody, &in); err != nil {
		return err
	}
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	f, err := c.Follow(r.Context(), r.PathValue("site"), in)
	return reply(w, http.StatusOK, f, relayAnswer(w, err))
}

// DELETE /api/v1/followups/{site}
func (h *handler) unfollow(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	if err := relayAnswer(w, c.Unfollow(r.Context(), r.PathValue("site"))); err != nil {
		return err
	}
	noContent(w)
	return nil
}
