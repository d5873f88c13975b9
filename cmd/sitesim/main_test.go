package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"size without x", []string{"--size", "640by360"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, `--size "640by360"`},
		{"odd size", []string{"--size", "641x360"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, "--size"},
		{"negative size", []string{"--size", "-640x360"}, map[string]string{"QLY_PUBLISH_TOKEN": "t"}, "--size"},
		{"no token", nil, nil, "QLY_PUBLISH_TOKEN"},
		{"zero fps", []string{"--token", "t", "--fps", "0"}, nil, "--fps 0"},
		{"GOP under a frame", []string{"--token", "t", "--gop", "0.01"}, nil, "--gop 0.01"},
		{"too many cameras", []string{"--token", "t", "--cameras", "13"}, nil, "--cameras 13"},
		{"relay without scheme", []string{"--token", "t", "--relay", "127.0.0.1:8080"}, nil, "--relay"},
		{"unknown flag", []string{"--token", "t", "--colour", "red"}, nil, "colour"},
		{"stray argument", []string{"--token", "t", "extra"}, nil, `unexpected argument "extra"`},
		{"log level", []string{"--token", "t", "--log-level", "loud"}, nil, `log level "loud"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), tc.args, env(tc.env), &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.want)
			}
		})
	}
}

func TestNoFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--token", "t"}, env(nil), &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "ffmpeg not found") {
		t.Fatalf("exit %d, stderr %q; want 1 and a word about ffmpeg", code, stderr.String())
	}
}

// TestRunStopsOnSignal runs the command against a relay that refuses every
// offer, and cancels it (what SIGINT and SIGTERM do) once it has tried.
func TestRunStopsOnSignal(t *testing.T) {
	var posts atomic.Int32
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer from-env" && r.URL.Path == "/whip/site-01/doff1" {
			posts.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"not this site"}}`))
	}))
	defer relay.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--relay", relay.URL, "--sites", "1", "--cameras", "1", "--size", "160x90", "--gop", "0.5"},
			env(map[string]string{"QLY_PUBLISH_TOKEN": "from-env"}), &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for posts.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no WHIP offer with the token from QLY_PUBLISH_TOKEN within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after cancel, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop within 10 s of cancel")
	}
}
