package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestCommandLineErrors(t *testing.T) {
	base := map[string]string{"QLY_PASSWORD": "pw", "HOME": t.TempDir()}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no relay", []string{"--user", "duty"}, base, 2, "--relay URL is required"},
		{"no user", []string{"--relay", "http://127.0.0.1:1"}, base, 2, "--user NAME is required"},
		{"no password", []string{"--relay", "http://127.0.0.1:1", "--user", "duty"}, map[string]string{}, 2, "QLY_PASSWORD"},
		{"password as argument", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "secret"}, base, 2, "never on the command line"},
		{"unknown flag", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--password", "x"}, base, 2, "flag provided but not defined"},
		{"bad log level", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--log-level", "loud", "--serve", "127.0.0.1:0"}, base, 2, "log level"},
		{"bad relay URL", []string{"--relay", "relay:8080", "--user", "duty", "--serve", "127.0.0.1:0"}, base, 2, "relay URL"},
		{"bad camera", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--camera", "doff1", "--serve", "127.0.0.1:0"}, base, 2, "SITE/CAMERA"},
		{"serve on all interfaces", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "0.0.0.0:8090"}, base, 2, "loopback"},
		{"serve without port", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "127.0.0.1"}, base, 2, "serve address"},
		{"no display", []string{"--relay", "http://127.0.0.1:1", "--user", "duty"}, base, 1, "no display"},
		{"relay down", []string{"--relay", "http://127.0.0.1:1", "--user", "duty", "--serve", "127.0.0.1:0"}, base, 1, "connection refused"},
		{"help", []string{"--help"}, base, 0, "Usage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, env(c.env), &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.want)
			}
			if stdout.Len() > 0 {
				t.Fatalf("stdout %q", stdout.String())
			}
		})
	}
}

func TestServeAgainstRelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r, err := relay.Start(ctx, relay.Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Demo: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	creds := r.Demo()

	runCtx, stop := context.WithCancel(ctx)
	out, w := io.Pipe()
	var stderr bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(runCtx, []string{"--relay", r.URL(), "--user", creds.User, "--serve", "127.0.0.1:0", "--log-level", "warn"},
			env(map[string]string{"QLY_PASSWORD": creds.Password, "HOME": t.TempDir()}), w, &stderr)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no page URL printed: %v; stderr %s", err, stderr.String())
	}
	go io.Copy(io.Discard, out)
	m := regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/\?token=(\S+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("printed %q", line)
	}
	base, token := m[1], m[2]
	if strings.Contains(stderr.String(), token) {
		t.Fatal("the secret went to the log")
	}

	status := func(target, auth string) (int, string) {
		req, _ := http.NewRequest("GET", target, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := status(strings.TrimSpace(line), ""); code != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("page: %d %.80q", code, body)
	}
	if code, _ := status(base+"/api/v1/bootstrap", ""); code != 401 {
		t.Fatalf("bootstrap without token: %d", code)
	}
	code, body := status(base+"/api/v1/bootstrap", "Bearer "+token)
	if code != 200 || !strings.Contains(body, `"default_camera":"site-01/doff1"`) || !strings.Contains(body, `"bridge":"ws://127.0.0.1:`) {
		t.Fatalf("bootstrap: %d %s", code, body)
	}
	if code, body := status(base+"/api/v1/cameras", "Bearer "+token); code != 200 || strings.Count(body, `"site":`) != 12 {
		t.Fatalf("cameras: %d %.200s", code, body)
	}

	stop()
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on cancel")
	}
}
