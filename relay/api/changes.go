package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// findingChanges is the long poll consoles follow (docs/PROTOCOLS.md): it
// answers at once when there are changes after the cursor, else when one
// comes, else after wait seconds with none; at shutdown at once. A user
// holds at most their limit of long polls (429 too_many_open), and a poll
// whose sign-in is revoked meanwhile is answered 401 with why.
func (s *server) findingChanges(w http.ResponseWriter, r *http.Request) error {
	p, claims, err := s.principal(r)
	if err != nil {
		return err
	}
	if !findings.MayFollow(p.Role) {
		return fault.New(fault.Forbidden, "forbidden", "a %s may not follow every finding's changes", p.Role)
	}
	q := r.URL.Query()
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return badRequest("after %q: want a cursor, a whole number from 0", v)
		}
	}
	wait := time.Duration(0)
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs != secs {
			return badRequest("wait %q: want seconds, 0 to 30", v)
		}
		wait = min(time.Duration(secs*float64(time.Second)), maxChangesWait)
	}
	// A wait holds a lease: within the user's limit, and ended at once
	// when their sign-in no longer holds.
	var revoked <-chan struct{} // nil, never ready, when not waiting
	var lease *auth.Lease
	if wait > 0 {
		if lease, err = s.lease(w, auth.LongPoll, claims); err != nil {
			return err
		}
		defer lease.Release()
		revoked = lease.Done()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	ctx := r.Context()
	for {
		changed := s.Findings.Changed()
		changes, err := s.Findings.Changes(ctx, after, changesPerReply)
		if err != nil {
			return err
		}
		if len(changes) > 0 {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cursor": changes[len(changes)-1].Cursor, "changes": changes})
			return nil
		}
		select {
		case <-changed:
			continue
		case <-revoked:
			return lease.Err()
		case <-timer.C:
		case <-s.Stopping:
		case <-ctx.Done():
			return nil
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cursor": after, "changes": []findings.Change{}})
		return nil
	}
}
