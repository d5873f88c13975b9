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

	"github.com/qianliyan/qianliyan/console/internal/relaytest"
)

func TestEventsFollowsRelay(t *testing.T) {
	relay := relaytest.Start(t, relaytest.Options{EventIDs: true})
	c, err := New(relay.URL(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.Login(ctx, relaytest.User, relaytest.Password); err != nil {
		t.Fatal(err)
	}
	events := make(chan Event, 10)
	done := make(chan error, 1)
	go func() { done <- c.Events(ctx, "", func(ev Event) { events <- ev }) }()
	next := func() Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case err := <-done:
			t.Fatalf("stream ended: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5 s")
		}
		return Event{}
	}

	ev := next()
	var list struct{ Cameras []Camera }
	if err := json.Unmarshal(ev.Data, &list); ev.Name != "cameras" || err != nil || len(list.Cameras) != 2 || ev.ID == "" {
		t.Fatalf("first event %s %q: %v", ev.Name, ev.Data, err)
	}
	relay.SetOnline("site-01/doff2", false)
	ev = next()
	var cam Camera
	if err := json.Unmarshal(ev.Data, &cam); ev.Name != "camera" || err != nil || cam.Path() != "site-01/doff2" || cam.State != StateOffline {
		t.Fatalf("state change %s %q: %v", ev.Name, ev.Data, err)
	}

	// The relay going away ends the stream; the next one says where the
	// last stopped.
	relay.DropEvents()
	select {
	case err := <-done:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("stream ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not end when the relay dropped it")
	}
	go func() { done <- c.Events(ctx, ev.ID, func(ev Event) { events <- ev }) }()
	next()
	if ids := relay.LastEventIDs(); !reflect.DeepEqual(ids, []string{"", ev.ID}) {
		t.Fatalf("Last-Event-ID headers %q, want \"\" then %q", ids, ev.ID)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled stream ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream did not stop when cancelled")
	}
}

func TestEventsRefused(t *testing.T) {
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
		{"token refused", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"code":"unauthorized","message":"bad token"}}`)
		}, func(err error) bool { return errors.Is(err, ErrSessionExpired) }},
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
