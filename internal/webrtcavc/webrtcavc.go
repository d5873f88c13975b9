// Package webrtcavc moves H.264 access units in and out of pion WebRTC tracks:
// an API that speaks H.264 only, a reader that depacketizes a remote track, and
// a packetizer that gives each outgoing track its own sequence numbers and
// timestamps. The relay, the console and the site simulator share it.
package webrtcavc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// ClockRate is the RTP clock of H.264 video.
const ClockRate = 90000

// MaxPayload keeps packets under a WebRTC path's MTU once SRTP and header
// extensions are added; cameras (and ffmpeg) send larger ones over RTSP.
const MaxPayload = 1200

// H264Codec is the one codec Qianliyan negotiates: constrained baseline,
// packetization mode 1, which every browser and the WebKit webview decode.
var H264Codec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType:     webrtc.MimeTypeH264,
		ClockRate:    ClockRate,
		SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}},
	},
	PayloadType: 102,
}

// opusCodec is registered so that offers carrying audio (site gateways often
// send it) negotiate; Qianliyan itself forwards video only.
var opusCodec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
	PayloadType:        111,
}

// NACKHistory is how many sent packets each outgoing track keeps to
// retransmit when its receiver reports them lost: 1.2 s of a 2 Mbit/s
// main stream, 6 s of a sub stream. A packet older than that would reach
// the viewer too late to be shown; a keyframe request serves it better.
// pion's default, 1024 copies of up to 1460 bytes, made every relay viewer
// cost 3 MB and much of the relay's garbage collection (bench fanout,
// docs/PERFORMANCE.md).
const NACKHistory = 256

// NewAPI returns a pion API that negotiates H.264 video (and Opus audio) with
// pion's default interceptors (NACK, RTCP reports, TWCC), the NACK
// responder keeping NACKHistory packets.
func NewAPI(settings webrtc.SettingEngine) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(H264Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("registering H.264: %w", err)
	}
	if err := m.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("registering Opus: %w", err)
	}
	ir := &interceptor.Registry{}
	// webrtc.RegisterDefaultInterceptors, with the responder's history set.
	generator, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, fmt.Errorf("creating NACK generator: %w", err)
	}
	responder, err := nack.NewResponderInterceptor(nack.ResponderSize(NACKHistory))
	if err != nil {
		return nil, fmt.Errorf("creating NACK responder: %w", err)
	}
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	ir.Add(responder)
	ir.Add(generator)
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("registering RTCP reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, ir); err != nil {
		return nil, fmt.Errorf("registering TWCC: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(settings)), nil
}

// RTPReader is what ReadTrack needs of a remote track.
type RTPReader interface {
	ReadRTP() (*rtp.Packet, interceptor.Attributes, error)
}

// ReadTrack depacketizes H.264 from track and calls fn for every complete
// access unit, until the track ends or ctx is cancelled. Packets that cannot be
// decoded (loss inside a fragmented NAL unit) are skipped; the caller sees a gap.
func ReadTrack(ctx context.Context, track RTPReader, fn func(avc.AccessUnit)) error {
	d := &Depacketizer{}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return fmt.Errorf("reading RTP: %w", err)
		}
		if au, ok := d.Push(pkt); ok {
			fn(au)
		}
	}
}

// Depacketizer turns RTP packets into access units with a presentation time
// counted from the first packet, unwrapping the 32-bit RTP clock.
type Depacketizer struct {
	dec     *rtph264.Decoder
	started bool
	lastTS  uint32
	ticks   int64
}

// Push feeds one packet and returns an access unit when one is complete.
func (d *Depacketizer) Push(pkt *rtp.Packet) (avc.AccessUnit, bool) {
	if d.dec == nil {
		d.dec = &rtph264.Decoder{PacketizationMode: 1}
		_ = d.dec.Init() // cannot fail for mode 1
	}
	if !d.started {
		d.started, d.lastTS = true, pkt.Timestamp
	}
	// The signed difference unwraps the RTP clock at 2^32.
	d.ticks += int64(int32(pkt.Timestamp - d.lastTS))
	d.lastTS = pkt.Timestamp
	nalus, err := d.dec.Decode(pkt)
	if err != nil {
		return avc.AccessUnit{}, false
	}
	// Decode may return the previous unit when a new timestamp begins; the
	// presentation time then belongs to it, at most one frame early.
	pts := time.Duration(d.ticks) * time.Second / ClockRate
	return avc.NewAccessUnit(nalus, pts), true
}

// Packetizer turns access units into RTP packets for one outgoing track. Each
// track gets its own; it starts its clock at the first unit it is given, so a
// viewer joining mid-stream sees a stream that begins at zero.
type Packetizer struct {
	enc     *rtph264.Encoder
	started bool
	base    time.Duration
	tsBase  uint32
}

// NewPacketizer returns a packetizer for the negotiated payload type.
func NewPacketizer(payloadType uint8) (*Packetizer, error) {
	enc := &rtph264.Encoder{PayloadType: payloadType, PayloadMaxSize: MaxPayload, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		return nil, fmt.Errorf("initialising H.264 packetizer: %w", err)
	}
	return &Packetizer{enc: enc, tsBase: uint32(time.Now().UnixNano())}, nil
}

// ErrEmptyAccessUnit is returned for an access unit with no NAL units.
var ErrEmptyAccessUnit = errors.New("empty access unit")

// Packetize returns the RTP packets of one access unit.
func (p *Packetizer) Packetize(au avc.AccessUnit) ([]*rtp.Packet, error) {
	if len(au.NALUs) == 0 {
		return nil, ErrEmptyAccessUnit
	}
	for _, n := range au.NALUs {
		if len(n) == 0 {
			return nil, ErrEmptyAccessUnit
		}
	}
	if !p.started {
		p.started, p.base = true, au.PTS
	}
	pkts, err := p.enc.Encode(au.NALUs)
	if err != nil {
		return nil, fmt.Errorf("packetizing access unit: %w", err)
	}
	ts := p.tsBase + uint32(int64(au.PTS-p.base)*ClockRate/int64(time.Second))
	for _, pkt := range pkts {
		pkt.Timestamp = ts
	}
	return pkts, nil
}
