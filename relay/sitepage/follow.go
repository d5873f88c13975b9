package sitepage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/qianliyan/qianliyan/relay/findings"
)

// An open page asks what changed after its cursor and waits up to
// maxFollowWait for an answer: under the relay's read timeout (30 s), which
// would end the request from below.
const (
	maxFollowWait     = 25 * time.Second
	touchesPerAnswer  = 100
	followContentType = "application/json; charset=utf-8"
)

// changes is the long poll an open page follows: GET
// /site/changes?after=CURSOR&wait=SECONDS answers
// {"cursor":N,"changes":[{"cursor","finding","action"}…]} with the changes
// to the signed-in user's sites' findings after the cursor, at once when
// there are some, else when one comes, else after wait with none. Without
// after it answers at once with the newest cursor. The changes of other
// sites move the cursor on but are not listed.
func (p *page) changes(w http.ResponseWriter, r *http.Request) {
	by, _, ok := p.signedIn(w, r)
	if !ok {
		followError(w, http.StatusUnauthorized, "signed_out", "sign in at /site/login")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	if q.Get("after") == "" {
		cursor, err := p.Findings.Cursor(ctx)
		if err != nil {
			p.Log.Error().Err(err).Msg("reading the changes cursor for the site page")
			followError(w, http.StatusInternalServerError, "internal", "reading the changes failed")
			return
		}
		writeFollow(w, cursor, []findings.Touch{})
		return
	}
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil || after < 0 {
		followError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("after %q: want a cursor, a whole number from 0", q.Get("after")))
		return
	}
	wait := time.Duration(0)
	if v := q.Get("wait"); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || secs < 0 || secs != secs {
			followError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("wait %q: want seconds, 0 to %d", v, int(maxFollowWait.Seconds())))
			return
		}
		wait = min(time.Duration(secs*float64(time.Second)), maxFollowWait)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		// Taken before reading, so that a change between the read and the
		// wait wakes it.
		changed := p.Findings.Changed()
		touches, cursor, err := p.Findings.Touches(ctx, by, after, touchesPerAnswer)
		if err != nil {
			p.Log.Error().Err(err).Msg("reading changes for the site page")
			followError(w, http.StatusInternalServerError, "internal", "reading the changes failed")
			return
		}
		// Other sites' changes only move the cursor: keep waiting from
		// past them, unless the page is that far behind.
		if len(touches) > 0 || cursor-after >= touchesPerAnswer {
			writeFollow(w, cursor, touches)
			return
		}
		after = cursor
		select {
		case <-changed:
			continue
		case <-timer.C:
		case <-p.Stopping: // nil when not given: never ready
		case <-ctx.Done():
			return
		}
		writeFollow(w, after, []findings.Touch{})
		return
	}
}

func writeFollow(w http.ResponseWriter, cursor int64, touches []findings.Touch) {
	w.Header().Set("Content-Type", followContentType)
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"cursor": cursor, "changes": touches})
}

// followError answers in the relay API's error shape: the page's script,
// not a person, reads it.
func followError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", followContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": message}})
}
