// Package rtspcamtest starts RTSP cameras for the tests of what reads them
// (the relay's RTSP ingest and the relay itself).
package rtspcamtest

import (
	"testing"

	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam"
)

// Start starts a camera on a free loopback port; it closes when the test
// ends. opts.Addr is ignored.
func Start(t testing.TB, opts rtspcam.Options) *rtspcam.Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	srv, err := rtspcam.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// FreeUDPPair returns loopback RTP and RTCP addresses for a camera's UDP
// transport.
func FreeUDPPair(t testing.TB) (rtp, rtcp string) {
	t.Helper()
	rtp, rtcp, err := rtspcam.FreeUDPPair("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return rtp, rtcp
}
