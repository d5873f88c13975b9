package rtspcam

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/qianliyan/qianliyan/internal/eventually"
)

var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x8f, 0x18, 0x32, 0x48}
	testPPS = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
)

func TestRTPTime(t *testing.T) {
	cases := []time.Duration{0, time.Second / 15, time.Second, 13 * time.Hour, 29 * time.Hour, 40*time.Hour + 123456789}
	for _, d := range cases {
		// uint64 holds d×90000 for these; int64 would not past 28 hours.
		want := uint32(uint64(d) * 90000 / uint64(time.Second))
		if got := rtpTime(d); got != want {
			t.Errorf("rtpTime(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestDialable(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8554}, "127.0.0.1:8554"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8554}, "127.0.0.1:8554"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 554}, "127.0.0.1:554"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 554}, "[::1]:554"},
	}
	for _, c := range cases {
		if got := dialable(c.addr); got != c.want {
			t.Errorf("dialable(%v) = %q, want %q", c.addr, got, c.want)
		}
	}
}

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// describe asks the server for url's session description.
func describe(t *testing.T, url string) (*format.H264, *gortsplib.Client, error) {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP // the server offers no UDP
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp, ReadTimeout: eventually.Ceiling}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	desc, _, err := c.Describe(u)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	var forma *format.H264
	if desc.FindFormat(&forma) == nil {
		c.Close()
		t.Fatal("no H.264 in the description")
	}
	return forma, c, nil
}

func statusOf(err error) base.StatusCode {
	var bad liberrors.ErrClientBadStatusCode
	if errors.As(err, &bad) {
		return bad.Code
	}
	return 0
}

// TestServe: the URL carries escaped credentials the server accepts; the SDP
// announces the parameter sets; unknown paths, missing or wrong credentials
// are refused; closing a stream disconnects its readers.
func TestServe(t *testing.T) {
	s := start(t, Options{User: "ad:min", Password: "p@ss/w rd"})
	st, err := s.AddStream("/site-01/doff1/main", testSPS, testPPS)
	if err != nil {
		t.Fatal(err)
	}
	url := s.URL("site-01/doff1/main")
	if !strings.HasPrefix(url, "rtsp://ad%3Amin:p%40ss%2Fw%20rd@127.0.0.1:") || !strings.HasSuffix(url, "/site-01/doff1/main") {
		t.Fatalf("URL = %q", url)
	}

	forma, c, err := describe(t, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !bytes.Equal(forma.SPS, testSPS) || !bytes.Equal(forma.PPS, testPPS) {
		t.Fatalf("SDP announces sps=%x pps=%x", forma.SPS, forma.PPS)
	}

	refusals := []struct {
		name string
		url  string
		want base.StatusCode
	}{
		{"unknown path", s.URL("site-01/doff1/sub"), base.StatusNotFound},
		{"wrong password", strings.Replace(url, "p%40ss", "guess", 1), base.StatusUnauthorized},
		{"no credentials", "rtsp://" + s.Addr() + "/site-01/doff1/main", base.StatusUnauthorized},
	}
	for _, r := range refusals {
		_, c, err := describe(t, r.url)
		if err == nil {
			c.Close()
		}
		if statusOf(err) != r.want {
			t.Errorf("%s: DESCRIBE gave %v, want status %d", r.name, err, r.want)
		}
	}

	// A reader plays; closing the stream ends its session, as a camera
	// rebooting does.
	desc, _, err := c.Describe(mustParse(t, url))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Setup(desc.BaseURL, desc.Medias[0], 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- c.Wait() }()
	st.Close()
	select {
	case <-ended:
	case <-time.After(eventually.Ceiling):
		t.Fatalf("the reader was still connected %v after the stream closed", eventually.Ceiling)
	}
	if _, _, err := describe(t, url); statusOf(err) != base.StatusNotFound {
		t.Fatalf("DESCRIBE of the closed stream gave %v, want 404", err)
	}
}

func mustParse(t *testing.T, raw string) *base.URL {
	t.Helper()
	u, err := base.ParseURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
