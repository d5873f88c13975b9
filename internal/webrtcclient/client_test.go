package webrtcclient_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// startRelay runs a demo relay on loopback and returns it with a login token.
func startRelay(t *testing.T) (*relay.Relay, string) {
	t.Helper()
	r := relaytest.Serve(t, relay.Options{Demo: true})
	return r, apitest.Login(t, r.URL(), r.Demo().User, r.Demo().Password)
}

func TestPublishAndPlay(t *testing.T) {
	units, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 15, Seconds: 3})
	if err != nil {
		t.Fatal(err)
	}
	r, token := startRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
	defer cancel()

	pub, err := webrtcclient.Publish(ctx, r.URL()+"/whip/site-01/doff1?stream=main", webrtcclient.Config{Token: r.Demo().PublishToken})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.PC.Close()
	if !strings.HasPrefix(pub.Session.Location, "/whip/site-01/doff1/") || pub.Session.URL != r.URL()+pub.Session.Location {
		t.Fatalf("session %+v", pub.Session)
	}
	// The relay caches the first GOP before anyone watches.
	for _, au := range units[:5] {
		if err := pub.Write(au); err != nil {
			t.Fatal(err)
		}
	}

	before := time.Now()
	v, err := webrtcclient.Play(ctx, r.URL()+"/whep/site-01/doff1?stream=main", webrtcclient.Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer v.PC.Close()
	if v.Session.Posted.Before(before) || !strings.HasPrefix(v.Session.Location, "/whep/site-01/doff1/") {
		t.Fatalf("session %+v", v.Session)
	}
	got := make(chan avc.AccessUnit, 100)
	readCtx, stopRead := context.WithCancel(ctx)
	readDone := make(chan error, 1)
	go func() {
		readDone <- v.Read(readCtx, func(au avc.AccessUnit) { got <- au })
	}()
	next := func() avc.AccessUnit {
		t.Helper()
		select {
		case au := <-got:
			return au
		case <-time.After(eventually.Ceiling):
			t.Fatalf("no access unit within %v", eventually.Ceiling)
			return avc.AccessUnit{}
		}
	}
	// The cached units first, keyframe with parameter sets in front.
	first := next()
	if sps, pps := first.ParamSets(); !first.Keyframe || sps == nil || pps == nil {
		t.Fatalf("first unit keyframe=%v", first.Keyframe)
	}
	for range units[1:5] {
		next()
	}
	for _, au := range units[5:20] {
		if err := pub.Write(au); err != nil {
			t.Fatal(err)
		}
	}
	for i := 5; i < 20; i++ {
		if au := next(); !bytes.Equal(au.NALUs[len(au.NALUs)-1], units[i].NALUs[len(units[i].NALUs)-1]) {
			t.Fatalf("unit %d differs", i)
		}
	}
	if v.SSRC() == 0 {
		t.Error("no SSRC once the track arrived")
	}
	st := v.Stats()
	if st.Units != 20 || st.Packets == 0 || st.Packets != st.Expected || st.Lost != 0 || st.MaxPayload == 0 || st.MaxPayload > 1200 {
		t.Fatalf("stats %+v", st)
	}

	// Read ends with its context, and reading can resume.
	stopRead()
	select {
	case err := <-readDone:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Read returned %v", err)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatalf("Read did not return within %v of its context ending", eventually.Ceiling)
	}
	go func() { _ = v.Read(ctx, func(au avc.AccessUnit) { got <- au }) }()
	if err := pub.Write(units[20]); err != nil {
		t.Fatal(err)
	}
	next()

	if err := v.Close(ctx); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the relay dropping the viewer after DELETE", func() bool { return len(r.Viewers()) == 0 })
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// DELETE again: the session is gone.
	if err := v.Close(ctx); !isStatus(err, http.StatusNotFound, "unknown_session") {
		t.Fatalf("second DELETE: %v", err)
	}
}

func isStatus(err error, status int, code string) bool {
	var e *webrtcclient.Error
	return errors.As(err, &e) && e.Status == status && e.Code == code
}

func TestRefusals(t *testing.T) {
	r, token := startRelay(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
	defer cancel()
	cases := []struct {
		name, path, token string
		publish           bool
		status            int
		code              string
	}{
		{"viewer without token", "/whep/site-01/doff1", "", false, 401, "unauthorized"},
		{"unknown camera", "/whep/site-01/nope", token, false, 404, "unknown_camera"},
		{"camera not publishing", "/whep/site-01/doff1", token, false, 409, "camera_offline"},
		{"publisher with a login token", "/whip/site-01/doff1", token, true, 401, "unauthorized"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.publish {
				_, err = webrtcclient.Publish(ctx, r.URL()+c.path, webrtcclient.Config{Token: c.token})
			} else {
				_, err = webrtcclient.Play(ctx, r.URL()+c.path, webrtcclient.Config{Token: c.token})
			}
			if !isStatus(err, c.status, c.code) {
				t.Fatalf("got %v, want %d %s", err, c.status, c.code)
			}
			if !strings.Contains(err.Error(), c.path) {
				t.Errorf("error %q does not name the URL", err)
			}
		})
	}
	if len(r.Viewers()) != 0 {
		t.Fatalf("refused offers left sessions: %+v", r.Viewers())
	}
}

// TestBadAnswers checks what the client makes of servers that answer
// 201 but not with a usable session.
func TestBadAnswers(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"not SDP", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Location", "/whep/x/y/1")
			w.WriteHeader(http.StatusCreated)
		}, `Content-Type "text/html"`},
		{"no Location", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/sdp")
			w.WriteHeader(http.StatusCreated)
		}, "without Location"},
		{"answer not SDP", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/sdp")
			w.Header().Set("Location", "/whep/x/y/1")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte("hello"))
		}, "applying answer"},
		{"refusal without JSON", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream down", http.StatusBadGateway)
		}, "502: upstream down"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := webrtcclient.Play(ctx, srv.URL+"/whep/x/y", webrtcclient.Config{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}
