package sitepage

import (
	"bufio"
	"crypto/hmac"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/phrases"
)

// MaxUploads is how many rectify forms' photos the page receives at once;
// one more is answered 503 with a Retry-After, and the manager sends it
// again. A photo is written to disk as it arrives, so an upload costs a
// connection and a buffer, not its photos' size in memory.
const MaxUploads = 8

// Upload bounds: the fields before the photos (the form's token, the
// action's id, a note of up to 4000 bytes), the whole form (photos of at
// most findings.MaxPhotoBytes each, findings.MaxPhotos of them), and how
// long a phone on a slow line has to send it.
const (
	maxFormFields     = 64 << 10
	maxRectifyBody    = findings.MaxPhotos*findings.MaxPhotoBytes + 1<<20
	uploadReadTimeout = 10 * time.Minute
	uploadRetryAfter  = 30 * time.Second
)

// rectify receives the rectify form as a phone's browser sends it: its
// fields (csrf, action_id, note), then its photos. The form, the user's
// role, the finding and its status are checked before any photo is read,
// a photo is written to the evidence directory as it arrives, and what
// was received is removed unless the finding kept it.
func (p *page) rectify(w http.ResponseWriter, r *http.Request) {
	by, token, ok := p.session(w, r)
	if !ok {
		return
	}
	if r.ContentLength > maxRectifyBody {
		p.showFinding(w, r, by, token, http.StatusRequestEntityTooLarge, "photo_too_large", "")
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadReadTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, maxRectifyBody)
	form, err := r.MultipartReader()
	if err != nil {
		p.showFinding(w, r, by, token, http.StatusForbidden, "bad_form", "")
		return
	}
	var photos []*findings.Upload
	defer func() { findings.Discard(photos) }()
	slot := false
	defer func() {
		if slot {
			<-p.uploads
		}
	}()
	fields := map[string]string{}
	var req *findings.Request // set once checked
	budget := int64(maxFormFields)
	for {
		part, err := form.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			p.refuseForm(w, r, by, token, err)
			return
		}
		if part.FormName() != "photos" {
			if req != nil { // the browser sends its fields first: a field after a photo is no form of the page's
				p.showFinding(w, r, by, token, http.StatusForbidden, "bad_form", "")
				return
			}
			v, err := io.ReadAll(io.LimitReader(part, budget+1))
			budget -= int64(len(v))
			if err != nil || budget < 0 {
				p.refuseForm(w, r, by, token, err)
				return
			}
			if _, seen := fields[part.FormName()]; !seen {
				fields[part.FormName()] = string(v)
			}
			continue
		}
		if req == nil {
			if req = p.checkRectify(w, r, by, token, fields); req == nil {
				return
			}
		}
		photo := bufio.NewReader(part)
		if _, err := photo.Peek(1); err == io.EOF && part.FileName() == "" {
			continue // the file input with no file chosen
		}
		if len(photos) == findings.MaxPhotos {
			p.showFinding(w, r, by, token, http.StatusUnprocessableEntity, "too_many_photos", "")
			return
		}
		if !slot {
			select {
			case p.uploads <- struct{}{}:
				slot = true
			default:
				p.Log.Warn().Str("finding", r.PathValue("id")).Str("user", by.Name).Int("uploads", MaxUploads).
					Msg("site page upload refused: as many uploads as the page receives at once")
				w.Header().Set("Retry-After", strconv.Itoa(int(uploadRetryAfter.Seconds())))
				p.showFinding(w, r, by, token, http.StatusServiceUnavailable, "uploads_busy", "")
				return
			}
		}
		u, err := p.Findings.ReceivePhoto(photo)
		if err != nil {
			p.refuseForm(w, r, by, token, err)
			return
		}
		photos = append(photos, u)
	}
	if req == nil {
		if req = p.checkRectify(w, r, by, token, fields); req == nil {
			return
		}
	}
	p.act(w, r, by, token, *req, photos)
}

// checkRectify checks the form's fields, then whether the finding may be
// rectified by this user now, and answers when not (nil). A form sent
// again after it was applied is answered as done.
func (p *page) checkRectify(w http.ResponseWriter, r *http.Request, by auth.Principal, token string, fields map[string]string) *findings.Request {
	if !hmac.Equal([]byte(fields["csrf"]), []byte(p.csrf(token))) {
		p.showFinding(w, r, by, token, http.StatusForbidden, "bad_form", "")
		return nil
	}
	req := findings.Request{ActionID: fields["action_id"], Action: findings.ActRectify, Note: strings.TrimSpace(fields["note"])}
	if req.Note == "" {
		p.showFinding(w, r, by, token, http.StatusUnprocessableEntity, "note_required", "")
		return nil
	}
	done, err := p.Findings.Check(r.Context(), by, r.PathValue("id"), req)
	if err != nil || done {
		p.answer(w, r, by, token, req, err)
		return nil
	}
	return &req
}

// refuseForm answers a form that could not be read to its end.
func (p *page) refuseForm(w http.ResponseWriter, r *http.Request, by auth.Principal, token string, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig), errors.Is(err, findings.ErrTooLarge):
		p.showFinding(w, r, by, token, http.StatusRequestEntityTooLarge, "photo_too_large", "")
	case errors.Is(err, findings.ErrContentType):
		p.showFinding(w, r, by, token, http.StatusUnsupportedMediaType, "photo_type", "")
	case err == nil: // the fields over their bound
		p.showFinding(w, r, by, token, http.StatusRequestEntityTooLarge, "bad_form", "")
	default:
		p.Log.Info().Err(err).Str("finding", r.PathValue("id")).Str("user", by.Name).Msg("site page form not read")
		p.showFinding(w, r, by, token, http.StatusBadRequest, "bad_form", "")
	}
}

// act applies an action with the photos received for it.
func (p *page) act(w http.ResponseWriter, r *http.Request, by auth.Principal, token string, req findings.Request, photos []*findings.Upload) {
	_, err := p.Findings.ActWithPhotos(r.Context(), by, r.PathValue("id"), req, photos)
	p.answer(w, r, by, token, req, err)
}

// answer tells how an action went: done, a redirect to the finding;
// refused, the finding with why.
func (p *page) answer(w http.ResponseWriter, r *http.Request, by auth.Principal, token string, req findings.Request, err error) {
	id := r.PathValue("id")
	var te *findings.TransitionError
	switch {
	case err == nil:
		p.Log.Info().Str("finding", id).Str("user", by.Name).Str("action", string(req.Action)).Msg("site page action")
		http.Redirect(w, r, "/site/findings/"+id+"?done="+string(req.Action), http.StatusSeeOther)
	case errors.Is(err, findings.ErrNotFound):
		p.message(w, r, http.StatusNotFound, "not_found")
	case errors.As(err, &te):
		p.showFinding(w, r, by, token, http.StatusConflict, "cannot", "")
	case errors.Is(err, findings.ErrForbidden):
		p.showFinding(w, r, by, token, http.StatusForbidden, "read_only", "")
	case errors.Is(err, findings.ErrTooLarge):
		p.showFinding(w, r, by, token, http.StatusRequestEntityTooLarge, "photo_too_large", "")
	case errors.Is(err, findings.ErrContentType), errors.Is(err, findings.ErrInvalid):
		p.showFinding(w, r, by, token, http.StatusUnprocessableEntity, "bad_form", "")
	default:
		p.Log.Error().Err(err).Str("finding", id).Msg("site page action failed")
		p.showFinding(w, r, by, token, http.StatusInternalServerError, "failed", "")
	}
}

// standing is what the page says of where a finding stands for its reader:
// the deadline counts down only while the site has to act; once its part
// is done the page says when (a fixed finding counting on toward its
// deadline reads as still due); and where the reader has no form, why.
type standing struct {
	Awaiting bool   // the site has to act: the countdown runs
	Late     bool   // it has to act and the deadline has passed
	Done     string // "已整改 2026-12-02 15:04" once the site's part is done, else ""
	Hint     string // why there is no form, or ""
}

// timeLayout is how the page writes a time, in the site's zone.
const timeLayout = "2006-01-02 15:04"

func standingOf(lang string, by auth.Principal, f findings.Finding, loc *time.Location, canAct bool) standing {
	s := standing{}
	switch f.Status {
	case findings.StatusOpen, findings.StatusAcknowledged, findings.StatusReopened:
		s.Awaiting, s.Late = true, f.Overdue
	default:
		// A finding changes only by an action, so its last change is the
		// one that brought it here (a list reads no events).
		s.Done = phrases.In(lang, string(f.Status)) + " " + f.UpdatedAt.In(loc).Format(timeLayout)
	}
	switch {
	case canAct || f.Status.Closed():
	case findings.May(by.Role, findings.ActRectify):
		// The manager has done their part: the duty officer checks it on camera.
		if f.Status == findings.StatusRectified {
			s.Hint = phrases.In(lang, "awaiting_recheck")
		}
	default:
		s.Hint = phrases.In(lang, "read_only")
	}
	return s
}
