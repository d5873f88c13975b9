package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/peer"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/whep"
	"github.com/qianliyan/qianliyan/relay/whip"
)

// cors lets browser WHIP/WHEP clients on other origins call the relay.
// Credentials are bearer tokens, never cookies, so any origin may ask.
func cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Location, Retry-After")
		next(w, r)
	}
}

// preflight answers CORS preflight requests (and WHIP/WHEP OPTIONS probes):
// allow is what the resource supports, corsMethods what a browser may send
// (PATCH too on sessions, so that a browser client trying trickle ICE reads
// the relay's 405 rather than a CORS failure).
func preflight(allow, corsMethods string, acceptsSDP bool) http.HandlerFunc {
	return cors(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Allow", allow)
		if acceptsSDP {
			h.Set("Accept-Post", "application/sdp")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// streamParam reads ?stream=main|sub, main by default.
func streamParam(r *http.Request) (string, error) {
	switch v := r.URL.Query().Get("stream"); v {
	case "":
		return hub.StreamMain, nil
	case hub.StreamMain, hub.StreamSub:
		return v, nil
	default:
		return "", fail(http.StatusBadRequest, "bad_request", "stream %q: want main or sub", v)
	}
}

// camera checks that the path's camera exists.
func (s *server) camera(r *http.Request) (store.Camera, error) {
	site, id := r.PathValue("site"), r.PathValue("camera")
	c, err := s.Store.Camera(r.Context(), site, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Camera{}, fail(http.StatusNotFound, "unknown_camera", "camera %s/%s does not exist", site, id)
	}
	return c, err
}

// publisher checks the request's site publish token.
func (s *server) publisher(r *http.Request) error {
	token, ok := bearer(r)
	if !ok {
		return errNoToken
	}
	site := r.PathValue("site")
	hashes, err := s.Store.PublishTokenHashes(r.Context(), site)
	if err != nil {
		return err
	}
	if !auth.MatchPublishToken(token, hashes) {
		return fail(http.StatusUnauthorized, "unauthorized", "the token may not publish to site %s", site)
	}
	return nil
}

// mediaError maps the WHIP and WHEP servers' errors to answers.
func mediaError(w http.ResponseWriter, err error) error {
	switch {
	case errors.Is(err, peer.ErrBadOffer):
		return fail(http.StatusBadRequest, "bad_sdp", "%v", err)
	case errors.Is(err, hub.ErrAlreadyPublishing):
		return fail(http.StatusConflict, "already_publishing", "%v", err)
	case errors.Is(err, whep.ErrCameraOffline):
		w.Header().Set("Retry-After", "2")
		return fail(http.StatusConflict, "camera_offline", "the camera has no live stream; retry shortly")
	case errors.Is(err, whip.ErrUnknownSession), errors.Is(err, whep.ErrUnknownSession):
		return fail(http.StatusNotFound, "unknown_session", "no such session")
	}
	return err
}

// noPatch answers PATCH on a WHIP or WHEP session. RFC 9725 (WHIP),
// Section 4.3.1: a WHIP session that supports neither trickle ICE nor ICE
// restarts must answer HTTP PATCH requests with 405 Method Not Allowed.
// The relay's offers and answers are complete (every candidate gathered
// before the SDP is sent) and a peer whose network changes publishes or
// plays anew, so it supports neither; WHEP (draft-ietf-wish-whep) follows
// WHIP here. The caller sets Allow.
func noPatch(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		"this relay supports neither trickle ICE nor ICE restarts (RFC 9725, section 4.3.1): send a complete offer, and POST a new one to restart")
}

func writeSDP(w http.ResponseWriter, location, answer string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Content-Type", "application/sdp")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(answer))
}

func (s *server) whipPost(w http.ResponseWriter, r *http.Request) {
	if err := s.publisher(r); err != nil {
		s.respond(w, r, err)
		return
	}
	c, err := s.camera(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	stream, err := streamParam(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	offer, err := s.body(w, r, "application/sdp")
	if err != nil {
		s.respond(w, r, err)
		return
	}
	id, answer, err := s.WHIP.Publish(r.Context(), hub.Key{Site: c.Site, Camera: c.ID, Stream: stream}, string(offer))
	if err != nil {
		s.respond(w, r, mediaError(w, err))
		return
	}
	writeSDP(w, fmt.Sprintf("/whip/%s/%s/%s", c.Site, c.ID, id), answer)
}

func (s *server) whipDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.publisher(r); err != nil {
		s.respond(w, r, err)
		return
	}
	if err := s.WHIP.End(r.Context(), r.PathValue("site"), r.PathValue("camera"), r.PathValue("session")); err != nil {
		s.respond(w, r, mediaError(w, err))
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *server) whepPost(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	// Whether a site's camera exists is not told to those who may not see it.
	if site := r.PathValue("site"); !p.CanView(site) {
		s.respond(w, r, fail(http.StatusForbidden, "forbidden", "%s %s may not watch site %s", p.Role, p.Name, site))
		return
	}
	c, err := s.camera(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	stream, err := streamParam(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	offer, err := s.body(w, r, "application/sdp")
	if err != nil {
		s.respond(w, r, err)
		return
	}
	sess, err := s.WHEP.Play(r.Context(), whep.Request{
		Key:    hub.Key{Site: c.Site, Camera: c.ID, Stream: stream},
		User:   p.Name,
		Remote: remoteAddr(r),
		Offer:  string(offer),
	})
	if err != nil {
		s.respond(w, r, mediaError(w, err))
		return
	}
	writeSDP(w, fmt.Sprintf("/whep/%s/%s/%s", c.Site, c.ID, sess.ID), sess.Answer)
}

func (s *server) whepDelete(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	if err := s.WHEP.End(r.Context(), r.PathValue("site"), r.PathValue("camera"), p.Name, r.PathValue("session")); err != nil {
		s.respond(w, r, mediaError(w, err))
		return
	}
	w.WriteHeader(http.StatusOK)
}
