package whep_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/whep"
)

// publish writes units to a new source of key at their frame rate until
// ctx ends.
func publish(t *testing.T, ctx context.Context, h *hub.Hub, key hub.Key, units []avc.AccessUnit, fps int) {
	t.Helper()
	src, err := h.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer src.Close()
		tick := time.NewTicker(time.Second / time.Duration(fps))
		defer tick.Stop()
		for i := 0; ; i++ {
			au := units[i%len(units)]
			au.PTS = time.Duration(i) * time.Second / time.Duration(fps)
			src.Write(au)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// newServer starts a WHEP server with cfg (its Hub and Recorder, and any
// Observer), the relay's pion settings, a 10 s connection timeout and a
// log of warnings. The returned stop ends its sessions and waits for them.
func newServer(t *testing.T, ctx context.Context, cfg whep.Config) (srv *whep.Server, stop func()) {
	t.Helper()
	api, err := webrtcavc.NewAPI(webrtcavc.Settings(true))
	if err != nil {
		t.Fatal(err)
	}
	cfg.API = api
	cfg.ConnectTimeout = 10 * time.Second
	cfg.Log = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	srvCtx, stopSessions := context.WithCancel(ctx)
	srv = whep.New(srvCtx, cfg)
	return srv, func() {
		stopSessions()
		srv.Wait()
	}
}

// offers answers WHEP offers over HTTP as the relay's API does, with the
// session play makes of each (status 400 when it fails), at
// /whep/site-01/doff1.
func offers(play func(ctx context.Context, offer string) (whep.Session, error)) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offer, _ := io.ReadAll(r.Body)
		sess, err := play(r.Context(), string(offer))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/sdp")
		w.Header().Set("Location", "/whep/site-01/doff1/"+sess.ID)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, sess.Answer)
	}))
}
