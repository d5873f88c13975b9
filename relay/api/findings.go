package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Findings is the findings store (relay/findings.Store).
type Findings interface {
	Create(ctx context.Context, by auth.Principal, d findings.Draft) (findings.Finding, bool, error)
	PutEvidence(ctx context.Context, by auth.Principal, id, kind, contentType, sha string, r io.Reader) (findings.File, bool, error)
	PutRecheck(ctx context.Context, by auth.Principal, id, kind, actionID, contentType, sha string, r io.Reader) (findings.File, bool, error)
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

func (s *server) mountFindings(rt *httpapi.Router) {
	rt.Route("/api/v1/findings", httpapi.Methods{http.MethodGet: s.findingList})
	rt.Route("/api/v1/findings/changes", httpapi.Methods{http.MethodGet: s.findingChanges})
	rt.Route("/api/v1/findings/{id}", httpapi.Methods{http.MethodGet: s.findingGet, http.MethodPut: s.findingPut})
	rt.Route("/api/v1/findings/{id}/evidence/{kind}", httpapi.Methods{http.MethodPut: s.evidencePut})
	rt.Route("/api/v1/findings/{id}/actions", httpapi.Methods{http.MethodPost: s.findingAction})
	rt.Route("/api/v1/evidence/{id}/{name}", httpapi.Methods{http.MethodGet: s.evidenceGet})
}

func badRequest(format string, args ...any) error {
	return fault.New(fault.Invalid, "bad_request", format, args...)
}

// findingPut files a finding: the body is exactly what the console says of
// it (wire.Draft); the fields the relay keeps itself are refused like any
// other unknown field.
func (s *server) findingPut(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var d findings.Draft
	if err := httpapi.Decode(w, r, findingBodyBytes, &d); err != nil {
		return err
	}
	if d.ID == "" {
		d.ID = id
	}
	if d.ID != id {
		return badRequest("the body's id %q is not the path's %q", d.ID, id)
	}
	if err := s.checkCamera(r.Context(), d.Site, d.Camera); err != nil {
		return err
	}
	f, created, err := s.Findings.Create(r.Context(), p, d)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.Log.Info().Str("finding", id).Str("site", d.Site).Str("user", p.Name).Msg("finding filed")
	}
	httpapi.WriteJSON(w, status, f)
	return nil
}

// checkCamera refuses a finding of a camera its site does not have. A
// missing camera is the findings core's to refuse (a field missing), and
// so is an unknown site (unknown_site): checked here is only a camera
// named at a site the relay knows.
func (s *server) checkCamera(ctx context.Context, site, camera string) error {
	if camera == "" {
		return nil
	}
	_, err := s.Store.Camera(ctx, site, camera)
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	sites, err := s.Store.Sites(ctx)
	if err != nil {
		return err
	}
	for _, st := range sites {
		if st.ID == site {
			return &fault.Error{Kind: fault.Unprocessable, Code: "unknown_camera", Field: "camera",
				Message: fmt.Sprintf("camera %q is not one of site %s's cameras", camera, site)}
		}
	}
	return nil
}

// evidencePut stores a snapshot or clip as it arrives, never whole in
// memory; a body announced larger than its kind allows is refused before
// it is read.
func (s *server) evidencePut(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	kind := r.PathValue("kind")
	max := findings.MaxEvidenceBytes(kind)
	if max == 0 {
		return fault.New(fault.NotFound, "unknown_evidence", "evidence is snapshot, clip, recheck or recheck_clip, not %q", kind)
	}
	if r.ContentLength > max {
		return fault.New(fault.TooLarge, "body_too_large", "a %s is at most %d bytes; this one is %d", kind, max, r.ContentLength)
	}
	ctype, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return fault.New(fault.UnsupportedType, "bad_content_type", "Content-Type %q is not a media type", r.Header.Get("Content-Type"))
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(evidenceReadTimeout))
	sha, body := strings.TrimSpace(r.Header.Get(wire.HeaderContentSHA256)), http.MaxBytesReader(w, r.Body, max+1)
	var file findings.File
	var created bool
	if kind == wire.EvidenceRecheck || kind == wire.EvidenceRecheckClip {
		file, created, err = s.Findings.PutRecheck(r.Context(), p, r.PathValue("id"), kind, r.URL.Query().Get(wire.QueryActionID), ctype, sha, body)
	} else {
		file, created, err = s.Findings.PutEvidence(r.Context(), p, r.PathValue("id"), kind, ctype, sha, body)
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = fmt.Errorf("%w: over %d bytes", findings.ErrTooLarge, max)
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpapi.WriteJSON(w, status, file)
	return nil
}

func (s *server) findingAction(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	var req findings.Request
	if err := httpapi.Decode(w, r, findingBodyBytes, &req); err != nil {
		return err
	}
	f, err := s.Findings.Act(r.Context(), p, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, f)
	return nil
}

func (s *server) findingGet(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	f, err := s.Findings.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, f)
	return nil
}

func (s *server) findingList(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	flt := findings.Filter{Site: q.Get("site")}
	if v := q.Get("status"); v != "" {
		for _, name := range strings.Split(v, ",") {
			st, err := findings.ParseStatus(name)
			if err != nil {
				// A query's mistake, not a field's: 400 like the other parameters.
				return badRequest("%s", strings.TrimPrefix(err.Error(), findings.ErrInvalid.Error()+": "))
			}
			flt.Statuses = append(flt.Statuses, st)
		}
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("overdue %q: want true or false", v)
		}
		flt.Overdue = &b
	}
	if v := q.Get("closed_since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return badRequest("closed_since %q: want an RFC 3339 time", v)
		}
		flt.ClosedSince = t
	}
	list, err := s.Findings.List(r.Context(), p, flt)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"findings": list})
	return nil
}

func (s *server) evidenceGet(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	fh, file, err := s.Findings.Open(r.Context(), p, r.PathValue("id"), r.PathValue("name"))
	if err != nil {
		return err
	}
	defer fh.Close()
	h := w.Header()
	h.Set("Content-Type", file.ContentType)
	// Not kept in the browser's cache, where it would outlive the user's
	// right to it (a signed-out, disabled or moved user).
	h.Set("Cache-Control", "no-store")
	h.Set("ETag", `"`+file.SHA256+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", file.AddedAt, fh)
	return nil
}
