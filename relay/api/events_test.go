package api

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// stream opens the event stream as user and returns its lines.
func (f *fixture) stream(t *testing.T, user string) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", f.url+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens[user])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	lines := make(chan string, 1000)
	go func() {
		defer resp.Body.Close()
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return lines
}

// until reads lines until one starts with prefix, failing after 5 s or
// if the stream ends first.
func until(t *testing.T, lines <-chan string, prefix string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q within 5 s", prefix)
		}
	}
}

// ends waits for the stream to end, failing after 5 s.
func ends(t *testing.T, lines <-chan string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream did not end within 5 s")
		}
	}
}

func TestEventStreamPacing(t *testing.T) {
	f := newFixture(t, time.Hour)
	lines := f.stream(t, "duty")
	until(t, lines, "event: cameras")
	// Longer than the server's ReadTimeout: the stream lives on.
	time.Sleep(2 * readTimeout)
	for drained := false; !drained; {
		select {
		case _, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
		default:
			drained = true
		}
	}
	until(t, lines, ": keepalive")
	until(t, lines, "event: cameras") // the periodic whole list
	until(t, lines, `data: {"cameras":[{"site":"site-01","id":"doff1"`)
}

func TestEventStreamEnds(t *testing.T) {
	cases := []struct {
		name string
		ttl  time.Duration
		end  func(f *fixture)
		last string
	}{
		{"token expires", time.Second, func(*fixture) {}, ": token expired"},
		{"user disabled", time.Hour, func(f *fixture) {
			if err := f.st.SetDisabled(context.Background(), "duty", true); err != nil {
				panic(err)
			}
		}, ""},
		{"relay stops", time.Hour, func(f *fixture) { close(f.stopping) }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.ttl)
			lines := f.stream(t, "duty")
			until(t, lines, "event: cameras")
			c.end(f)
			if c.last != "" {
				until(t, lines, c.last)
			}
			ends(t, lines)
		})
	}
}
