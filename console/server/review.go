package server

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// reviewRoutes serve the supervisors' review of the relay's findings under
// the relay's own paths (docs/PROTOCOLS.md, "Issue 13: review"), as typed
// calls of the signed-in relay's client: the console keeps none of it. The
// filter is the relay's, passed on as the view sent it, so the list is the
// one the statistics count and a parameter the relay does not know is its
// 400 invalid_field naming it. The relay's evidence files come through
// here too, for the view cannot reach the relay with its token.
func (h *handler) reviewRoutes() {
	rt := h.rt
	rt.Route("/api/v1/review/findings", httpapi.Methods{"GET": h.reviewList})
	rt.Route("/api/v1/review/findings/{id}", httpapi.Methods{"GET": h.reviewGet})
	rt.Route("/api/v1/review/findings/{id}/reviewed", httpapi.Methods{"PUT": h.reviewMark})
	rt.Route("/api/v1/review/findings/{id}/comments", httpapi.Methods{"POST": h.reviewComment})
	rt.Route("/api/v1/review/findings/{id}/outcomes", httpapi.Methods{"POST": h.reviewOutcome})
	rt.Route("/api/v1/review/findings/{id}/evidence/{name}", httpapi.Methods{"GET": h.reviewEvidence})
	rt.Route("/api/v1/review/facets", httpapi.Methods{"GET": h.reviewFacets})
}

// relayQuery is the view's query for the relay: the console's own launch
// secret, which a browser may send in the query, never goes on.
func relayQuery(r *http.Request) url.Values {
	q := r.URL.Query()
	q.Del("token")
	return q
}

// GET /api/v1/review/findings?<filter>&sort&limit&after
func (h *handler) reviewList(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	page, err := c.ReviewFindings(r.Context(), relayQuery(r))
	if page.Items == nil {
		page.Items = []wire.ReviewItem{}
	}
	return reply(w, http.StatusOK, page, relayAnswer(w, err))
}

// GET /api/v1/review/findings/{id}
func (h *handler) reviewGet(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	d, err := c.ReviewFinding(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, d, relayAnswer(w, err))
}

// PUT /api/v1/review/findings/{id}/reviewed {"reviewed": true|false}
func (h *handler) reviewMark(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	var in wire.ReviewedRequest
	if err := httpapi.Decode(w, r, maxFindingBody, &in); err != nil {
		return err
	}
	d, err := c.SetReviewed(r.Context(), r.PathValue("id"), in.Reviewed)
	return reply(w, http.StatusOK, d, relayAnswer(w, err))
}

// POST /api/v1/review/findings/{id}/comments {"text"}: 201
func (h *handler) reviewComment(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	var in wire.CommentRequest
	if err := httpapi.Decode(w, r, maxFindingBody, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Text) == "" {
		return fault.Field("text", "a comment needs words")
	}
	d, err := c.AddComment(r.Context(), r.PathValue("id"), in.Text)
	return reply(w, http.StatusCreated, d, relayAnswer(w, err))
}

// POST /api/v1/review/findings/{id}/outcomes {"kind","doc_number","note"}: 201
func (h *handler) reviewOutcome(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	var in wire.OutcomeRequest
	if err := httpapi.Decode(w, r, maxFindingBody, &in); err != nil {
		return err
	}
	d, err := c.AddOutcome(r.Context(), r.PathValue("id"), in)
	return reply(w, http.StatusCreated, d, relayAnswer(w, err))
}

// GET /api/v1/review/facets
func (h *handler) reviewFacets(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	f, err := c.ReviewFacets(r.Context())
	return reply(w, http.StatusOK, f, relayAnswer(w, err))
}

// evidenceNames are the relay's names of a finding's files.
func evidenceName(name string) bool {
	if name == wire.EvidenceSnapshot || name == wire.EvidenceClip {
		return true
	}
	for _, prefix := range []string{"photo-", "recheck-", "recheck_clip-"} {
		if n, ok := strings.CutPrefix(name, prefix); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return true
		}
	}
	return false
}

// GET /api/v1/review/findings/{id}/evidence/{name}: the relay's file,
// streamed. A file is never changed once the relay has it, so the view
// may keep it.
func (h *handler) reviewEvidence(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if !evidenceName(name) {
		return fault.New(fault.NotFound, "unknown_evidence", "no evidence named %q: snapshot, clip, photo-N, recheck-N or recheck_clip-N", name)
	}
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	started := false
	err = c.CopyEvidence(r.Context(), r.PathValue("id"), name, func(head relayclient.EvidenceHead) io.Writer {
		started = true
		if head.ContentType != "" {
			w.Header().Set("Content-Type", head.ContentType)
		}
		w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
		w.WriteHeader(http.StatusOK)
		return w
	})
	if started {
		// The answer has begun: a failure now can only cut it short.
		if err != nil {
			h.opts.Log.Warn().Err(err).Str("finding", r.PathValue("id")).Str("name", name).Msg("relay evidence cut short")
		}
		return nil
	}
	return relayAnswer(w, err)
}
