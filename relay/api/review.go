package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/review"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Review is the supervisors' review of recorded findings (relay/review.Store).
type Review interface {
	List(ctx context.Context, by auth.Principal, f review.Filter, p review.Page) (wire.ReviewPage, error)
	Get(ctx context.Context, by auth.Principal, id string) (wire.ReviewDetail, error)
	SetReviewed(ctx context.Context, by auth.Principal, id string, reviewed bool) (wire.ReviewDetail, error)
	AddComment(ctx context.Context, by auth.Principal, id, text string) (wire.ReviewDetail, error)
	AddOutcome(ctx context.Context, by auth.Principal, id string, o wire.Outcome) error
	Facets(ctx context.Context, by auth.Principal) (wire.ReviewFacets, error)
}

// reviewBodyBytes bounds a review request's JSON (a comment of 2000
// characters in UTF-8, with room).
const reviewBodyBytes = 16 << 10

func (s *server) mountReview(rt *httpapi.Router) {
	rt.Route("/api/v1/review/findings", httpapi.Methods{http.MethodGet: s.reviewList})
	rt.Route("/api/v1/review/findings/{id}", httpapi.Methods{http.MethodGet: s.reviewGet})
	rt.Route("/api/v1/review/findings/{id}/reviewed", httpapi.Methods{http.MethodPut: s.reviewMark})
	rt.Route("/api/v1/review/findings/{id}/comments", httpapi.Methods{http.MethodPost: s.reviewComment})
	rt.Route("/api/v1/review/findings/{id}/outcomes", httpapi.Methods{http.MethodPost: s.reviewOutcome})
	rt.Route("/api/v1/review/facets", httpapi.Methods{http.MethodGet: s.reviewFacets})
}

// reviewer is the caller if they may read the review (write: write it),
// asked before anything of the request is read.
func (s *server) reviewer(r *http.Request, write bool) (auth.Principal, error) {
	p, _, err := s.principal(r)
	if err != nil {
		return auth.Principal{}, err
	}
	check := review.CheckRead
	if write {
		check = review.CheckWrite
	}
	return p, check(p)
}

// reviewList: GET /api/v1/review/findings?<filter>&sort=&limit=&after=
func (s *server) reviewList(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reviewer(r, false)
	if err != nil {
		return err
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return badRequest("the query string: %v", err)
	}
	page, err := review.ParsePage(q)
	if err != nil {
		return err
	}
	f, err := review.ParseFilter(q, s.Now(), s.ReportZone)
	if err != nil {
		return err
	}
	list, err := s.Review.List(r.Context(), p, f, page)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
	return nil
}

func (s *server) reviewGet(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reviewer(r, false)
	if err != nil {
		return err
	}
	d, err := s.Review.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

// reviewMark: PUT /api/v1/review/findings/{id}/reviewed {"reviewed": bool}
func (s *server) reviewMark(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reviewer(r, true)
	if err != nil {
		return err
	}
	var req wire.ReviewedRequest
	if err := httpapi.Decode(w, r, reviewBodyBytes, &req); err != nil {
		return err
	}
	d, err := s.Review.SetReviewed(r.Context(), p, r.PathValue("id"), req.Reviewed)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

// reviewComment: POST /api/v1/review/findings/{id}/comments {"text"}
func (s *server) reviewComment(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reviewer(r, true)
	if err != nil {
		return err
	}
	var req wire.CommentRequest
	if err := httpapi.Decode(w, r, reviewBodyBytes, &req); err != nil {
		return err
	}
	d, err := s.Review.AddComment(r.Context(), p, r.PathValue("id"), req.Text)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

// reviewOutcome: POST /api/v1/review/findings/{id}/outcomes {"kind", "doc_number", "note"}
func (s *server) reviewOutcome(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reviewer(r, true)
	if err != nil {
		return err
	}
	var req wire.OutcomeRequest
	if err := httpapi.Decode(w, r, reviewBodyBytes, &req); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := s.Review.AddOutcome(r.Context(), p, id, wire.Outcome{Kind: req.Kind, DocNumber: req.DocNumber, Note: req.Note}); err != nil {
		return err
	}
	d, err := s.Review.Get(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusCreated, d)
	return nil
}

func (s *server) reviewFacets(w http.ResponseWriter, r *http.Request) error {
	p, err := s.reviewer(r, false)
	if err != nil {
		return err
	}
	f, err := s.Review.Facets(r.Context(), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, f)
	return nil
}
