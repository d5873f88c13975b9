package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Shifts is the signed-in relay's shifts and handover API;
// *relayclient.Client is it. The console keeps nothing of its own here:
// the relay is the duty room's record, and the view is shown the relay's
// answers as they are (relay/wire's bodies).
type Shifts interface {
	Shift(ctx context.Context) (wire.ShiftNow, error)
	StartDuty(ctx context.Context) (wire.Duty, bool, error)
	HandoverDraft(ctx context.Context) (wire.HandoverDraft, error)
	Handover(ctx context.Context, req wire.HandoverRequest) (wire.Handover, bool, error)
	CurrentHandover(ctx context.Context) (wire.HandoverView, error)
	ConfirmHandover(ctx context.Context, id string) (wire.Handover, error)
}

// shiftsRoutes serves the shift, duty and handover to the view under the
// relay's own paths (docs/PROTOCOLS.md, "Issue 11.3: the console's shift
// and handover").
func (h *handler) shiftsRoutes() {
	rt := h.rt
	rt.Route("/api/v1/shift", httpapi.Methods{"GET": h.shift})
	rt.Route("/api/v1/duty/start", httpapi.Methods{"POST": h.startDuty})
	rt.Route("/api/v1/handover", httpapi.Methods{"POST": h.handOver})
	rt.Route("/api/v1/handover/draft", httpapi.Methods{"GET": h.handoverDraft})
	rt.Route("/api/v1/handover/current", httpapi.Methods{"GET": h.currentHandover})
	rt.Route("/api/v1/handover/{id}/receipt", httpapi.Methods{"POST": h.handoverReceipt})
}

// shifts is the signed-in relay's client, or why there is none (signed
// out: 401, as every call needing the relay).
func (h *handler) shifts(w http.ResponseWriter) (Shifts, error) {
	if h.opts.Shifts == nil {
		return nil, starting(w)
	}
	return h.opts.Shifts()
}

// relayAnswer turns what the relay said into the view's answer. A refusal
// (4xx) is the relay's own status and code: the view tells the officer
// what it says (not_on_duty, unknown_handover…). Anything else, the relay
// unreachable or failing, is 503 relay_unreachable with a Retry-After: a
// handover is not queued in the outbox but refused, so that the outgoing
// officer, whose note stays in the dialog, knows it is not yet recorded
// and does not leave believing the next shift can read it.
func relayAnswer(w http.ResponseWriter, err error) error {
	if err == nil || fault.As(err) != nil {
		return err
	}
	var rerr *relayclient.Error
	if errors.As(err, &rerr) && rerr.Status >= 400 && rerr.Status < 500 && rerr.Status != http.StatusUnauthorized {
		kind := map[int]fault.Kind{
			http.StatusBadRequest: fault.Invalid, http.StatusForbidden: fault.Forbidden, http.StatusNotFound: fault.NotFound,
			http.StatusConflict: fault.Conflict, http.StatusRequestEntityTooLarge: fault.TooLarge,
			http.StatusUnprocessableEntity: fault.Unprocessable, http.StatusTooManyRequests: fault.TooMany,
		}[rerr.Status]
		if kind != fault.Internal {
			return fault.New(kind, rerr.Code, "the relay refused: %w", err)
		}
	}
	if errors.Is(err, relayclient.ErrSessionExpired) {
		return fault.New(fault.Unauthenticated, "session_expired", "the relay ended the session; sign in again: %w", err)
	}
	w.Header().Set("Retry-After", "5")
	return fault.New(fault.Unavailable, "relay_unreachable", "the relay cannot be reached now; nothing was recorded, try again: %w", err)
}

// GET /api/v1/shift
func (h *handler) shift(w http.ResponseWriter, r *http.Request) error {
	s, err := h.shifts(w)
	if err != nil {
		return err
	}
	now, err := s.Shift(r.Context())
	return reply(w, http.StatusOK, now, relayAnswer(w, err))
}

// POST /api/v1/duty/start: 201 put on duty, 200 on already.
func (h *handler) startDuty(w http.ResponseWriter, r *http.Request) error {
	s, err := h.shifts(w)
	if err != nil {
		return err
	}
	d, started, err := s.StartDuty(r.Context())
	return reply(w, created(started), d, relayAnswer(w, err))
}

// GET /api/v1/handover/draft
func (h *handler) handoverDraft(w http.ResponseWriter, r *http.Request) error {
	s, err := h.shifts(w)
	if err != nil {
		return err
	}
	d, err := s.HandoverDraft(r.Context())
	return reply(w, http.StatusOK, d, relayAnswer(w, err))
}

// POST /api/v1/handover {"id","note","checklist"}: 201 handed over, 200
// the same request again (the view retries a 503 with the same id).
func (h *handler) handOver(w http.ResponseWriter, r *http.Request) error {
	s, err := h.shifts(w)
	if err != nil {
		return err
	}
	var in wire.HandoverRequest
	if err := httpapi.Decode(w, r, maxFindingBody, &in); err != nil {
		return err
	}
	if in.ID == "" {
		return fault.Field("id", "required: the view's id makes a retry harmless")
	}
	if in.Checklist == nil {
		in.Checklist = []wire.ChecklistMark{}
	}
	ho, made, err := s.Handover(r.Context(), in)
	return reply(w, created(made), ho, relayAnswer(w, err))
}

// GET /api/v1/handover/current
func (h *handler) currentHandover(w http.ResponseWriter, r *http.Request) error {
	s, err := h.shifts(w)
	if err != nil {
		return err
	}
	v, err := s.CurrentHandover(r.Context())
	return reply(w, http.StatusOK, v, relayAnswer(w, err))
}

// POST /api/v1/handover/{id}/receipt
func (h *handler) handoverReceipt(w http.ResponseWriter, r *http.Request) error {
	s, err := h.shifts(w)
	if err != nil {
		return err
	}
	ho, err := s.ConfirmHandover(r.Context(), r.PathValue("id"))
	return reply(w, http.StatusOK, ho, relayAnswer(w, err))
}

func created(made bool) int {
	if made {
		return http.StatusCreated
	}
	return http.StatusOK
}
