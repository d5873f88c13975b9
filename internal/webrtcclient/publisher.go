package webrtcclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcavc"
)

// Publisher sends one H.264 stream by WHIP.
type Publisher struct {
	// PC, Track and Packetizer are exposed for callers that write their
	// own packets (a broken stream, a burst) or drop the connection
	// without DELETE, as a camera losing power does.
	PC         *webrtc.PeerConnection
	Track      *webrtc.TrackLocalStaticRTP
	Packetizer *webrtcavc.Packetizer
	Session    Session

	cfg              Config
	mu               sync.Mutex // one unit's packets stay together
	keyframeRequests atomic.Int64
}

// Publish offers a send-only H.264 track to the WHIP endpoint
// (RELAY/whip/SITE/CAMERA?stream=main) and returns once the connection is
// up, so that the first unit written reaches the server.
func Publish(ctx context.Context, endpoint string, cfg Config) (*Publisher, error) {
	api, err := cfg.api(endpoint)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("creating peer connection: %w", err)
	}
	p, err := publish(ctx, pc, endpoint, cfg)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return p, nil
}

func publish(ctx context.Context, pc *webrtc.PeerConnection, endpoint string, cfg Config) (*Publisher, error) {
	track, err := webrtc.NewTrackLocalStaticRTP(webrtcavc.H264Codec.RTPCodecCapability, "video", "qianliyan")
	if err != nil {
		return nil, fmt.Errorf("creating video track: %w", err)
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, fmt.Errorf("adding video transceiver: %w", err)
	}
	pz, err := webrtcavc.NewPacketizer(uint8(webrtcavc.H264Codec.PayloadType))
	if err != nil {
		return nil, err
	}
	p := &Publisher{PC: pc, Track: track, Packetizer: pz, cfg: cfg}
	up := connected(pc)
	// The interceptors (reports, NACK responder) run only while the
	// sender's RTCP is read; keyframe requests are counted on the way.
	go func() {
		for {
			pkts, _, err := tr.Sender().ReadRTCP()
			if err != nil {
				return
			}
			for _, pkt := range pkts {
				switch pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					p.keyframeRequests.Add(1)
				}
			}
		}
	}()
	if p.Session, err = Exchange(ctx, pc, endpoint, cfg); err != nil {
		return nil, err
	}
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err = <-up:
	case <-t.C:
		err = fmt.Errorf("publisher not connected within %v: %s", timeout, pc.ConnectionState())
	case <-ctx.Done():
		err = fmt.Errorf("waiting for the publisher to connect: %w", ctx.Err())
	}
	if err != nil {
		// Leave no session behind at the server.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		return nil, errors.Join(err, End(dctx, p.Session, cfg))
	}
	return p, nil
}

// connected reports, once, nil when pc connects or an error when it fails
// or closes first.
func connected(pc *webrtc.PeerConnection) <-chan error {
	ch := make(chan error, 1)
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { ch <- nil })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			once.Do(func() { ch <- fmt.Errorf("connection %s before it came up", s) })
		}
	})
	return ch
}

// Write sends one access unit. The unit's bytes are not modified.
func (p *Publisher) Write(au avc.AccessUnit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pkts, err := p.Packetizer.Packetize(au)
	if err != nil {
		return err
	}
	for _, pkt := range pkts {
		if err := p.Track.WriteRTP(pkt); err != nil {
			return fmt.Errorf("writing RTP: %w", err)
		}
	}
	return nil
}

// KeyframeRequests counts the PLI and FIR the server sent.
func (p *Publisher) KeyframeRequests() int64 { return p.keyframeRequests.Load() }

// Close ends the session with DELETE and closes the connection. The
// connection is closed even when DELETE fails.
func (p *Publisher) Close(ctx context.Context) error {
	err := End(ctx, p.Session, p.cfg)
	if cerr := p.PC.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("closing peer connection: %w", cerr))
	}
	return err
}
