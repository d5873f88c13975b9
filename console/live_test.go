package console

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/internal/sitesim"
)

// TestCameraDiesAndRelayRestarts watches a simulated camera through the
// real relay: its picture stalls within 3 s of the camera dying, the
// relay's event says it is offline, and the picture comes back by itself
// with the camera; a relay restart is survived on the same video
// connection and event stream.
func TestCameraDiesAndRelayRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := options(t, nil)
	dir := t.TempDir()
	r := startDemoRelay(t, "127.0.0.1:0", dir, opts.Log)
	creds := r.Demo()
	sim, err := sitesim.Start(ctx, sitesim.Options{
		RelayURL: r.URL(), Token: creds.PublishToken, Sites: 1, Cameras: 1,
		FPS: 15, GOP: time.Second, Width: 320, Height: 180, NoSub: true, Log: opts.Log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()

	opts.RelayURL, opts.User, opts.Password = r.URL(), creds.User, creds.Password
	b := start(t, opts)
	v := serve(t, b)
	stream := v.events()
	stream.next("cameras")
	vid := v.video("site-01/doff1", "main")
	vid.picture(20 * time.Second) // the simulator needs a moment to publish

	if err := sim.StopCamera("site-01", "doff1"); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	s := vid.state(3*time.Second, "stalled", "offline")
	since, err := time.Parse(time.RFC3339, s.Since)
	if err != nil || since.Before(died.Add(-5*time.Second)) || since.After(time.Now()) {
		t.Fatalf("state %+v: since %v (%v), the camera died at %v", s, since, err, died)
	}
	// The relay's word passes through to the views' event stream.
	for {
		var cam relayclient.Camera
		if err := json.Unmarshal(stream.next("camera"), &cam); err != nil {
			t.Fatal(err)
		}
		if cam.Path() == "site-01/doff1" && cam.State == relayclient.StateOffline {
			break
		}
	}
	if err := sim.StartCamera("site-01", "doff1"); err != nil {
		t.Fatal(err)
	}
	vid.state(20*time.Second, "live")
	vid.picture(5 * time.Second)

	// The relay restarts on its address with its data: the session holds
	// (same signing key) and the picture comes back on the same connection.
	addr := strings.TrimPrefix(r.URL(), "http://")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	vid.state(10*time.Second, "stalled", "offline")
	r = startDemoRelay(t, addr, dir, opts.Log)
	vid.state(30*time.Second, "live")
	vid.picture(5 * time.Second)
	// The same event stream goes on, from the relay's new process.
	for {
		var cam relayclient.Camera
		if err := json.Unmarshal(stream.next("camera"), &cam); err != nil {
			t.Fatal(err)
		}
		if cam.Path() == "site-01/doff1" && cam.State == relayclient.StateOnline {
			break
		}
	}
	if s := v.session(); !s.SignedIn {
		t.Fatalf("signed out by a relay restart: %+v", s)
	}
	if code, raw := v.call("GET", "/api/v1/cameras", nil, nil); code != 200 {
		t.Fatalf("cameras after the restart: %d %s", code, raw)
	}
}
