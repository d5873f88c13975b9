package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/notices"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Notices is the 监督意见书 (relay/notices.Store).
type Notices interface {
	Issue(ctx context.Context, by auth.Principal, req wire.NoticeRequest) (wire.Notice, error)
	Get(ctx context.Context, by auth.Principal, id string) (wire.Notice, error)
	List(ctx context.Context, by auth.Principal, f notices.Filter) ([]wire.Notice, error)
	PDF(ctx context.Context, by auth.Principal, id, lang string, w io.Writer) (wire.Notice, error)
}

// noticeBodyBytes bounds a notice's request: up to notices.MaxItems ids.
const noticeBodyBytes = 64 << 10

func (s *server) mountNotices(rt *httpapi.Router) {
	rt.Route("/api/v1/notices", httpapi.Methods{http.MethodGet: s.noticeList, http.MethodPost: s.noticeIssue})
	rt.Route("/api/v1/notices/{id}", httpapi.Methods{http.MethodGet: s.noticeGet})
	rt.Route("/api/v1/notices/{id}/pdf", httpapi.Methods{http.MethodGet: s.noticePDF})
}

// noticeReader is the signed-in user, who may read notices: duty officers,
// supervisors and admins. A site manager reads their site's on the site
// page, not here.
func (s *server) noticeReader(r *http.Request) (auth.Principal, error) {
	p, _, err := s.principal(r)
	if err != nil {
		return p, err
	}
	if p.Role == auth.RoleSiteManager {
		return p, fault.New(fault.Forbidden, "forbidden", "notices reach a site manager on the site page")
	}
	return p, nil
}

// noticeIssue: POST /api/v1/notices {"site","findings","lang"} → 201 the notice.
func (s *server) noticeIssue(w http.ResponseWriter, r *http.Request) error {
	p, err := s.noticeReader(r)
	if err != nil {
		return err
	}
	if err := only(r.URL.Query()); err != nil {
		return err
	}
	var req wire.NoticeRequest
	if err := httpapi.Decode(w, r, noticeBodyBytes, &req); err != nil {
		return err
	}
	n, err := s.Notices.Issue(r.Context(), p, req)
	if err != nil {
		return err
	}
	s.Log.Info().Str("notice", n.ID).Str("number", n.Number).Str("site", n.Site).Int("items", n.Total).Str("user", p.Name).Msg("notice issued")
	w.Header().Set("Location", "/api/v1/notices/"+n.ID)
	httpapi.WriteJSON(w, http.StatusCreated, n)
	return nil
}

// noticeList: GET /api/v1/notices?site=&status=&limit= → [Notice…], newest first.
func (s *server) noticeList(w http.ResponseWriter, r *http.Request) error {
	p, err := s.noticeReader(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := only(q, "site", "status", "limit"); err != nil {
		return err
	}
	f := notices.Filter{Site: q.Get("site"), Status: q.Get("status")}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 {
			return fault.Field("limit", "%q: want a whole number from 1 to %d", v, notices.MaxList)
		}
	}
	list, err := s.Notices.List(r.Context(), p, f)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
	return nil
}

func (s *server) noticeGet(w http.ResponseWriter, r *http.Request) error {
	p, err := s.noticeReader(r)
	if err != nil {
		return err
	}
	if err := only(r.URL.Query()); err != nil {
		return err
	}
	n, err := s.Notices.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, n)
	return nil
}

// noticePDF: GET /api/v1/notices/{id}/pdf?lang= → application/pdf, in the
// notice's language unless lang says another; audited before it is sent.
func (s *server) noticePDF(w http.ResponseWriter, r *http.Request) error {
	p, err := s.noticeReader(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := only(q, "lang"); err != nil {
		return err
	}
	var buf bytes.Buffer
	n, err := s.Notices.PDF(r.Context(), p, r.PathValue("id"), q.Get("lang"), &buf)
	if err != nil {
		return err
	}
	writePDF(w, notices.Number("en", n.Year, n.Seq), buf.Bytes())
	return nil
}

// writePDF answers a PDF document named name (an ASCII file name, without
// its extension).
func writePDF(w http.ResponseWriter, name string, pdf []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Length", strconv.Itoa(len(pdf)))
	h.Set("Content-Disposition", `attachment; filename="`+name+`.pdf"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(pdf)
}
