package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/testlog"
	"github.com/qianliyan/qianliyan/relay"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// signedIn is a command line that signs in at start and serves a browser,
// followed by extra.
func signedIn(extra ...string) []string {
	return append([]string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "127.0.0.1:0"}, extra...)
}

func TestFlags(t *testing.T) {
	home := t.TempDir()
	getenv := env(map[string]string{"QLY_PASSWORD": "pw", "HOME": home})
	defaults := config{relay: "http://127.0.0.1:1", user: "duty", password: "pw", serve: "127.0.0.1:0", logLevel: "info",
		dataDir:    filepath.Join(home, ".local", "share", "qianliyan"),
		templates:  filepath.Join(home, ".local", "share", "qianliyan", "templates"),
		clipBefore: 20 * time.Second, clipAfter: 10 * time.Second}
	with := func(change func(*config)) config { c := defaults; change(&c); return c }
	cases := []struct {
		name string
		args []string
		want config
	}{
		{"defaults", signedIn(), defaults},
		{"clip and templates given", signedIn("--clip-before", "3s", "--clip-after", "1500ms", "--data", "/srv/qly", "--templates", "/etc/qly/templates"),
			with(func(c *config) {
				c.clipBefore, c.clipAfter, c.dataDir, c.templates = 3*time.Second, 1500*time.Millisecond, "/srv/qly", "/etc/qly/templates"
			})},
		{"templates beside --data", signedIn("--data", "/srv/qly"),
			with(func(c *config) { c.dataDir, c.templates = "/srv/qly", "/srv/qly/templates" })},
		// The password is read only for a sign-in at start.
		{"signed out", []string{"--serve", "127.0.0.1:0"},
			with(func(c *config) { c.relay, c.user, c.password = "", "", "" })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseFlags(c.args, getenv, &bytes.Buffer{})
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, c.want)
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	getenv := env(map[string]string{"QLY_PASSWORD": "pw", "HOME": t.TempDir()})
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"password as argument", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "secret"}, 2, "never on the command line"},
		{"unknown flag", signedIn("--password", "x"), 2, "flag provided but not defined"},
		{"bad log level", signedIn("--log-level", "loud"), 2, "log level"},
		{"bad relay URL", []string{"--relay", "relay:8080", "--user", "duty", "--serve", "127.0.0.1:0"}, 2, "relay URL"},
		{"bad camera", signedIn("--camera", "doff1"), 2, "SITE/CAMERA"},
		{"serve on all interfaces", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "0.0.0.0:8090"}, 2, "loopback"},
		{"serve without port", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "127.0.0.1"}, 2, "serve address"},
		{"clip-before not a duration", signedIn("--clip-before", "soon"), 2, "clip-before"},
		{"clip-after of zero", signedIn("--clip-after", "0s"), 2, "longer than zero"},
		{"negative clip-before", signedIn("--clip-before", "-5s"), 2, "longer than zero"},
		{"clip of ten minutes", signedIn("--clip-before", "10m"), 2, "5 minutes"},
		{"no display", []string{"--relay", "http://127.0.0.1:1", "--user", "duty"}, 1, "no display"},
		{"no display, signed out", nil, 1, "no display"},
		{"help", []string{"--help"}, 0, "Usage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, getenv, &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.want)
			}
			if stdout.Len() > 0 {
				t.Fatalf("stdout %q", stdout.String())
			}
		})
	}
}

// served is qianliyan --serve running in the test.
type served struct {
	t           *testing.T
	base, token string
	stderr      *testlog.Buffer
	stop        func() int // cancels the run and returns its exit status
}

// serveCommand runs the command with --serve 127.0.0.1:0 and reads the page
// address it prints.
func serveCommand(t *testing.T, ctx context.Context, args []string, environ map[string]string) served {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	out, w := io.Pipe()
	var stderr testlog.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(runCtx, append(args, "--serve", "127.0.0.1:0", "--log-level", "warn", "--data", t.TempDir()), env(environ), w, &stderr)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no page URL printed: %v; stderr %s", err, stderr.String())
	}
	go io.Copy(io.Discard, out)
	m := regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/\?token=(\S+)\n$`).FindStringSubmatch(line)
	if m == nil {
		cancel()
		t.Fatalf("printed %q", line)
	}
	if strings.Contains(stderr.String(), m[2]) {
		t.Fatal("the secret went to the log")
	}
	return served{t: t, base: m[1], token: m[2], stderr: &stderr, stop: func() int {
		cancel()
		select {
		case code := <-exit:
			return code
		case <-time.After(eventually.Ceiling):
			t.Fatalf("did not stop within %v of cancel", eventually.Ceiling)
			return -1
		}
	}}
}

// call makes a request to the served API; auth "" sends no secret.
func (s served) call(method, path, auth, body string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func startRelay(t *testing.T, ctx context.Context) *relay.Relay {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestServeAgainstRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
	defer cancel()
	r := startRelay(t, ctx)
	creds := r.Demo()
	s := serveCommand(t, ctx, []string{"--relay", r.URL(), "--user", creds.User},
		map[string]string{"QLY_PASSWORD": creds.Password, "HOME": t.TempDir()})
	auth := "Bearer " + s.token

	if code, body := s.call("GET", "/?token="+s.token, "", ""); code != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("page: %d %.80q", code, body)
	}
	if code, _ := s.call("GET", "/api/v1/bootstrap", "", ""); code != 401 {
		t.Fatalf("bootstrap without token: %d", code)
	}
	code, body := s.call("GET", "/api/v1/bootstrap", auth, "")
	if code != 200 || !strings.Contains(body, `"default_camera":"site-01/doff1"`) || !strings.Contains(body, `"bridge":"ws://127.0.0.1:`) {
		t.Fatalf("bootstrap: %d %s", code, body)
	}
	if code, body := s.call("GET", "/api/v1/cameras", auth, ""); code != 200 || strings.Count(body, `"site":`) != 12 {
		t.Fatalf("cameras: %d %.200s", code, body)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
}

// Without a sign-in on the command line the console starts signed out and
// the view signs in; a relay that is down at start is waited for.
func TestServeSignedOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
	defer cancel()
	r := startRelay(t, ctx)
	creds := r.Demo()

	s := serveCommand(t, ctx, nil, map[string]string{"QLY_PASSWORD": "ignored without --relay and --user", "HOME": t.TempDir()})
	auth := "Bearer " + s.token
	if code, body := s.call("GET", "/api/v1/session", auth, ""); code != 200 || !strings.Contains(body, `"signed_in":false`) {
		t.Fatalf("session: %d %s", code, body)
	}
	if code, body := s.call("GET", "/api/v1/cameras", auth, ""); code != 401 || !strings.Contains(body, `"signed_out"`) {
		t.Fatalf("cameras signed out: %d %s", code, body)
	}
	signIn := `{"relay":"` + r.URL() + `","user":"` + creds.User + `","password":"` + creds.Password + `"}`
	if code, body := s.call("POST", "/api/v1/session", auth, signIn); code != 200 || !strings.Contains(body, `"signed_in":true`) {
		t.Fatalf("sign-in: %d %s", code, body)
	}
	if code, body := s.call("GET", "/api/v1/cameras", auth, ""); code != 200 || strings.Count(body, `"site":`) != 12 {
		t.Fatalf("cameras: %d %.200s", code, body)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	s = serveCommand(t, ctx, []string{"--relay", down, "--user", "duty"}, map[string]string{"QLY_PASSWORD": "pw", "HOME": t.TempDir()})
	code, body := s.call("GET", "/api/v1/session", "Bearer "+s.token, "")
	if code != 200 || !strings.Contains(body, `"reason":"relay_unreachable"`) || !strings.Contains(body, `"retrying":true`) || !strings.Contains(body, down) {
		t.Fatalf("session with the relay down: %d %s", code, body)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
}
