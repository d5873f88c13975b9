package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// Findings is the findings store (relay/findings.Store).
type Findings interface {
	Create(ctx context.Context, by auth.Principal, d findings.Draft) (findings.Finding, bool, error)
	PutEvidence(ctx context.Context, by auth.Principal, id, kind, contentType, sha string, r io.Reader) (findings.File, bool, error)
	Act(ctx context.Context, by auth.Principal, id string, req findings.Request) (findings.Finding, error)
	Get(ctx context.Context, by auth.Principal, id string) (findings.Finding, error)
	List(ctx context.Context, by auth.Principal, flt findings.Filter) ([]findings.Finding, error)
	Changes(ctx context.Context, after int64, limit int) ([]findings.Change, error)
	Changed() <-chan struct{}
	Open(ctx context.Context, by auth.Principal, id, name string) (*os.File, findings.File, error)
}

// Long-poll bounds of the changes feed, and how many changes one answer holds.
const (
	maxChangesWait  = 30 * time.Second
	changesPerReply = 100
	// findingBodyBytes bounds a finding's and an action's JSON.
	findingBodyBytes = 64 << 10
	// evidenceReadTimeout replaces the server's ReadTimeout for evidence
	// uploads: a 64 MiB clip from a site on a slow line takes a while.
	evidenceReadTimeout = 10 * time.Minute
)

func (s *server) mountFindings(mux *http.ServeMux, route func(string, map[string]http.HandlerFunc)) {
	route("/api/v1/findings", map[string]http.HandlerFunc{http.MethodGet: s.findingList})
	route("/api/v1/findings/{id}", map[string]http.HandlerFunc{http.MethodGet: s.findingGet, http.MethodPut: s.findingPut})
	// Registered by method alone: a catch-all for this path would clash
	// with PUT /api/v1/findings/{id}, whose 405 answers other methods.
	mux.HandleFunc("GET /api/v1/findings/changes", s.findingChanges)
	route("/api/v1/findings/{id}/evidence/{kind}", map[string]http.HandlerFunc{http.MethodPut: s.evidencePut})
	route("/api/v1/findings/{id}/actions", map[string]http.HandlerFunc{http.MethodPost: s.findingAction})
	route("/api/v1/evidence/{id}/{name}", map[string]http.HandlerFunc{http.MethodGet: s.evidenceGet})
}

// findingFailure maps the store's errors to answers.
func findingFailure(err error) error {
	var te *findings.TransitionError
	switch {
	case errors.As(err, &te):
		return fail(http.StatusConflict, "bad_transition", "%s", te.Error())
	case errors.Is(err, findings.ErrNotFound):
		return fail(http.StatusNotFound, "unknown_finding", "%s", err.Error())
	case errors.Is(err, findings.ErrUnknownSite):
		return fail(http.StatusNotFound, "unknown_site", "%s", err.Error())
	case errors.Is(err, findings.ErrBadEvidence):
		return fail(http.StatusNotFound, "unknown_evidence", "%s", err.Error())
	case errors.Is(err, findings.ErrConflict):
		return fail(http.StatusConflict, "conflict", "%s", err.Error())
	case errors.Is(err, findings.ErrForbidden):
		return fail(http.StatusForbidden, "forbidden", "%s", err.Error())
	case errors.Is(err, findings.ErrInvalid):
		return fail(http.StatusUnprocessableEntity, "invalid_field", "%s", err.Error())
	case errors.Is(err, findings.ErrTooLarge):
		return fail(http.StatusRequestEntityTooLarge, "body_too_large", "%s", err.Error())
	case errors.Is(err, findings.ErrContentType):
		return fail(http.StatusUnsupportedMediaType, "bad_content_type", "%s", err.Error())
	case errors.Is(err, findings.ErrDigest):
		return fail(http.StatusBadRequest, "digest_mismatch", "%s", err.Error())
	}
	return err
}

// jsonBody reads a JSON request body of at most findingBodyBytes.
func jsonBody(w http.ResponseWriter, r *http.Request, v any, strict bool) error {
	if got, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || got != "application/json" {
		return fail(http.StatusUnsupportedMediaType, "bad_content_type", "Content-Type is %q; want application/json", r.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, findingBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fail(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over %d bytes", findingBodyBytes)
	}
	if err != nil {
		return fail(http.StatusBadRequest, "bad_request", "reading the request body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fail(http.StatusBadRequest, "bad_request", "the body is not the JSON expected: %v", err)
	}
	return nil
}

func (s *server) findingPut(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	id := r.PathValue("id")
	// The console sends its whole finding: fields the relay keeps itself
	// (status, revision, evidence) are ignored, not refused.
	var d findings.Draft
	if err := jsonBody(w, r, &d, false); err != nil {
		s.respond(w, r, err)
		return
	}
	if d.ID == "" {
		d.ID = id
	}
	if d.ID != id {
		s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "the body's id %q is not the path's %q", d.ID, id))
		return
	}
	f, created, err := s.Findings.Create(r.Context(), p, d)
	if err != nil {
		s.respond(w, r, findingFailure(err))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.Log.Info().Str("finding", id).Str("site", d.Site).Str("user", p.Name).Msg("finding filed")
	}
	writeJSON(w, status, f)
}

func (s *server) evidencePut(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	kind := r.PathValue("kind")
	max := findings.MaxEvidenceBytes(kind)
	if max == 0 {
		s.respond(w, r, fail(http.StatusNotFound, "unknown_evidence", "evidence is snapshot or clip, not %q", kind))
		return
	}
	if r.ContentLength > max {
		s.respond(w, r, fail(http.StatusRequestEntityTooLarge, "body_too_large", "a %s is at most %d bytes; this one is %d", kind, max, r.ContentLength))
		return
	}
	ctype, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		s.respond(w, r, fail(http.StatusUnsupportedMediaType, "bad_content_type", "Content-Type %q is not a media type", r.Header.Get("Content-Type")))
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(evidenceReadTimeout))
	file, created, err := s.Findings.PutEvidence(r.Context(), p, r.PathValue("id"), kind, ctype,
		strings.TrimSpace(r.Header.Get("X-Content-SHA256")), http.MaxBytesReader(w, r.Body, max+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = fmt.Errorf("%w: over %d bytes", findings.ErrTooLarge, max)
	}
	if err != nil {
		s.respond(w, r, findingFailure(err))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, file)
}

func (s *server) findingAction(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	var req findings.Request
	if err := jsonBody(w, r, &req, true); err != nil {
		s.respond(w, r, err)
		return
	}
	f, err := s.Findings.Act(r.Context(), p, r.PathValue("id"), req)
	if err != nil {
		s.respond(w, r, findingFailure(err))
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *server) findingGet(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	f, err := s.Findings.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		s.respond(w, r, findingFailure(err))
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (s *server) findingList(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	q := r.URL.Query()
	flt := findings.Filter{Site: q.Get("site")}
	if v := q.Get("status"); v != "" {
		for _, name := range strings.Split(v, ",") {
			st, err := findings.ParseStatus(name)
			if err != nil {
				s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "%s", strings.TrimPrefix(err.Error(), "invalid: ")))
				return
			}
			flt.Statuses = append(flt.Statuses, st)
		}
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "overdue %q: want true or false", v))
			return
		}
		flt.Overdue = &b
	}
	list, err := s.Findings.List(r.Context(), p, flt)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": list})
}

// findingChanges is the long poll consoles follow (docs/PROTOCOLS.md): it
// answers at once when there are changes after the cursor, else when one
// comes, else after wait seconds with none; at shutdown at once.
func (s *server) findingChanges(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	if !findings.MayFollow(p.Role) {
		s.respond(w, r, fail(http.StatusForbidden, "forbidden", "a %s may not follow every finding's changes", p.Role))
		return
	}
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "after %q: want a cursor, a whole number from 0", v))
			return
		}
	}
	wait := time.Duration(0)
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs != secs {
			s.respond(w, r, fail(http.StatusBadRequest, "bad_request", "wait %q: want seconds, 0 to 30", v))
			return
		}
		wait = min(time.Duration(secs*float64(time.Second)), maxChangesWait)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	ctx := r.Context()
	for {
		changed := s.Findings.Changed()
		changes, err := s.Findings.Changes(ctx, after, changesPerReply)
		if err != nil {
			s.respond(w, r, err)
			return
		}
		if len(changes) > 0 {
			writeJSON(w, http.StatusOK, map[string]any{"cursor": changes[len(changes)-1].Cursor, "changes": changes})
			return
		}
		select {
		case <-changed:
			continue
		case <-timer.C:
		case <-s.Stopping:
		case <-ctx.Done():
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"cursor": after, "changes": []findings.Change{}})
		return
	}
}

func (s *server) evidenceGet(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	serveEvidence(w, r, s.Findings, p, r.PathValue("id"), r.PathValue("name"), func(err error) { s.respond(w, r, findingFailure(err)) })
}

// serveEvidence answers with an evidence file, Range requests included.
func serveEvidence(w http.ResponseWriter, r *http.Request, st Findings, by auth.Principal, id, name string, fail func(error)) {
	fh, file, err := st.Open(r.Context(), by, id, name)
	if err != nil {
		fail(err)
		return
	}
	defer fh.Close()
	h := w.Header()
	h.Set("Content-Type", file.ContentType)
	h.Set("Cache-Control", "private, max-age=86400") // named by content: never changes
	h.Set("ETag", `"`+file.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", file.AddedAt, fh)
}
