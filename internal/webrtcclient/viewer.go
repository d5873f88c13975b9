package webrtcclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// Viewer receives one H.264 stream by WHEP.
type Viewer struct {
	// PC is exposed for callers that send RTCP (a PLI) or drop the
	// connection without DELETE, as a crashing console does.
	PC      *webrtc.PeerConnection
	Session Session

	cfg    Config
	tracks chan *webrtc.TrackRemote

	mu    sync.Mutex
	track *webrtc.TrackRemote
	stats Stats
	seq   seqCounter
}

// Stats counts what a viewer has read of its track.
type Stats struct {
	Packets, Bytes uint64 // RTP packets read and their payload bytes
	// Expected is how many packets the sequence numbers read span, and
	// Lost how many of them never arrived (NACK retransmissions that fill
	// a gap late count as arrived).
	Expected, Lost uint64
	Units          uint64 // access units completed
	MaxPayload     int    // the largest RTP payload read
}

// Play offers a receive-only video transceiver to the WHEP endpoint
// (RELAY/whep/SITE/CAMERA?stream=sub) and returns once the answer is
// applied; Read then delivers the stream.
func Play(ctx context.Context, endpoint string, cfg Config) (*Viewer, error) {
	api, err := cfg.api(endpoint)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("creating peer connection: %w", err)
	}
	v := &Viewer{PC: pc, cfg: cfg, tracks: make(chan *webrtc.TrackRemote, 1)}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		pc.Close()
		return nil, fmt.Errorf("adding video transceiver: %w", err)
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		// Sender reports reach the interceptors only when read.
		go func() {
			for {
				if _, _, err := r.ReadRTCP(); err != nil {
					return
				}
			}
		}()
		select {
		case v.tracks <- t:
		default:
		}
	})
	if v.Session, err = Exchange(ctx, pc, endpoint, cfg); err != nil {
		pc.Close()
		return nil, err
	}
	return v, nil
}

// Track waits for the server's video track.
func (v *Viewer) Track(ctx context.Context) (*webrtc.TrackRemote, error) {
	v.mu.Lock()
	t := v.track
	v.mu.Unlock()
	if t != nil {
		return t, nil
	}
	select {
	case t = <-v.tracks:
		v.mu.Lock()
		v.track = t
		v.mu.Unlock()
		return t, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the video track: %w", ctx.Err())
	}
}

// SSRC is the video track's, zero until it arrived.
func (v *Viewer) SSRC() uint32 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.track == nil {
		return 0
	}
	return uint32(v.track.SSRC())
}

// Read waits for the video track and calls fn with every access unit, as
// it completes, until ctx is done (returning ctx.Err()) or the track ends.
// A viewer that stops calling Read stops reading its track: packets then
// pile up in pion's buffer and are dropped once it is full, which the next
// Read counts as lost. Read must not be called concurrently.
func (v *Viewer) Read(ctx context.Context, fn func(avc.AccessUnit)) error {
	t, err := v.Track(ctx)
	if err != nil {
		return err
	}
	// ReadRTP does not watch ctx: an expired deadline unblocks it.
	if err := t.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("clearing read deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = t.SetReadDeadline(time.Now()) })
	defer stop()
	err = webrtcavc.ReadTrack(ctx, counter{t, v}, func(au avc.AccessUnit) {
		v.mu.Lock()
		v.stats.Units++
		v.mu.Unlock()
		fn(au)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// counter counts packets on their way to the depacketizer.
type counter struct {
	track *webrtc.TrackRemote
	v     *Viewer
}

func (c counter) ReadRTP() (*rtp.Packet, interceptor.Attributes, error) {
	pkt, attr, err := c.track.ReadRTP()
	if err != nil {
		return nil, nil, err
	}
	v := c.v
	v.mu.Lock()
	v.stats.Packets++
	v.stats.Bytes += uint64(len(pkt.Payload))
	v.stats.MaxPayload = max(v.stats.MaxPayload, len(pkt.Payload))
	v.seq.add(pkt.SequenceNumber)
	v.mu.Unlock()
	return pkt, attr, nil
}

// Stats returns the counts so far.
func (v *Viewer) Stats() Stats {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.stats
	s.Expected, s.Lost = v.seq.expected(), v.seq.lost()
	return s
}

// Close ends the session with DELETE and closes the connection. The
// connection is closed even when DELETE fails.
func (v *Viewer) Close(ctx context.Context) error {
	err := End(ctx, v.Session, v.cfg)
	if cerr := v.PC.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("closing peer connection: %w", cerr))
	}
	return err
}
