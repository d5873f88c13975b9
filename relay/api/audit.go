package api

import (
	"net/http"
	"strconv"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/audit"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// auditExports: GET /api/v1/audit/exports?from=&to=&actor=&limit= — the
// documents made (reports, notices, exports), newest first, to
// supervisors and admins.
func (s *server) auditExports(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	qv := r.URL.Query()
	if err := only(qv, "from", "to", "actor", "limit"); err != nil {
		return err
	}
	var q audit.Query
	if q.From, err = timeParam(r, "from"); err != nil {
		return err
	}
	if q.To, err = timeParam(r, "to"); err != nil {
		return err
	}
	q.Actor = qv.Get("actor")
	if v := qv.Get("limit"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > audit.MaxList {
			return fault.Field("limit", "limit %q: want 1 to %d", v, audit.MaxList)
		}
	}
	list, err := s.Audit.List(r.Context(), p, q)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, wire.AuditExports{Exports: list})
	return nil
}
