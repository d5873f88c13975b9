package server

import (
	"net/http"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// noticesRoutes serve the 监督意见书 under the relay's own paths; the PDF
// either comes back as a file (the browser downloads it) or is saved by
// the backend in the officer's download folder (the Wails window, whose
// WebKitGTK neither shows a PDF nor downloads one).
func (h *handler) noticesRoutes() {
	rt := h.rt
	rt.Route("/api/v1/notices", httpapi.Methods{"GET": h.notices, "POST": h.issueNotice})
	rt.Route("/api/v1/notices/{id}", httpapi.Methods{"GET": h.notice})
	rt.Route("/api/v1/notices/{id}/pdf", httpapi.Methods{"GET": h.noticePDF})
	rt.Route("/api/v1/notices/{id}/pdf/save", httpapi.Methods{"POST": h.saveNoticePDF})
}

// GET /api/v1/notices?site=&status=
func (h *handler) notices(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, err := c.Notices(r.Context(), relayclient.NoticesQuery{Site: q.Get("site"), Status: q.Get("status")})
	if list == nil {
		list = []wire.Notice{}
	}
	return reply(w, http.StatusOK, list, relayAnswer(w, err))
}

// POST /api/v1/notices {"site","findings":[…],"lang"}
func (h *handler) issueNotice(w http.ResponseWriter, r *http.Request) error {
	var in wire.NoticeRequest
	if err := httpapi.Decode(w, r, maxBody, &in); err != nil {
		return err
	}
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	n, err := c.IssueNotice(r.Context(), in)
	return reply(w, http.StatusCreated, n, relayAnswer(w, err))
}

// GET /api/v1/notices/{id}
func (h *handler) notice(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	n, err := c.Notice(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, n, relayAnswer(w, err))
}

// GET /api/v1/notices/{id}/pdf?lang=
func (h *handler) noticePDF(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	d, err := c.NoticePDF(r.Context(), r.PathValue("id"), r.URL.Query().Get("lang"))
	if err := relayAnswer(w, err); err != nil {
		return err
	}
	sendDocument(w, d, "notice-"+r.PathValue("id")+".pdf")
	return nil
}

// POST /api/v1/notices/{id}/pdf/save?lang= → {"path","bytes"}
func (h *handler) saveNoticePDF(w http.ResponseWriter, r *http.Request) error {
	c, err := h.relay(w)
	if err != nil {
		return err
	}
	d, err := c.NoticePDF(r.Context(), r.PathValue("id"), r.URL.Query().Get("lang"))
	if err := relayAnswer(w, err); err != nil {
		return err
	}
	s, err := h.save(d, "notice-"+r.PathValue("id")+".pdf")
	return reply(w, http.StatusOK, s, err)
}
