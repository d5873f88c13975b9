package server

import (
	"context"
	"net/http"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// Watching records what is on the signed-in officer's screen; the backend
// is it. Signed out, nothing is watched: what was open closes.
type Watching interface {
	SetWatching(ctx context.Context, visible []store.Watching) ([]store.OpenWatch, error)
}

// coverageRoutes serve what is on screen to the backend, and the relay's
// coverage, key moments and unwatched zones to the view under the relay's
// own paths (docs/PROTOCOLS.md, "Issue 11.4: the console's watch coverage").
func (h *handler) coverageRoutes() {
	rt := h.rt
	rt.Route("/api/v1/watching", httpapi.Methods{"PUT": h.putWatching})
	rt.Route("/api/v1/coverage", httpapi.Methods{"GET": h.coverage})
	rt.Route("/api/v1/coverage/moments", httpapi.Methods{"GET": h.moments})
	rt.Route("/api/v1/coverage/unwatched", httpapi.Methods{"GET": h.unwatched})
}

// watchingBody is what the view says is on screen: every camera visible
// in a tile or focused, now. Saying it again changes nothing, so the view
// repeats it as a heartbeat.
type watchingBody struct {
	Visible []store.Watching `json:"visible"`
}

// PUT /api/v1/watching {"visible":[{"camera":"site/camera","mode":"tile"|"focus"}…]}
func (h *handler) putWatching(w http.ResponseWriter, r *http.Request) error {
	if h.opts.Watching == nil {
		return starting(w)
	}
	var in watchingBody
	if err := httpapi.Decode(w, r, maxBody, &in); err != nil {
		return err
	}
	if len(in.Visible) > 100 {
		return fault.Field("visible", "at most 100 cameras are on a screen, not %d", len(in.Visible))
	}
	open, err := h.opts.Watching.SetWatching(r.Context(), in.Visible)
	if open == nil {
		open = []store.OpenWatch{}
	}
	return reply(w, http.StatusOK, map[string]any{"open": open}, err)
}

func (h *handler) coverageClient(w http.ResponseWriter) (*relayclient.Client, error) {
	if h.opts.Coverage == nil {
		return nil, starting(w)
	}
	return h.opts.Coverage()
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fault.New(fault.Invalid, "bad_request", "%s %q: want an RFC 3339 time", name, v)
	}
	return t, nil
}

func durationParam(r *http.Request, name string) (time.Duration, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fault.New(fault.Invalid, "bad_request", "%s %q: want a duration like 1h", name, v)
	}
	return d, nil
}

// GET /api/v1/coverage?from=&to=&at=&site=&zone=&camera=
func (h *handler) coverage(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coverageClient(w)
	if err != nil {
		return err
	}
	q := relayclient.CoverageQuery{Site: r.URL.Query().Get("site"), Zone: r.URL.Query().Get("zone"), Camera: r.URL.Query().Get("camera")}
	for name, t := range map[string]*time.Time{"from": &q.From, "to": &q.To, "at": &q.At} {
		if *t, err = timeParam(r, name); err != nil {
			return err
		}
	}
	cov, err := c.Coverage(r.Context(), q)
	return reply(w, http.StatusOK, cov, relayAnswer(w, err))
}

// GET /api/v1/coverage/moments?back=&ahead=
func (h *handler) moments(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coverageClient(w)
	if err != nil {
		return err
	}
	back, err := durationParam(r, "back")
	if err != nil {
		return err
	}
	ahead, err := durationParam(r, "ahead")
	if err != nil {
		return err
	}
	ms, err := c.Moments(r.Context(), back, ahead)
	return reply(w, http.StatusOK, ms, relayAnswer(w, err))
}

// GET /api/v1/coverage/unwatched?at=
func (h *handler) unwatched(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coverageClient(w)
	if err != nil {
		return err
	}
	at, err := timeParam(r, "at")
	if err != nil {
		return err
	}
	un, err := c.Unwatched(r.Context(), at)
	return reply(w, http.StatusOK, un, relayAnswer(w, err))
}
