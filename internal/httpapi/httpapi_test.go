package httpapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/httpapi"
)

type form struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

type answer struct {
	Error struct{ Code, Message, Field string } `json:"error"`
}

func serve(t *testing.T, h http.Handler, method, path, ctype, body string) (int, http.Header, answer) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var a answer
	if rec.Code >= 400 {
		if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
			t.Fatalf("%s %s: %d answer is not JSON: %q", method, path, rec.Code, rec.Body)
		}
	}
	return rec.Code, rec.Header(), a
}

func TestRouterAndDecode(t *testing.T) {
	notFound := errors.New("no such thing")
	rt := httpapi.NewRouter(zerolog.Nop(), func(err error) error {
		if errors.Is(err, notFound) {
			return fault.New(fault.NotFound, "unknown_thing", "%w", err)
		}
		return err
	})
	rt.Route("/things/{name}", httpapi.Methods{
		"GET": func(w http.ResponseWriter, r *http.Request) error {
			if r.PathValue("name") == "gone" {
				return notFound
			}
			if r.PathValue("name") == "broken" {
				return errors.New("disk on fire at /secret/path")
			}
			httpapi.WriteJSON(w, 200, map[string]string{"name": r.PathValue("name")})
			return nil
		},
		"PUT": func(w http.ResponseWriter, r *http.Request) error {
			var f form
			if err := httpapi.Decode(w, r, 64, &f); err != nil {
				return err
			}
			httpapi.WriteJSON(w, 200, f)
			return nil
		},
	})
	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		code, field                     string
	}{
		{"found", "GET", "/things/a", "", "", 200, "", ""},
		{"head follows get", "HEAD", "/things/a", "", "", 200, "", ""},
		{"core error mapped", "GET", "/things/gone", "", "", 404, "unknown_thing", ""},
		{"internal error hidden", "GET", "/things/broken", "", "", 500, "internal", ""},
		{"method not allowed", "DELETE", "/things/a", "", "", 405, "method_not_allowed", ""},
		{"unknown path", "GET", "/nothing", "", "", 404, "not_found", ""},
		{"decoded", "PUT", "/things/a", "application/json", `{"name":"x","count":2}`, 200, "", ""},
		{"no content type", "PUT", "/things/a", "", `{"name":"x"}`, 415, "bad_content_type", ""},
		{"wrong content type", "PUT", "/things/a", "text/plain", `{"name":"x"}`, 415, "bad_content_type", ""},
		{"unknown field", "PUT", "/things/a", "application/json", `{"nmae":"x"}`, 400, "unknown_field", "nmae"},
		{"wrong type", "PUT", "/things/a", "application/json", `{"count":"two"}`, 400, "invalid_field", "count"},
		{"not json", "PUT", "/things/a", "application/json", `{"name":`, 400, "bad_request", ""},
		{"empty", "PUT", "/things/a", "application/json", ``, 400, "bad_request", ""},
		{"two values", "PUT", "/things/a", "application/json", `{} {}`, 400, "bad_request", ""},
		{"too large", "PUT", "/things/a", "application/json; charset=utf-8", `{"name":"` + strings.Repeat("x", 100) + `"}`, 413, "body_too_large", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, a := serve(t, rt, c.method, c.path, c.ctype, c.body)
			if status != c.status || a.Error.Code != c.code || a.Error.Field != c.field {
				t.Fatalf("got %d %q field %q (%s); want %d %q field %q", status, a.Error.Code, a.Error.Field, a.Error.Message, c.status, c.code, c.field)
			}
			if status == 405 && hdr.Get("Allow") != "GET, HEAD, PUT" {
				t.Errorf("Allow %q", hdr.Get("Allow"))
			}
			if strings.Contains(a.Error.Message, "/secret/path") {
				t.Errorf("internal detail reached the client: %q", a.Error.Message)
			}
		})
	}
}

func TestReadBodyRefusesByContentLength(t *testing.T) {
	req := httptest.NewRequest("POST", "/whip", io.NopCloser(strings.NewReader("v=0")))
	req.Header.Set("Content-Type", "application/sdp")
	req.ContentLength = 1 << 20
	_, err := httpapi.ReadBody(httptest.NewRecorder(), req, "application/sdp", 1024)
	if fault.KindOf(err) != fault.TooLarge {
		t.Fatalf("got %v; want a TooLarge fault before reading", err)
	}
}

func TestEventStreamSplitsData(t *testing.T) {
	rec := httptest.NewRecorder()
	s, err := httpapi.NewEventStream(rec, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send("note", "7", []byte("a\nb")); err != nil {
		t.Fatal(err)
	}
	if err := s.Comment("bye"); err != nil {
		t.Fatal(err)
	}
	want := "id: 7\nevent: note\ndata: a\ndata: b\n\n: bye\n\n"
	if rec.Body.String() != want || rec.Header().Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("stream %q (%s)", rec.Body.String(), rec.Header().Get("Content-Type"))
	}
}

func TestRecoveredAnswersJSON(t *testing.T) {
	h := httpapi.Recovered(zerolog.Nop(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	status, _, a := serve(t, h, "GET", "/", "", "")
	if status != 500 || a.Error.Code != "internal" {
		t.Fatalf("got %d %q", status, a.Error.Code)
	}
}

func TestRemoteIP(t *testing.T) {
	for addr, want := range map[string]string{"192.0.2.7:5123": "192.0.2.7", "[2001:db8::1]:443": "2001:db8::1", "pipe": "pipe"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = addr
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		if got := httpapi.RemoteIP(req); got != want {
			t.Errorf("RemoteIP of %q = %q; want %q", addr, got, want)
		}
	}
}
