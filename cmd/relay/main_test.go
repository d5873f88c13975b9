package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/qianliyan/qianliyan/internal/testlog"
)

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve"}, `unexpected argument "serve"`},
		{[]string{"--listen", "8080"}, `--listen "8080": want host:port`},
		{[]string{"--data", ""}, "--data must not be empty"},
		{[]string{"--config", ""}, "--config must name a file"},
		{[]string{"--log-level", "loud"}, `log level "loud"`},
		{[]string{"--demo=maybe"}, "invalid boolean value"},
		{[]string{"--pprof", "6060"}, `--pprof "6060": want host:port`},
		{[]string{"--pprof", "0.0.0.0:6060"}, "loopback only"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, strings.NewReader(""), &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and …%s…", code, stderr.String(), c.want)
			}
		})
	}
}

func TestBadConfigFileFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:0\nlisten_on: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--config", path, "--data", t.TempDir()}, strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), path+`:2: unknown key "listen_on"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestHashPassword(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--hash-password"}, strings.NewReader("s3cret pass\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	hash := strings.TrimSpace(stdout.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret pass")); err != nil {
		t.Fatalf("hash %q: %v", hash, err)
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"--hash-password"}, strings.NewReader("\n"), &stdout, &stderr); code != 2 || stdout.Len() != 0 {
		t.Fatalf("empty password: exit %d, output %q", code, stdout.String())
	}
}

func TestDemoRunPrintsCredentialsAndStopsOnSignal(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testlog.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--demo", "--listen", "127.0.0.1:0", "--data", data, "--log-level", "warn", "--pprof", "127.0.0.1:0"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	urlRE := regexp.MustCompile(`demo relay at (http://127\.0\.0\.1:\d+)`)
	var url string
	deadline := time.Now().Add(10 * time.Second)
	for url == "" {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil && strings.Contains(stdout.String(), "publish token:") {
			url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("relay exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no credentials printed within 10 s; stderr: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	env, err := os.ReadFile(filepath.Join(data, "demo-credentials.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		if v == "" {
			t.Fatalf("empty %s in credentials file", k)
		}
		if k == "QLY_SITE_MANAGERS" {
			v = strings.ReplaceAll(v, ",", ", ")
		}
		if k != "QLY_RELAY" && !strings.Contains(stdout.String(), v) {
			t.Fatalf("%s from the file is not what was printed", k)
		}
	}
	if !strings.HasPrefix(string(env), "QLY_RELAY="+url+"\n") {
		t.Fatalf("credentials file starts %q", env)
	}
	// The profiler answers on its own address.
	if m := regexp.MustCompile(`profiler at (http://127\.0\.0\.1:\d+/debug/pprof/)`).FindStringSubmatch(stdout.String()); m == nil {
		t.Fatalf("no profiler address printed: %q", stdout.String())
	} else if resp, err := http.Get(m[1] + "cmdline"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("profiler: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	cancel() // what SIGINT/SIGTERM do
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("relay did not stop within 10 s")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("still serving after stop")
	}
}
