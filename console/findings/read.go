package findings

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/jsonapi"
	"github.com/qianliyan/qianliyan/console/store"
)

// listWindow is how far back GET /api/v1/findings looks by default.
const listWindow = 24 * time.Hour

// GET /api/v1/findings?since=RFC3339&status=a,b&overdue=1
//
// The default is the last 24 h. A status or overdue filter looks at every
// age instead (unless since is given too): a rectified finding awaits its
// re-check however old it is.
func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f store.Filter
	filtered := false
	if s := q.Get("status"); s != "" {
		for _, st := range strings.Split(s, ",") {
			st = strings.TrimSpace(st)
			if !store.IsStatus(st) {
				return invalid("status", "%q is not a status (open, acknowledged, rectified, verified, reopened, withdrawn)", st)
			}
			f.Statuses = append(f.Statuses, st)
		}
		filtered = true
	}
	if s := q.Get("overdue"); s != "" {
		var v bool
		switch s {
		case "1", "true":
			v = true
		case "0", "false":
		default:
			return invalid("overdue", "%q is not 1, true, 0 or false", s)
		}
		f.Overdue, f.Now, filtered = &v, a.opts.Now(), true
	}
	if !filtered {
		f.Since = a.opts.Now().Add(-listWindow)
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return invalid("since", "%q is not an RFC 3339 time", s)
		}
		f.Since = t
	}
	fs, err := a.opts.Store.Query(r.Context(), f)
	if err != nil {
		return fromStore(err)
	}
	if fs == nil {
		fs = []store.Finding{}
	}
	jsonapi.Write(w, http.StatusOK, map[string]any{"findings": fs})
	return nil
}

// findingWithHistory is GET /api/v1/findings/{id}'s answer.
type findingWithHistory struct {
	store.Finding
	Events []store.Event `json:"events"`
}

// GET /api/v1/findings/{id}
func (a *API) get(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	f, err := a.opts.Store.Get(r.Context(), id)
	if err != nil {
		return fromStore(err)
	}
	events, err := a.opts.Store.Events(r.Context(), id)
	if err != nil {
		return fromStore(err)
	}
	if events == nil {
		events = []store.Event{}
	}
	jsonapi.Write(w, http.StatusOK, findingWithHistory{f, events})
	return nil
}

// PATCH /api/v1/findings/{id}
func (a *API) edit(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Note     *string `json:"note"`
		Severity *string `json:"severity"`
		Deadline *string `json:"deadline"`
	}
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	actor, err := a.observer(r.Context())
	if err != nil {
		return err
	}
	var e store.Edit
	e.Note = in.Note
	if in.Severity != nil {
		switch *in.Severity {
		case "critical", "major", "minor":
			e.Severity = in.Severity
		default:
			return invalid("severity", "%q is not one of critical, major, minor", *in.Severity)
		}
	}
	if in.Deadline != nil {
		d, err := parseDeadline(*in.Deadline, a.opts.Now(), 0)
		if err != nil {
			return err
		}
		e.Deadline = &d
	}
	if e.Note == nil && e.Severity == nil && e.Deadline == nil {
		return fail(http.StatusBadRequest, "bad_request", "", "nothing to change: give note, severity or deadline")
	}
	f, err := a.opts.Store.Update(r.Context(), r.PathValue("id"), actor, e)
	if err != nil {
		return fromStore(err)
	}
	jsonapi.Write(w, http.StatusOK, f)
	return nil
}

// POST /api/v1/findings/{id}/withdraw
func (a *API) withdraw(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, smallBody, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return invalid("reason", "required: why the finding is taken back")
	}
	actor, err := a.observer(r.Context())
	if err != nil {
		return err
	}
	f, err := a.opts.Store.Withdraw(r.Context(), r.PathValue("id"), actor, in.Reason)
	if errors.Is(err, store.ErrInvalid) {
		// The reason is there: what is refused is the finding's state.
		return fail(http.StatusConflict, "not_withdrawable", "", "%v", err)
	}
	if err != nil {
		return fromStore(err)
	}
	jsonapi.Write(w, http.StatusOK, f)
	return nil
}

// GET /api/v1/evidence/{file}: a snapshot or clip a finding refers to, and
// nothing else from the evidence folder.
func (a *API) evidence(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	ev, err := a.opts.Store.EvidenceFile(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return fail(http.StatusNotFound, "unknown_evidence", "", "no evidence file %q", name)
	}
	if err != nil {
		return err
	}
	path, err := a.opts.Store.EvidencePath(ev.File)
	if err != nil {
		return fail(http.StatusNotFound, "unknown_evidence", "", "no evidence file %q", name)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(http.StatusNotFound, "evidence_missing", "", "evidence file %q is recorded but not on disk", name)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	switch strings.ToLower(filepath.Ext(ev.File)) {
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
	http.ServeContent(w, r, ev.File, st.ModTime(), f)
	return nil
}
