package whep_test

import (
	"context"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/store/storetest"
	"github.com/qianliyan/qianliyan/relay/whep"
)

// TestSubViewerMovesToSubWhenItReturns: after a relay restart in which a
// camera's main stream came back before its sub stream, a viewer asking
// for the sub stream is served the main one, and moves to the sub stream
// once it is back (issue 10.14), on one clock.
func TestSubViewerMovesToSubWhenItReturns(t *testing.T) {
	const fps = 15
	mainUnits, err := testmedia.Units(testmedia.Spec{Width: 320, Height: 240, FPS: fps, GOP: fps, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	subUnits, err := testmedia.Units(testmedia.Spec{Width: 160, Height: 96, FPS: fps, GOP: fps, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
	defer cancel()
	_, st := storetest.Open(t)
	h := hub.New(hub.Config{})
	defer h.Close()
	mainKey := hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain}
	subKey := mainKey.Other()
	publish(t, ctx, h, mainKey, mainUnits, fps)

	srv, stop := newServer(t, ctx, whep.Config{Hub: h, Recorder: st})
	defer stop()
	served := make(chan string, 1)
	web := offers(func(ctx context.Context, offer string) (whep.Session, error) {
		sess, err := srv.Play(ctx, whep.Request{Key: subKey, User: "duty", Offer: offer})
		if err == nil {
			served <- sess.Stream
		}
		return sess, err
	})
	defer web.Close()

	v, err := webrtcclient.Play(ctx, web.URL+"/whep/site-01/doff1?stream=sub", webrtcclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.PC.Close()
	if s := <-served; s != hub.StreamMain {
		t.Fatalf("served the %s stream while the sub stream had no source, want main", s)
	}
	// The width of each keyframe the viewer gets, and its units' PTS.
	type seen struct {
		width int
		pts   time.Duration
	}
	units := make(chan seen, 1000)
	go v.Read(ctx, func(au avc.AccessUnit) {
		s := seen{pts: au.PTS}
		if sps, _ := au.ParamSets(); sps != nil {
			if info, err := avc.ParseSPS(sps); err == nil {
				s.width = info.Width
			}
		}
		units <- s
	})
	next := func(what string) seen {
		t.Helper()
		select {
		case s := <-units:
			return s
		case <-time.After(eventually.Ceiling):
			t.Fatalf("%s: no unit within %v", what, eventually.Ceiling)
			return seen{}
		}
	}
	for s := next("main"); s.width != 320; s = next("main") {
	}
	publish(t, ctx, h, subKey, subUnits, fps)
	last := time.Duration(-1)
	for {
		s := next("sub")
		if s.pts <= last {
			t.Fatalf("PTS went back from %v to %v", last, s.pts)
		}
		last = s.pts
		if s.width == 160 {
			break
		}
	}
	eventually.True(t, eventually.Ceiling, "the main stream without viewers", func() bool {
		st, _ := h.State(mainKey)
		return st.Readers == 0
	})
}
