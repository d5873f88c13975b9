package sitepage

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// An open page asks what changed after its cursor and waits up to
// maxFollowWait for an answer: under the relay's read timeout (30 s), which
// would end the request from below.
const (
	maxFollowWait    = 25 * time.Second
	touchesPerAnswer = 100
)

// changes is the long poll an open page follows: GET
// /site/changes?after=CURSOR&wait=SECONDS answers
// {"cursor":N,"changes":[{"cursor","finding","action"}…]} with the changes
// to the signed-in user's sites' findings after the cursor, at once when
// there are some, else when one comes, else after wait with none. Without
// after it answers at once with the newest cursor. The changes of other
// sites move the cursor on but are not listed. The page's script, not a
// person, reads it: its answers and errors are the API's JSON.
func (p *page) changes(w http.ResponseWriter, r *http.Request) error {
	by, _, claims, ok := p.signIn(w, r)
	if !ok {
		return fault.New(fault.Unauthenticated, "signed_out", "sign in at /site/login")
	}
	ctx := r.Context()
	q := r.URL.Query()
	if q.Get("after") == "" {
		cursor, err := p.Findings.Cursor(ctx)
		if err != nil {
			return fmt.Errorf("reading the changes cursor for the site page: %w", err)
		}
		writeFollow(w, cursor, []findings.Touch{})
		return nil
	}
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil || after < 0 {
		return fault.New(fault.Invalid, "bad_request", "after %q: want a cursor, a whole number from 0", q.Get("after"))
	}
	wait := time.Duration(0)
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs != secs {
			return fault.New(fault.Invalid, "bad_request", "wait %q: want seconds, 0 to %d", v, int(maxFollowWait.Seconds()))
		}
		wait = min(time.Duration(secs*float64(time.Second)), maxFollowWait)
	}
	// A wait holds a lease: the user's open pages follow within their
	// limit, and a wait whose sign-in is revoked ends at once.
	var revoked <-chan struct{} // nil, never ready, without leases
	if p.Leases != nil && wait > 0 {
		lease, err := p.Leases.Acquire(auth.LongPoll, claims)
		if err != nil {
			w.Header().Set("Retry-After", "5")
			return err
		}
		defer lease.Release()
		revoked = lease.Done()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		// Taken before reading, so that a change between the read and the
		// wait wakes it.
		changed := p.Findings.Changed()
		touches, cursor, err := p.Findings.Touches(ctx, by, after, touchesPerAnswer)
		if err != nil {
			return fmt.Errorf("reading changes for the site page: %w", err)
		}
		// Other sites' changes only move the cursor: keep waiting from
		// past them, unless the page is that far behind.
		if len(touches) > 0 || cursor-after >= touchesPerAnswer {
			writeFollow(w, cursor, touches)
			return nil
		}
		after = cursor
		select {
		case <-changed:
			continue
		case <-revoked:
			return fault.New(fault.Unauthenticated, "signed_out", "the sign-in was revoked or is over; sign in at /site/login")
		case <-timer.C:
		case <-p.Stopping: // nil when not given: never ready
		case <-ctx.Done():
			return nil
		}
		writeFollow(w, after, []findings.Touch{})
		return nil
	}
}

func writeFollow(w http.ResponseWriter, cursor int64, touches []findings.Touch) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"cursor": cursor, "changes": touches})
}
