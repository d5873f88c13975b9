package console

import (
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/console/relayclient"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// TestCameraDiesAndRelayRestarts watches a camera through the real relay:
// its picture stalls when the camera dies, the relay's event says it is
// offline, and the picture comes back by itself with the camera; a relay
// going down and coming back is survived on the same video connection and
// event stream.
func TestCameraDiesAndRelayRestarts(t *testing.T) {
	r := relaytest.Start(t, doff1)
	b := start(t, options(t, r))
	v := serve(t, b)
	stream := v.events()
	stream.next("cameras")
	vid := v.video("site-01/doff1", "main")
	vid.picture()

	died := time.Now()
	r.SetOnline(t, "site-01/doff1", false)
	s := vid.state("stalled", "offline")
	since, err := time.Parse(time.RFC3339, s.Since)
	if err != nil || since.Before(died.Add(-5*time.Second)) || since.After(time.Now()) {
		t.Fatalf("state %+v: since %v (%v), the camera died at %v", s, since, err, died)
	}
	// The relay's word passes through to the views' event stream.
	stream.camera("site-01/doff1", relayclient.StateOffline)
	r.SetOnline(t, "site-01/doff1", true)
	vid.state("live")
	vid.picture()

	// The relay goes down and comes back on its address with its data: the
	// session holds (same signing key) and the picture comes back on the
	// same connection.
	r.Stop(t)
	vid.state("stalled", "offline")
	r.Resume(t)
	vid.state("live")
	vid.picture()
	// The same event stream goes on, from the relay's new run.
	stream.camera("site-01/doff1", relayclient.StateOnline)
	if s := v.session(); !s.SignedIn {
		t.Fatalf("signed out by a relay restart: %+v", s)
	}
	if code, raw := v.call("GET", "/api/v1/cameras", nil, nil); code != 200 {
		t.Fatalf("cameras after the restart: %d %s", code, raw)
	}
}
