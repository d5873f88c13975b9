package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/runs"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Runs is the checklist runs' store (relay/runs.Store).
type Runs interface {
	File(ctx context.Context, by auth.Principal, id string, ev wire.RunEvent) (wire.Run, bool, error)
	Get(ctx context.Context, by auth.Principal, id string) (wire.Run, error)
	List(ctx context.Context, by auth.Principal, f runs.Filter) ([]wire.Run, error)
	Checks(ctx context.Context, by auth.Principal, per runs.Period) (wire.CheckStats, error)
}

// runEventBytes bounds one run event's JSON (a start carries its template's
// step and deviation ids).
const runEventBytes = 64 << 10

func (s *server) mountRuns(rt *httpapi.Router) {
	rt.Route("/api/v1/runs", httpapi.Methods{http.MethodGet: s.runList})
	rt.Route("/api/v1/runs/{id}", httpapi.Methods{http.MethodGet: s.runGet})
	rt.Route("/api/v1/runs/{id}/events", httpapi.Methods{http.MethodPost: s.runEvent})
	rt.Route("/api/v1/stats/checks", httpapi.Methods{http.MethodGet: s.checkStats})
}

// runEvent files one event of a run: 201 with the run once recorded, 200
// for the same event again.
func (s *server) runEvent(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	var ev wire.RunEvent
	if err := httpapi.Decode(w, r, runEventBytes, &ev); err != nil {
		return err
	}
	if ev.Kind == wire.RunStarted && ev.Site != "" && ev.Camera != "" {
		if _, err := s.Store.Camera(r.Context(), ev.Site, ev.Camera); errors.Is(err, store.ErrNotFound) {
			return &fault.Error{Kind: fault.Unprocessable, Code: "unknown_camera", Field: "camera",
				Message: fmt.Sprintf("camera %s/%s is not one of the relay's", ev.Site, ev.Camera)}
		} else if err != nil {
			return err
		}
	}
	run, created, err := s.Runs.File(r.Context(), p, r.PathValue("id"), ev)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, run)
	return nil
}

func (s *server) runGet(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	run, err := s.Runs.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, run)
	return nil
}

// runList: GET /api/v1/runs?site=&activity=&officer=&from=&to=&ended=&limit=
func (s *server) runList(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := runs.Filter{Site: q.Get("site"), Activity: q.Get("activity"), Officer: q.Get("officer")}
	if f.From, err = queryTime(q.Get("from"), "from"); err != nil {
		return err
	}
	if f.To, err = queryTime(q.Get("to"), "to"); err != nil {
		return err
	}
	if v := q.Get("ended"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("ended %q: want true or false", v)
		}
		f.Ended = &b
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 {
			return badRequest("limit %q: want a whole number from 1", v)
		}
	}
	list, err := s.Runs.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, wire.Runs{Runs: list})
	return nil
}

// checkStats: GET /api/v1/stats/checks?site=&activity=&from=&to=&by=
func (s *server) checkStats(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	per := runs.Period{Site: q.Get("site"), Activity: q.Get("activity"), By: q.Get("by")}
	if per.From, err = queryTime(q.Get("from"), "from"); err != nil {
		return err
	}
	if per.To, err = queryTime(q.Get("to"), "to"); err != nil {
		return err
	}
	stats, err := s.Runs.Checks(r.Context(), p, per)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, stats)
	return nil
}

// queryTime reads an RFC 3339 time from the address; "" is none.
func queryTime(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("%s %q: want an RFC 3339 time like 2026-12-01T00:00:00+08:00", name, v)
	}
	return t, nil
}
