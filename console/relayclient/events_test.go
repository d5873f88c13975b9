package relayclient

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

func TestEventsFollowsRelay(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{})
	creds := relay.Demo()
	// Through a proxy, to read what the client asks.
	proxy := relaytest.NewProxy(t, relay.URL())
	c := signIn(t, proxy.URL(), creds.User, creds.Password)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan Event, 100)
	done := make(chan error, 1)
	go func() { done <- c.Events(ctx, "", func(ev Event) { events <- ev }) }()
	next := func(name string) Event {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.Name == name {
					return ev
				}
			case err := <-done:
				t.Fatalf("stream ended: %v", err)
			case <-time.After(eventually.Ceiling):
				t.Fatalf("no %s event", name)
			}
		}
	}

	ev := next("cameras")
	var list struct{ Cameras []Camera }
	if err := json.Unmarshal(ev.Data, &list); err != nil || len(list.Cameras) != 12 {
		t.Fatalf("first event %s %q: %v", ev.Name, ev.Data, err)
	}
	relay.SetOnline(t, "site-01/doff2", true)
	for {
		ev = next("camera")
		var cam Camera
		if err := json.Unmarshal(ev.Data, &cam); err != nil {
			t.Fatalf("state change %q: %v", ev.Data, err)
		}
		if cam.Path() == "site-01/doff2" && cam.State == StateOnline {
			break
		}
	}

	// The relay going away ends the stream; the next one says where the
	// last stopped (the relay sends no ids today; one that does is told).
	relay.Restart(t)
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("stream ended with %v", err)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("stream did not end when the relay restarted")
	}
	go func() { done <- c.Events(ctx, "7", func(ev Event) { events <- ev }) }()
	next("cameras")
	var asked []string
	for _, call := range proxy.Calls("/api/v1/events") {
		asked = append(asked, call.Header.Get("Last-Event-ID"))
	}
	if !reflect.DeepEqual(asked, []string{"", "7"}) {
		t.Fatalf("Last-Event-ID headers %q, want \"\" then \"7\"", asked)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled stream ended with %v", err)
		}
	case <-time.After(eventually.Ceiling):
		t.Fatal("stream did not stop when cancelled")
	}
}

// A relay ending the session refuses the stream: the session is over. The
// answers of a relay without the event stream, or of something that is not
// the relay, the real one never gives: stand-ins give them.
func TestEventsRefused(t *testing.T) {
	t.Run("token refused", func(t *testing.T) {
		relay := relaytest.Start(t, relaytest.Options{})
		c := signIn(t, relay.URL(), relay.Demo().User, relay.Demo().Password)
		relay.RestartWithNewKey(t)
		if err := c.Events(context.Background(), "", func(Event) { t.Error("got an event") }); !errors.Is(err, ErrSessionExpired) {
			t.Fatalf("unexpected error %v", err)
		}
	})
	cases := []struct {
		name    string
		handler http.HandlerFunc
		check   func(error) bool
	}{
		{"no event stream", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"not_found","message":"no route"}}`)
		}, func(err error) bool {
			var rerr *Error
			return errors.As(err, &rerr) && rerr.Code == "not_found"
		}},
		{"not an event stream", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{}`)
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "text/event-stream") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/login" {
					io.WriteString(w, `{"token":"t","expires_at":"2999-01-01T00:00:00Z","user":{"name":"duty","role":"duty"}}`)
					return
				}
				c.handler(w, r)
			}))
			defer srv.Close()
			cl, err := New(srv.URL, Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := cl.Login(ctx, "duty", "pw"); err != nil {
				t.Fatal(err)
			}
			err = cl.Events(ctx, "", func(Event) { t.Error("got an event") })
			if !c.check(err) {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}

func TestSSEParsing(t *testing.T) {
	cases := []struct {
		name   string
		stream string
		want   []Event
	}{
		{"plain", "event: camera\ndata: {}\n\n", []Event{{Name: "camera", Data: []byte("{}")}}},
		{"no name", "data: x\n\n", []Event{{Name: "message", Data: []byte("x")}}},
		{"CRLF and CR", "event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r", []Event{{Name: "a", Data: []byte("1")}, {Name: "b", Data: []byte("2")}}},
		{"multi-line data", "data: a\ndata:b\n\n", []Event{{Name: "message", Data: []byte("a\nb")}}},
		{"comments and no data", ": keepalive\n\nevent: x\n\n", nil},
		{"ids carry over", "id: 7\ndata: a\n\ndata: b\n\n", []Event{{ID: "7", Name: "message", Data: []byte("a")}, {ID: "7", Name: "message", Data: []byte("b")}}},
		{"unfinished event", "data: a\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := bufio.NewScanner(strings.NewReader(c.stream))
			sc.Split(scanLines)
			var p sseParser
			var got []Event
			for sc.Scan() {
				if ev, ok := p.line(sc.Text()); ok {
					got = append(got, ev)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
