package media

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/sitesim"
	"github.com/qianliyan/qianliyan/relay"
)

// TestSourceAgainstRealRelay pulls from the real relay a camera that the
// site simulator publishes over WHIP, and follows it going offline and back.
func TestSourceAgainstRealRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	creds := r.Demo()
	sim, err := sitesim.Start(ctx, sitesim.Options{
		RelayURL: r.URL(), Token: creds.PublishToken, Sites: 1, Cameras: 1,
		FPS: 15, GOP: time.Second, Width: 320, Height: 180, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	rc, err := relayclient.New(r.URL(), relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Login(ctx, creds.User, creds.Password); err != nil {
		t.Fatal(err)
	}
	w, err := NewWHEP(r.URL(), rc, log)
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOptions()
	// The relay keeps a session open when the publisher leaves; a short
	// restart gets the offline answer sooner.
	opts.RestartAfter = 3 * time.Second
	sources := NewSources(ctx, w, opts)
	defer sources.Close()
	rec := newRecorder()
	unsub, err := sources.Subscribe(Key{Site: "site-01", Camera: "doff1", Stream: "sub"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()

	// The simulator needs a moment to publish; until then the relay says
	// the camera is offline and the source retries.
	var first avc.AccessUnit
	select {
	case first = <-rec.units:
	case <-time.After(20 * time.Second):
		t.Fatal("no video from the relay within 20 s")
	}
	if !first.Keyframe {
		t.Fatal("first unit from the relay is not a keyframe")
	}
	sps, _ := first.ParamSets()
	info, err := avc.ParseSPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 320 || info.Height != 180 {
		t.Fatalf("stream is %dx%d, want 320x180", info.Width, info.Height)
	}
	last := first.PTS
	for range 15 {
		au := rec.unit(t)
		if au.PTS <= last {
			t.Fatalf("PTS %v after %v", au.PTS, last)
		}
		last = au.PTS
	}

	if err := sim.StopCamera("site-01", "doff1"); err != nil {
		t.Fatal(err)
	}
	waitOffline(t, rec, "camera_offline")
	if err := sim.StartCamera("site-01", "doff1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.states:
	default:
	}
	waitLive(t, rec, 20*time.Second)
}

// waitOffline waits for offline with reason, which may follow another
// reason (the session dropping before the relay says why).
func waitOffline(t *testing.T, rec *recorder, reason string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-rec.states:
			t.Logf("state %s %s", s.State, s.Reason)
			if s.State == Offline && s.Reason == reason {
				return
			}
		case <-deadline:
			t.Fatalf("not offline with %q within 20 s", reason)
		}
	}
}

func waitLive(t *testing.T, rec *recorder, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case s := <-rec.states:
			if s.State == Live {
				return
			}
		case <-deadline:
			t.Fatalf("not live again within %v", within)
		}
	}
}
