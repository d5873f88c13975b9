package server

import (
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/findings"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// findingsRoutes serves the checklists, runs, findings and their evidence
// (docs/PROTOCOLS.md, rounds 3 and 5).
func (h *handler) findingsRoutes() {
	rt := h.rt
	rt.Route("/api/v1/checklists", httpapi.Methods{"GET": h.checklists})
	rt.Route("/api/v1/runs", httpapi.Methods{"GET": h.listRuns, "POST": h.createRun})
	rt.Route("/api/v1/runs/{id}", httpapi.Methods{"GET": h.getRun})
	rt.Route("/api/v1/runs/{id}/marks", httpapi.Methods{"POST": h.mark})
	rt.Route("/api/v1/runs/{id}/timers", httpapi.Methods{"POST": h.timer})
	rt.Route("/api/v1/runs/{id}/findings", httpapi.Methods{"POST": h.runFinding})
	rt.Route("/api/v1/runs/{id}/end", httpapi.Methods{"POST": h.endRun})
	rt.Route("/api/v1/findings", httpapi.Methods{"GET": h.listFindings, "POST": h.flag})
	rt.Route("/api/v1/findings/{id}", httpapi.Methods{"GET": h.finding, "PATCH": h.editFinding})
	rt.Route("/api/v1/findings/{id}/withdraw", httpapi.Methods{"POST": h.withdraw})
	rt.Route("/api/v1/findings/{id}/verify", httpapi.Methods{"POST": h.verify})
	rt.Route("/api/v1/findings/{id}/reopen", httpapi.Methods{"POST": h.reopen})
	rt.Route("/api/v1/findings/{id}/retry", httpapi.Methods{"POST": h.retry})
	rt.Route("/api/v1/evidence/{file}", httpapi.Methods{"GET": h.evidence})
}

// findings is the findings core, or the answer while there is none yet.
func (h *handler) findings(w http.ResponseWriter) (*findings.Service, error) {
	if h.opts.Findings != nil {
		if f := h.opts.Findings(); f != nil {
			return f, nil
		}
	}
	return nil, starting(w)
}

// decodeFinding reads the findings core, then the request body into v:
// both needed by every handler that changes something.
func (h *handler) decodeFinding(w http.ResponseWriter, r *http.Request, v any) (*findings.Service, error) {
	f, err := h.findings(w)
	if err != nil {
		return nil, err
	}
	return f, httpapi.Decode(w, r, maxFindingBody, v)
}

// reply writes v with status, or returns err.
func reply[T any](w http.ResponseWriter, status int, v T, err error) error {
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, status, v)
	return nil
}

// GET /api/v1/checklists?zone=ZONE
func (h *handler) checklists(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	lists, err := f.Checklists(r.URL.Query().Get("zone"))
	return reply(w, http.StatusOK, lists, err)
}

// POST /api/v1/runs
func (h *handler) createRun(w http.ResponseWriter, r *http.Request) error {
	var in findings.NewRun
	f, err := h.decodeFinding(w, r, &in)
	if err != nil {
		return err
	}
	run, err := f.CreateRun(r.Context(), in)
	return reply(w, http.StatusCreated, run, err)
}

// POST /api/v1/runs/{id}/marks
func (h *handler) mark(w http.ResponseWriter, r *http.Request) error {
	var in findings.Marking
	f, err := h.decodeFinding(w, r, &in)
	if err != nil {
		return err
	}
	u, err := f.Mark(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusOK, u, err)
}

// POST /api/v1/runs/{id}/timers
func (h *handler) timer(w http.ResponseWriter, r *http.Request) error {
	var in findings.TimerAction
	f, err := h.decodeFinding(w, r, &in)
	if err != nil {
		return err
	}
	u, err := f.Timer(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusOK, u, err)
}

// GET /api/v1/findings?since=RFC3339&status=a,b&overdue=1
func (h *handler) listFindings(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	q, err := findingsQuery(r)
	if err != nil {
		return err
	}
	list, err := f.List(r.Context(), q)
	if err != nil {
		return err
	}
	// How current the relay's findings are, for the view to mark a list
	// last known while the relay cannot be reached.
	fresh, err := f.Freshness(r.Context())
	return reply(w, http.StatusOK, map[string]any{"findings": list, "relay": fresh}, err)
}

// findingsQuery reads the list's filters from the address.
func findingsQuery(r *http.Request) (findings.Query, error) {
	v := r.URL.Query()
	var q findings.Query
	if s := v.Get("status"); s != "" {
		for _, st := range strings.Split(s, ",") {
			q.Statuses = append(q.Statuses, strings.TrimSpace(st))
		}
	}
	if s := v.Get("overdue"); s != "" {
		var overdue bool
		switch s {
		case "1", "true":
			overdue = true
		case "0", "false":
		default:
			return q, fault.Field("overdue", "%q is not 1, true, 0 or false", s)
		}
		q.Overdue = &overdue
	}
	if s := v.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fault.Field("since", "%q is not an RFC 3339 time", s)
		}
		q.Since = t
	}
	return q, nil
}

// POST /api/v1/findings: the finding is committed, with its snapshot, before
// the 201; the clip goes on recording after it.
func (h *handler) flag(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	var in findings.FlagRequest
	// Base64 takes 4 bytes for 3; the rest of the body is small.
	if err := httpapi.Decode(w, r, int64(f.MaxSnapshotBytes())/3*4+maxFindingBody, &in); err != nil {
		return err
	}
	finding, err := f.Flag(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/findings/"+finding.ID)
	httpapi.WriteJSON(w, http.StatusCreated, finding)
	return nil
}

// GET /api/v1/findings/{id}: the finding and its history.
func (h *handler) finding(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	rec, err := f.Get(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, rec, err)
}

// PATCH /api/v1/findings/{id}
func (h *handler) editFinding(w http.ResponseWriter, r *http.Request) error {
	var in findings.Edit
	f, err := h.decodeFinding(w, r, &in)
	if err != nil {
		return err
	}
	finding, err := f.Edit(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusOK, finding, err)
}

// POST /api/v1/findings/{id}/withdraw
func (h *handler) withdraw(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	f, err := h.decodeFinding(w, r, &in)
	if err != nil {
		return err
	}
	finding, err := f.Withdraw(r.Context(), r.PathValue("id"), in.Reason)
	return reply(w, http.StatusOK, finding, err)
}

// POST /api/v1/findings/{id}/verify
func (h *handler) verify(w http.ResponseWriter, r *http.Request) error {
	var in findings.Recheck
	f, err := h.decodeRecheck(w, r, &in)
	if err != nil {
		return err
	}
	finding, err := f.Verify(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusOK, finding, err)
}

// POST /api/v1/findings/{id}/reopen
func (h *handler) reopen(w http.ResponseWriter, r *http.Request) error {
	var in findings.Recheck
	f, err := h.decodeRecheck(w, r, &in)
	if err != nil {
		return err
	}
	finding, err := f.Reopen(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusOK, finding, err)
}

// decodeRecheck reads a verify or reopen, which may carry the snapshot
// re-checked on: base64 takes 4 bytes for 3.
func (h *handler) decodeRecheck(w http.ResponseWriter, r *http.Request, in *findings.Recheck) (*findings.Service, error) {
	f, err := h.findings(w)
	if err != nil {
		return nil, err
	}
	return f, httpapi.Decode(w, r, int64(f.MaxSnapshotBytes())/3*4+maxFindingBody, in)
}

// POST /api/v1/findings/{id}/retry: the body, if any, is not read: there is
// nothing to say but "again".
func (h *handler) retry(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	finding, err := f.Retry(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, finding, err)
}

// GET /api/v1/evidence/{file}: a snapshot or clip a finding refers to, with
// Range.
func (h *handler) evidence(w http.ResponseWriter, r *http.Request) error {
	f, err := h.findings(w)
	if err != nil {
		return err
	}
	ev, err := f.Evidence(r.Context(), r.PathValue("file"))
	if err != nil {
		return err
	}
	defer ev.File.Close()
	switch strings.ToLower(filepath.Ext(ev.Name)) {
	case ".jpg", ".jpeg":
		w.Header().Set("Content-Type", "image/jpeg")
	case ".mp4":
		w.Header().Set("Content-Type", "video/mp4")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	// Named by content hash: a file never changes under its name.
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	if ev.SHA256 != "" {
		w.Header().Set("ETag", `"`+ev.SHA256+`"`)
	}
	http.ServeContent(w, r, ev.Name, ev.ModTime, ev.File)
	return nil
}
