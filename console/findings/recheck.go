package findings

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/console/jsonapi"
	"github.com/qianliyan/qianliyan/console/store"
)

// POST /api/v1/findings/{id}/verify and /reopen: the officer's re-check of
// a finding the site reported rectified. The change is committed with its
// outbox entry; the forwarder takes it to the relay.
func (a *API) recheck(to string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Note     string  `json:"note"`
			Deadline *string `json:"deadline"`
		}
		if err := decode(w, r, smallBody, &in); err != nil {
			return err
		}
		if strings.TrimSpace(in.Note) == "" {
			return invalid("note", "required: what the re-check saw")
		}
		if in.Deadline != nil && to == "verified" {
			return invalid("deadline", "a verified finding is closed and needs no deadline")
		}
		actor, err := a.observer(r.Context())
		if err != nil {
			return err
		}
		id := r.PathValue("id")
		var f store.Finding
		if to == "verified" {
			f, err = a.opts.Store.Verify(r.Context(), id, actor, in.Note)
		} else {
			deadline, derr := a.reopenDeadline(r, id, in.Deadline)
			if derr != nil {
				return derr
			}
			f, err = a.opts.Store.Reopen(r.Context(), id, actor, in.Note, deadline)
		}
		if errors.Is(err, store.ErrTransition) {
			return fail(http.StatusConflict, "bad_transition", "", "%v", err)
		}
		if err != nil {
			return fromStore(err)
		}
		a.opts.Log.Info().Str("finding", id).Str("status", f.Status).Msg("finding re-checked")
		jsonapi.Write(w, http.StatusOK, f)
		return nil
	}
}

// reopenDeadline is the deadline asked for or, without one, as long from
// now as the site was first given: the relay wants a future one.
func (a *API) reopenDeadline(r *http.Request, id string, asked *string) (time.Time, error) {
	now := a.opts.Now()
	if asked != nil {
		return parseDeadline(*asked, now, 0)
	}
	f, err := a.opts.Store.Get(r.Context(), id)
	if err != nil {
		return time.Time{}, fromStore(err)
	}
	span := f.Deadline.Sub(f.FlaggedAt)
	if span <= 0 {
		span = 24 * time.Hour
	}
	return now.Add(span), nil
}

// POST /api/v1/findings/{id}/retry: the changes the relay refused go back
// to the outbox, and the forwarder tries them again at once. The body, if
// any, is not read: there is nothing to say but "again".
func (a *API) retry(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	n, err := a.opts.Store.RetryFailed(r.Context(), id)
	if errors.Is(err, store.ErrNothingFailing) {
		return fail(http.StatusConflict, "nothing_failing", "", "no change of %s was refused by the relay: nothing to retry", id)
	}
	if err != nil {
		return fromStore(err)
	}
	f, err := a.opts.Store.Get(r.Context(), id)
	if err != nil {
		return fromStore(err)
	}
	a.opts.Log.Info().Str("finding", id).Int("changes", n).Msg("retrying the changes the relay refused")
	jsonapi.Write(w, http.StatusOK, f)
	return nil
}
