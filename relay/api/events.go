package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// eventWriteTimeout bounds each write to an event stream: a client that
// stops reading is dropped rather than holding its handler forever.
const eventWriteTimeout = 10 * time.Second

// events streams camera health as Server-Sent Events (docs/PROTOCOLS.md):
// the whole list at once and every EventsRefresh, one camera whenever its
// state changes, a comment every EventsKeepalive. The stream ends when the
// token expires (the client reconnects with its refreshed one), when the
// user is disabled, or when the relay stops.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	p, expires, err := s.principal(r)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	ctx := r.Context()
	rc := http.NewResponseController(w)
	sub := s.Changes.Subscribe()
	defer sub.Close()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would hold events back
	w.WriteHeader(http.StatusOK)

	write := func(text string) error {
		if err := rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)); err != nil {
			return err
		}
		if _, err := fmt.Fprint(w, text); err != nil {
			return err
		}
		return rc.Flush()
	}
	send := func(event string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return write("event: " + event + "\ndata: " + string(b) + "\n\n")
	}
	sendAll := func() error {
		list, err := s.cameraList(ctx, p)
		if err != nil {
			return err
		}
		return send("cameras", map[string]any{"cameras": list})
	}

	log := s.Log.With().Str("user", p.Name).Logger()
	if err := sendAll(); err != nil {
		log.Debug().Err(err).Msg("event stream ended")
		return
	}
	refresh := time.NewTicker(s.EventsRefresh)
	defer refresh.Stop()
	keepalive := time.NewTicker(s.EventsKeepalive)
	defer keepalive.Stop()
	expiry := time.NewTimer(expires.Sub(s.Now()))
	defer expiry.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-s.Stopping:
			return
		case <-expiry.C:
			_ = write(": token expired; reconnect with a fresh token\n\n")
			return
		case c := <-sub.Changed():
			if !p.CanView(c.Site) {
				continue
			}
			var cam Camera
			var ok bool
			if cam, ok, err = s.cameraEntry(ctx, c.Site, c.ID); ok {
				err = send("camera", cam)
			}
		case <-sub.Resync():
			err = sendAll()
		case <-refresh.C:
			// Role changes and disabling apply to open streams too.
			if p, err = s.user(r, p.Name); err == nil {
				err = sendAll()
			}
		case <-keepalive.C:
			err = write(": keepalive\n\n")
		}
		if err != nil {
			log.Debug().Err(err).Msg("event stream ended")
			return
		}
	}
}
