package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/whep"
)

// sessionAllow is what a WHIP or WHEP session resource supports.
const sessionAllow = "DELETE, OPTIONS"

// mountMedia routes WHIP (sites publish) and WHEP (consoles play), which
// are the same resources with their own POST and DELETE: a camera's
// endpoint takes an offer, a session's resource is ended by DELETE and
// refuses PATCH.
func (s *server) mountMedia(rt *httpapi.Router) {
	for _, m := range []struct {
		prefix    string
		post, end httpapi.HandlerFunc
	}{
		{"/whip", s.whipPost, s.whipDelete},
		{"/whep", s.whepPost, s.whepDelete},
	} {
		rt.Route(m.prefix+"/{site}/{camera}", httpapi.Methods{
			http.MethodPost:    cors(m.post),
			http.MethodOptions: preflight("POST, OPTIONS", "POST, OPTIONS", true),
		})
		session := m.prefix + "/{site}/{camera}/{session}"
		rt.Route(session, httpapi.Methods{
			http.MethodDelete:  cors(m.end),
			http.MethodOptions: preflight(sessionAllow, "DELETE, PATCH, OPTIONS", false),
		})
		// PATCH is answered by a route of its own, so that the session's
		// Allow does not offer it.
		rt.Handle(http.MethodPatch+" "+session, http.HandlerFunc(noPatch))
	}
}

// cors lets browser WHIP/WHEP clients on other origins call the relay.
// Credentials are bearer tokens, never cookies, so any origin may ask.
func cors(next httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		allowOrigins(w)
		return next(w, r)
	}
}

func allowOrigins(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Retry-After")
}

// preflight answers CORS preflight requests (and WHIP/WHEP OPTIONS probes):
// allow is what the resource supports, corsMethods what a browser may send
// (PATCH too on sessions, so that a browser client trying trickle ICE reads
// the relay's 405 rather than a CORS failure).
func preflight(allow, corsMethods string, acceptsSDP bool) httpapi.HandlerFunc {
	return cors(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Allow", allow)
		if acceptsSDP {
			h.Set("Accept-Post", "application/sdp")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// noPatch answers PATCH on a WHIP or WHEP session. RFC 9725 (WHIP),
// Section 4.3.1: a WHIP session that supports neither trickle ICE nor ICE
// restarts must answer HTTP PATCH requests with 405 Method Not Allowed.
// The relay's offers and answers are complete (every candidate gathered
// before the SDP is sent) and a peer whose network changes publishes or
// plays anew, so it supports neither; WHEP (draft-ietf-wish-whep) follows
// WHIP here.
func noPatch(w http.ResponseWriter, r *http.Request) {
	allowOrigins(w)
	w.Header().Set("Allow", sessionAllow)
	httpapi.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed",
		"this relay supports neither trickle ICE nor ICE restarts (RFC 9725, section 4.3.1): send a complete offer, and POST a new one to restart")
}

// offer reads what a WHIP or WHEP POST asks for: the path's camera, which
// must exist, its stream (?stream=main|sub, main by default), and the SDP
// offer of the body.
func (s *server) offer(w http.ResponseWriter, r *http.Request) (hub.Key, string, error) {
	c, err := s.Store.Camera(r.Context(), r.PathValue("site"), r.PathValue("camera"))
	if err != nil {
		return hub.Key{}, "", err
	}
	key := hub.Key{Site: c.Site, Camera: c.ID, Stream: hub.StreamMain}
	switch v := r.URL.Query().Get("stream"); v {
	case "":
	case hub.StreamMain, hub.StreamSub:
		key.Stream = v
	default:
		return hub.Key{}, "", fault.New(fault.Invalid, "bad_request", "stream %q: want main or sub", v)
	}
	sdp, err := httpapi.ReadBody(w, r, "application/sdp", s.MaxSDPBytes)
	return key, string(sdp), err
}

// answer sends the SDP answer of a new session.
func answer(w http.ResponseWriter, prefix string, key hub.Key, session, sdp string) {
	h := w.Header()
	h.Set("Location", fmt.Sprintf("%s/%s/%s/%s", prefix, key.Site, key.Camera, session))
	h.Set("Content-Type", "application/sdp")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(sdp))
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
		return unauthorized("the token may not publish to site %s", site)
	}
	return nil
}

// viewer checks the request's login token and that its user may watch the
// path's site.
func (s *server) viewer(r *http.Request) (auth.Principal, auth.Claims, error) {
	p, claims, err := s.principal(r)
	if err != nil {
		return auth.Principal{}, auth.Claims{}, err
	}
	if site := r.PathValue("site"); !p.CanView(site) {
		return auth.Principal{}, auth.Claims{}, fault.New(fault.Forbidden, "forbidden", "%s %s may not watch site %s", p.Role, p.Name, site)
	}
	return p, claims, nil
}

func (s *server) whipPost(w http.ResponseWriter, r *http.Request) error {
	if err := s.publisher(r); err != nil {
		return err
	}
	key, offer, err := s.offer(w, r)
	if err != nil {
		return err
	}
	id, sdp, err := s.WHIP.Publish(r.Context(), key, offer)
	if err != nil {
		return err
	}
	answer(w, "/whip", key, id, sdp)
	return nil
}

func (s *server) whipDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.publisher(r); err != nil {
		return err
	}
	if err := s.WHIP.End(r.Context(), r.PathValue("site"), r.PathValue("camera"), r.PathValue("session")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *server) whepPost(w http.ResponseWriter, r *http.Request) error {
	// Whether a site's camera exists is not told to those who may not see
	// it: the viewer is checked first.
	p, claims, err := s.viewer(r)
	if err != nil {
		return err
	}
	key, offer, err := s.offer(w, r)
	if err != nil {
		return err
	}
	// The session holds a lease of its viewer's: within their limit, and
	// ended by the relay when their sign-in no longer holds.
	lease, err := s.lease(w, auth.WHEPSession, claims)
	if err != nil {
		return err
	}
	sess, err := s.WHEP.Play(r.Context(), whep.Request{Key: key, User: p.Name, Remote: httpapi.RemoteIP(r), Offer: offer, Lease: lease})
	if errors.Is(err, whep.ErrCameraOffline) {
		w.Header().Set("Retry-After", "2") // what "retry shortly" means
	}
	if err != nil {
		lease.Release()
		return err
	}
	answer(w, "/whep", key, sess.ID, sess.Answer)
	return nil
}

// whepDelete ends a session by its URL alone, whatever token comes with
// it: the URL's session ID (128 random bits, told only to the viewer who
// opened it) is the capability, so that a viewer whose sign-in was revoked
// or has expired can still leave cleanly.
func (s *server) whepDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.WHEP.End(r.Context(), r.PathValue("site"), r.PathValue("camera"), r.PathValue("session")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
