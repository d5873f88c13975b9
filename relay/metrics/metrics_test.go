package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/relay/hub"
)

type viewerCount int

func (v viewerCount) Count() int { return int(v) }

func TestScrape(t *testing.T) {
	h := hub.New(hub.Config{})
	live := hub.Key{Site: "site-01", Camera: "doff1", Stream: hub.StreamMain}
	src, err := h.Publish(live)
	if err != nil {
		t.Fatal(err)
	}
	src.OnKeyframeRequest(func() {})
	r, _ := h.Subscribe(live) // nothing cached: one keyframe request
	defer r.Close()
	r.RequestKeyframe() // held back by the rate limit
	src.Write(avc.NewAccessUnit([][]byte{{0x65, 1, 2, 3}}, 0))
	gone, _ := h.Publish(hub.Key{Site: "site-01", Camera: "gate", Stream: hub.StreamSub})
	gone.Close()

	m := New(h, viewerCount(3))
	m.FirstKeyframe(40 * time.Millisecond)
	m.Sent(10, 12000)
	m.In("whip").Received(1100)
	m.In("rtsp").Received(1400)
	m.In("rtsp").Received(1400)
	m.Reconnect("rtsp")
	m.Login(LoginLimited)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`qianliyan_relay_streams{state="online"} 1`,
		`qianliyan_relay_streams{state="offline"} 1`,
		`qianliyan_relay_streams{state="stalled"} 0`,
		`qianliyan_relay_viewers 3`,
		`qianliyan_relay_keyframe_requests_total{result="forwarded"} 1`,
		`qianliyan_relay_keyframe_requests_total{result="limited"} 1`,
		`qianliyan_relay_stream_frames_in_total{camera="doff1",site="site-01",stream="main"} 1`,
		`qianliyan_relay_stream_bytes_in_total{camera="doff1",site="site-01",stream="main"} 4`,
		`qianliyan_relay_stream_viewers{camera="doff1",site="site-01",stream="main"} 1`,
		`qianliyan_relay_first_keyframe_seconds_bucket{le="0.05"} 1`,
		`qianliyan_relay_first_keyframe_seconds_bucket{le="0.025"} 0`,
		`qianliyan_relay_packets_out_total 10`,
		`qianliyan_relay_bytes_out_total 12000`,
		`qianliyan_relay_packets_in_total{source="rtsp"} 2`,
		`qianliyan_relay_bytes_in_total{source="whip"} 1100`,
		`qianliyan_relay_source_reconnects_total{source="rtsp"} 1`,
		`qianliyan_relay_logins_total{result="limited"} 1`,
	} {
		if !strings.Contains("\n"+text, "\n"+want+"\n") {
			t.Errorf("missing line %s", want)
		}
	}
	if !strings.Contains(text, "\ngo_goroutines ") {
		t.Error("no Go runtime metrics")
	}
	if t.Failed() {
		t.Log(text)
	}
}
