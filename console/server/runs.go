package server

import (
	"net/http"
	"strconv"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/internal/fault"
)

// GET /api/v1/runs?open=1: the console's checklist runs, oldest first;
// open=1 (the view's question after a restart) those going on only.
func (h *handler) listRuns(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	open := false
	if v := r.URL.Query().Get("open"); v != "" {
		if open, err = strconv.ParseBool(v); err != nil {
			return fault.New(fault.Invalid, "bad_request", "open %q: want 1 or 0", v)
		}
	}
	list, err := f.ListRuns(r.Context(), open)
	return reply(w, http.StatusOK, map[string]any{"runs": list}, err)
}

// GET /api/v1/runs/{id}
func (h *handler) getRun(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	run, err := f.GetRun(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, run, err)
}

// POST /api/v1/runs/{id}/findings {"finding_id": …}: the run produced it.
func (h *handler) runFinding(w http.ResponseWriter, r *http.Request) error {
	var in findings.RunFinding
	f, err := h.decodeFinding(w, r, &in)
	if err != nil {
		return err
	}
	run, err := f.AddFinding(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusOK, run, err)
}

// POST /api/v1/runs/{id}/end
func (h *handler) endRun(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	run, err := f.EndRun(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, run, err)
}
