package relayclient

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay"
)

// TestAgainstRealRelay speaks to the real relay: sign-in, renewal by
// refresh, the camera list with health and the event stream.
func TestAgainstRealRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	creds := r.Demo()
	c, err := New(r.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Login(ctx, creds.User, creds.Password)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // expiry is to the second
	renewed, err := c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Token == first.Token || !renewed.ExpiresAt.After(first.ExpiresAt) || renewed.User != first.User {
		t.Fatalf("refresh %+v after %+v", renewed, first)
	}
	cams, err := c.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cams) != 12 || cams[0].State != StateOffline || cams[0].Streams == nil {
		t.Fatalf("%d cameras, first %+v", len(cams), cams[0])
	}
	got := make(chan Event, 1)
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	go c.Events(ectx, "", func(ev Event) {
		select {
		case got <- ev:
		default:
		}
	})
	select {
	case ev := <-got:
		var list struct{ Cameras []Camera }
		if err := json.Unmarshal(ev.Data, &list); ev.Name != "cameras" || err != nil || len(list.Cameras) != 12 {
			t.Fatalf("first event %s: %v", ev.Name, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
}
