package api

import (
	"net/http"
	"time"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
	"github.com/qianliyan/qianliyan/relay/auth"
)

// eventWriteTimeout bounds each write to an event stream: a client that
// stops reading is dropped rather than holding its handler forever.
const eventWriteTimeout = 10 * time.Second

// events streams camera health as Server-Sent Events (docs/PROTOCOLS.md):
// the whole list at once and every EventsRefresh, one camera whenever its
// state changes, a comment every EventsKeepalive. The stream ends when the
// token expires (the client reconnects with its refreshed one), when the
// user's tokens are revoked or their session is over (a last comment says
// why, as "code: message"), or when the relay stops. A user holds at most
// their limit of streams (429 too_many_open). Once the stream has begun
// its failures end it and are only logged: its 200 is already sent.
func (s *server) events(w http.ResponseWriter, r *http.Request) error {
	p, claims, err := s.principal(r)
	if err != nil {
		return err
	}
	lease, err := s.lease(w, auth.EventStream, claims)
	if err != nil {
		return err
	}
	defer lease.Release()
	ctx := r.Context()
	sub := s.Changes.Subscribe()
	defer sub.Close()
	log := s.Log.With().Str("user", p.Name).Logger()

	stream, err := httpapi.NewEventStream(w, eventWriteTimeout)
	if err != nil {
		log.Debug().Err(err).Msg("event stream ended")
		return nil
	}
	sendAll := func() error {
		list, err := s.cameraList(ctx, p)
		if err != nil {
			return err
		}
		return stream.SendJSON("cameras", map[string]any{"cameras": list})
	}
	if err := sendAll(); err != nil {
		log.Debug().Err(err).Msg("event stream ended")
		return nil
	}
	refresh := time.NewTicker(s.EventsRefresh)
	defer refresh.Stop()
	keepalive := time.NewTicker(s.EventsKeepalive)
	defer keepalive.Stop()
	expiry := time.NewTimer(claims.Expires.Sub(s.Now()))
	defer expiry.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-s.Stopping:
			return nil
		case <-expiry.C:
			_ = stream.Comment("token expired; reconnect with a fresh token")
			return nil
		case <-lease.Done():
			_ = stream.Comment(faultLine(lease.Err()))
			log.Info().Err(lease.Err()).Msg("event stream ended: the sign-in no longer holds")
			return nil
		case c := <-sub.Changed():
			if !p.CanView(c.Site) {
				continue
			}
			var cam Camera
			var ok bool
			if cam, ok, err = s.cameraEntry(ctx, c.Site, c.ID); ok {
				err = stream.SendJSON("camera", cam)
			}
		case <-sub.Resync():
			err = sendAll()
		case <-refresh.C:
			// Revocations apply to open streams too, at once when the relay
			// made them and by the lease's check when the command line did.
			if p, err = s.admit(r, claims); err != nil {
				_ = stream.Comment(faultLine(err))
			} else {
				err = sendAll()
			}
		case <-keepalive.C:
			err = stream.Comment("keepalive")
		}
		if err != nil {
			log.Debug().Err(err).Msg("event stream ended")
			return nil
		}
	}
}

// faultLine is a refusal as one line, "code: message": the last comment of
// a stream that ends for it.
func faultLine(err error) string {
	if f := fault.As(err); f != nil {
		return f.Code + ": " + f.Message
	}
	return "internal: the stream ended"
}
