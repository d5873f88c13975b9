package whep_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
	"github.com/qianliyan/qianliyan/relay/whep"
)

// TestRevokedViewerIsEnded: a session played under a lease ends when the
// lease does (its viewer disabled), recorded with the reason, and gives
// the lease back (issue 12: a disabled site manager kept watching until
// their client left).
func TestRevokedViewerIsEnded(t *testing.T) {
	const fps = 15
	units, err := testmedia.Units(testmedia.Spec{Width: 160, Height: 96, FPS: fps, GOP: fps, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
	defer cancel()
	_, st := storetest.Open(t)
	if err := st.PutSite(ctx, store.Site{ID: "site-01", TimeZone: "Asia/Shanghai"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.PutUser(ctx, store.User{Name: "mgr", Role: "site_manager", PasswordHash: "x", Sites: []string{"site-01"}}); err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewSigner(bytes.Repeat([]byte{1}, auth.KeySize), time.Hour, 12*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, claims, err := signer.Issue("mgr", auth.RoleSiteManager, auth.AudienceAPI, 0)
	if err != nil {
		t.Fatal(err)
	}
	leases := auth.NewLeases(auth.LeasesConfig{Users: st, Log: zerolog.Nop()})

	h := hub.New(hub.Config{})
	defer h.Close()
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain}
	publish(t, ctx, h, key, units, fps)
	srv, stop := newServer(t, ctx, whep.Config{Hub: h, Recorder: st})
	defer stop()
	web := offers(func(ctx context.Context, offer string) (whep.Session, error) {
		lease, err := leases.Acquire(auth.WHEPSession, claims)
		if err != nil {
			return whep.Session{}, err
		}
		sess, err := srv.Play(ctx, whep.Request{Key: key, User: "mgr", Offer: offer, Lease: lease})
		if err != nil {
			lease.Release()
		}
		return sess, err
	})
	defer web.Close()

	v, err := webrtcclient.Play(ctx, web.URL+"/whep/site-01/doff1", webrtcclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.PC.Close()
	watching := make(chan struct{}, 1)
	go v.Read(ctx, func(avc.AccessUnit) {
		select {
		case watching <- struct{}{}:
		default:
		}
	})
	select {
	case <-watching:
	case <-ctx.Done():
		t.Fatal("no video")
	}

	if err := st.SetDisabled(ctx, "mgr", true); err != nil {
		t.Fatal(err)
	}
	if err := leases.Check(ctx); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the disabled viewer's session ending", func() bool { return srv.Count() == 0 })
	recs, err := st.WHEPSessions(ctx, 1)
	if err != nil || len(recs) != 1 || recs[0].Ended.IsZero() || recs[0].EndReason != "token_revoked" {
		t.Fatalf("the session's record %+v, %v; want ended, token_revoked", recs, err)
	}
	if n := leases.Held("mgr", auth.WHEPSession); n != 0 {
		t.Fatalf("the ended session holds %d leases", n)
	}
	// The viewer's peer sees the relay gone (ICE consent lapses: pion v3
	// does not act on the DTLS close a browser acts on at once).
	eventually.True(t, eventually.Ceiling, "the viewer's connection dropping", func() bool {
		return v.PC.ConnectionState() != webrtc.PeerConnectionStateConnected
	})
}
