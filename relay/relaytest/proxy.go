package relaytest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/qianliyan/qianliyan/internal/httpapi"
)

// Proxy stands between a client and a relay: it passes every request on
// and records it, but answers those a test tells it to fail itself. It is
// for the answers the real relay gives only when something is wrong with
// it (a 503 from a relay that is unwell, for one finding and not the
// others), and for reading what a client sent.
type Proxy struct {
	srv *httptest.Server

	mu    sync.Mutex
	calls []Call
	open  map[*Call]bool // being answered
	fail  map[string]int // status by path part
}

// Call is a request the proxy passed on or failed.
type Call struct {
	Method, Path string
	Header       http.Header
	Body         []byte
	Status       int // the proxy's own failure; 0 when passed on
}

// NewProxy starts a proxy to the relay at target, closed when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{open: make(map[*Call]bool), fail: make(map[string]int)}
	relay := httputil.NewSingleHostReverseProxy(u)
	// An event stream passes each event on as it comes.
	relay.FlushInterval = -1
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			httpapi.WriteError(w, http.StatusBadRequest, "bad_request", "reading the body: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		status := p.failing(r.URL.Path)
		call := &Call{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Status: status}
		p.mu.Lock()
		p.calls = append(p.calls, *call)
		p.open[call] = true
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.open, call)
			p.mu.Unlock()
		}()
		if status != 0 {
			httpapi.WriteError(w, status, "proxy_failure", "the test's proxy failed the request")
			return
		}
		relay.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the proxy's base URL, for the client to use as the relay's.
func (p *Proxy) URL() string { return p.srv.URL }

// Fail answers every request whose path contains part with status (and a
// JSON error body, code proxy_failure) instead of passing it on; status 0
// passes them on again.
func (p *Proxy) Fail(part string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if status == 0 {
		delete(p.fail, part)
	} else {
		p.fail[part] = status
	}
}

func (p *Proxy) failing(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for part, status := range p.fail {
		if strings.Contains(path, part) {
			return status
		}
	}
	return 0
}

// Calls returns the requests made so far whose path contains part, in the
// order they came.
func (p *Proxy) Calls(part string) []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Call
	for _, c := range p.calls {
		if strings.Contains(c.Path, part) {
			out = append(out, c)
		}
	}
	return out
}

// Open counts the requests whose path contains part that are still being
// answered: the event streams a client holds open, say.
func (p *Proxy) Open(part string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.open {
		if strings.Contains(c.Path, part) {
			n++
		}
	}
	return n
}
