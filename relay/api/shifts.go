package api

import (
	"context"
	"net/http"

	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Shifts is the duty room's shifts and handovers (relay/shifts.Shifts).
// Each refuses roles that do not go on duty (site managers) itself.
type Shifts interface {
	StartDuty(ctx context.Context, p auth.Principal, how string) (wire.Duty, bool, error)
	Current(ctx context.Context, p auth.Principal) (wire.ShiftNow, error)
	Draft(ctx context.Context, p auth.Principal) (wire.HandoverDraft, error)
	Handover(ctx context.Context, p auth.Principal, req wire.HandoverRequest) (wire.Handover, bool, error)
	View(ctx context.Context, p auth.Principal) (wire.HandoverView, error)
	Confirm(ctx context.Context, p auth.Principal, id string) (wire.Handover, error)
}

// handoverBodyBytes bounds a handover's JSON (its note is at most 8000 bytes).
const handoverBodyBytes = 64 << 10

func (s *server) mountShifts(rt *httpapi.Router) {
	rt.Route("/api/v1/shift", httpapi.Methods{http.MethodGet: s.shiftNow})
	rt.Route("/api/v1/duty/start", httpapi.Methods{http.MethodPost: s.dutyStart})
	rt.Route("/api/v1/handover", httpapi.Methods{http.MethodPost: s.handoverPost})
	rt.Route("/api/v1/handover/draft", httpapi.Methods{http.MethodGet: s.handoverDraft})
	rt.Route("/api/v1/handover/current", httpapi.Methods{http.MethodGet: s.handoverCurrent})
	rt.Route("/api/v1/handover/{id}/receipt", httpapi.Methods{http.MethodPost: s.handoverReceipt})
}

// startDutyAtSignIn puts a duty officer on duty as they sign in; a failure
// is logged and does not refuse the sign-in (POST /api/v1/duty/start
// remains).
func (s *server) startDutyAtSignIn(r *http.Request, name string, role auth.Role) {
	if s.Shifts == nil || role != auth.RoleDuty {
		return
	}
	if _, started, err := s.Shifts.StartDuty(r.Context(), auth.Principal{Name: name, Role: role}, wire.DutyBySignIn); err != nil {
		s.Log.Warn().Err(err).Str("user", name).Msg("starting the duty of an officer signing in")
	} else if started {
		s.Log.Info().Str("user", name).Msg("on duty from sign-in")
	}
}

func (s *server) shiftNow(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	now, err := s.Shifts.Current(r.Context(), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, now)
	return nil
}

// dutyStart puts the caller on duty (201), or answers the duty they are on (200).
func (s *server) dutyStart(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	d, started, err := s.Shifts.StartDuty(r.Context(), p, wire.DutyExplicit)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if started {
		status = http.StatusCreated
		s.Log.Info().Str("user", p.Name).Msg("on duty")
	}
	httpapi.WriteJSON(w, status, d)
	return nil
}

func (s *server) handoverDraft(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	d, err := s.Shifts.Draft(r.Context(), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, d)
	return nil
}

// handoverPost ends the caller's duty with a note: 201 with the handover,
// 200 for a repeat of one made.
func (s *server) handoverPost(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	var req wire.HandoverRequest
	if err := httpapi.Decode(w, r, handoverBodyBytes, &req); err != nil {
		return err
	}
	h, created, err := s.Shifts.Handover(r.Context(), p, req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		s.Log.Info().Str("user", p.Name).Str("handover", h.ID).Str("shift", h.Shift.ID).Msg("handed over")
	}
	httpapi.WriteJSON(w, status, h)
	return nil
}

func (s *server) handoverCurrent(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	v, err := s.Shifts.View(r.Context(), p)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (s *server) handoverReceipt(w http.ResponseWriter, r *http.Request) error {
	p, _, err := s.principal(r)
	if err != nil {
		return err
	}
	h, err := s.Shifts.Confirm(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.Log.Info().Str("user", p.Name).Str("handover", h.ID).Msg("handover received")
	httpapi.WriteJSON(w, http.StatusOK, h)
	return nil
}
