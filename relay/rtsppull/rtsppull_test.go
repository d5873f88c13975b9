package rtsppull

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam"
	"github.com/qianliyan/qianliyan/internal/sitesim/rtspcam/rtspcamtest"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/hub/hubtest"
)

var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x8f, 0x18, 0x32, 0x48}
	testPPS = []byte{0x68, 0xcb, 0x83, 0xcb, 0x20}
)

// camera writes a synthetic GOP stream (a large IDR, which RTP must
// fragment, then P slices) to an RTSP stream until ctx ends.
func camera(ctx context.Context, st *rtspcam.Stream, inBandParams bool) {
	idr := bytes.Repeat([]byte{0x5a}, 6000)
	idr[0] = 0x65
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		nalus := [][]byte{{0x41, byte(i), 0x11, 0x22}}
		if i%10 == 0 {
			nalus = [][]byte{idr}
			if inBandParams {
				nalus = [][]byte{testSPS, testPPS, idr}
			}
		}
		if err := st.Write(avc.NewAccessUnit(nalus, time.Duration(i)*20*time.Millisecond)); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func TestPullTransportsAndAuth(t *testing.T) {
	cases := []struct {
		name      string
		transport string
		digest    bool
		sdpParams bool
	}{
		{"tcp digest, parameter sets only in the SDP", "tcp", true, true},
		{"udp basic, parameter sets only in band", "udp", false, false},
		{"automatic transport", "", false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*eventually.Ceiling) // a hang's guard
			defer cancel()
			rtp, rtcp := rtspcamtest.FreeUDPPair(t)
			srv := rtspcamtest.Start(t, rtspcam.Options{UDPRTPAddr: rtp, UDPRTCPAddr: rtcp, User: "admin", Password: "s3cret!", DigestOnly: c.digest})
			var sps, pps []byte
			if c.sdpParams {
				sps, pps = testSPS, testPPS
			}
			st, err := srv.AddStream("ch1/main", sps, pps)
			if err != nil {
				t.Fatal(err)
			}
			go camera(ctx, st, !c.sdpParams)

			h := hub.New(hub.Config{})
			key := hub.Key{Site: "site-01", Camera: "gate", Stream: "main"}
			done := make(chan error, 1)
			go func() {
				done <- Run(ctx, h, Source{Key: key, URL: srv.URL("ch1/main"), Transport: c.transport}, Options{Log: zerolog.Nop()})
			}()
			au := hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling)
			gotSPS, gotPPS := au.ParamSets()
			if !au.Keyframe || !bytes.Equal(gotSPS, testSPS) || !bytes.Equal(gotPPS, testPPS) {
				t.Fatalf("first unit: keyframe=%v sps=%x pps=%x", au.Keyframe, gotSPS, gotPPS)
			}
			if len(au.NALUs[len(au.NALUs)-1]) != 6000 {
				t.Fatalf("the fragmented IDR came back as %d bytes", len(au.NALUs[len(au.NALUs)-1]))
			}
			cancel()
			select {
			case <-done:
			case <-time.After(eventually.Ceiling):
				t.Fatalf("Run did not return within %v of cancel", eventually.Ceiling)
			}
			if h.Online(key) {
				t.Fatal("the stream stayed online after the puller stopped")
			}
		})
	}
}

// publishLive serves a test camera at srv's "live" path until the function
// it returns takes the camera away, as a reboot does.
func publishLive(t *testing.T, ctx context.Context, srv *rtspcam.Server) (reboot func()) {
	t.Helper()
	st, err := srv.AddStream("live", testSPS, testPPS)
	if err != nil {
		t.Fatal(err)
	}
	camCtx, stop := context.WithCancel(ctx)
	go camera(camCtx, st, false)
	return func() { stop(); st.Close() }
}

func TestPullRecoversFromCameraRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*eventually.Ceiling) // a hang's guard
	defer cancel()
	srv := rtspcamtest.Start(t, rtspcam.Options{})
	reboot := publishLive(t, ctx, srv)

	h := hub.New(hub.Config{})
	key := hub.Key{Site: "site-01", Camera: "doff1", Stream: "main"}
	var mu sync.Mutex
	var ended []error
	go Run(ctx, h, Source{Key: key, URL: srv.URL("live"), Transport: "tcp"}, Options{
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, ReadTimeout: 2 * time.Second,
		OnReconnect: func(_ hub.Key, err error) { mu.Lock(); ended = append(ended, err); mu.Unlock() },
		Log:         zerolog.Nop(),
	})
	hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling)

	// The camera reboots: its stream disappears for a while, then returns.
	reboot()
	eventually.True(t, eventually.Ceiling, "the stream offline once the camera went away", func() bool { return !h.Online(key) })
	time.Sleep(time.Second)
	publishLive(t, ctx, srv)
	hubtest.FirstUnit(t, ctx, h, key, eventually.Ceiling)
	mu.Lock()
	defer mu.Unlock()
	if len(ended) == 0 {
		t.Fatal("no reconnect was reported")
	}
}

func TestPullWrongPasswordNeverLeaks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*eventually.Ceiling) // a hang's guard
	defer cancel()
	srv := rtspcamtest.Start(t, rtspcam.Options{User: "admin", Password: "right"})
	st, _ := srv.AddStream("live", testSPS, testPPS)
	go camera(ctx, st, false)

	h := hub.New(hub.Config{})
	key := hub.Key{Site: "site-01", Camera: "gate", Stream: "main"}
	errs := make(chan error, 4)
	var logs bytes.Buffer
	url := strings.Replace(srv.URL("live"), "admin:right", "admin:wrong-pw-123", 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, h, Source{Key: key, URL: url}, Options{
			MinBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
			OnReconnect: func(_ hub.Key, err error) {
				select {
				case errs <- err:
				default:
				}
			},
			Log: zerolog.New(&logs),
		})
	}()
	var err error
	select {
	case err = <-errs:
	case <-ctx.Done():
		t.Fatal("no failure reported")
	}
	if !strings.Contains(err.Error(), "401") && !strings.Contains(strings.ToLower(err.Error()), "auth") {
		t.Fatalf("error does not say authentication failed: %v", err)
	}
	<-errs // a second attempt: it keeps retrying
	cancel()
	<-done // the logs are complete
	if strings.Contains(logs.String(), "wrong-pw-123") || strings.Contains(err.Error(), "wrong-pw-123") {
		t.Fatal("the password reached the logs or the error")
	}
	if h.Online(key) {
		t.Fatal("online without credentials")
	}
}

func TestValidate(t *testing.T) {
	key := hub.Key{Site: "s", Camera: "c", Stream: "main"}
	cases := []struct {
		src  Source
		want string
	}{
		{Source{Key: key, URL: "http://cam/live"}, "scheme must be rtsp"},
		{Source{Key: key, URL: "rtsp://cam/live", Transport: "quic"}, `transport "quic"`},
		{Source{Key: key, URL: "rtsp://u:pw@[::1/x"}, "the URL is not of the form"},
	}
	for _, c := range cases {
		err := c.src.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.src, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("password in %v", err)
		}
	}
	if err := (Source{Key: key, URL: "rtsp://u:p@127.0.0.1:554/ch1", Transport: "udp"}).Validate(); err != nil {
		t.Fatal(err)
	}
}
