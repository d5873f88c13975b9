// Package rtspcam serves H.264 access units over RTSP the way an IP camera or
// an NVR does: one path per stream, Basic and Digest authentication, TCP
// interleaved and UDP transport, SPS/PPS announced in the SDP. The relay's
// RTSP ingest is tested against it, and sitesim uses it to pose as cameras.
package rtspcam

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/qianliyan/qianliyan/internal/avc"
)

// Options configure a server.
type Options struct {
	// Addr is the RTSP (TCP) address, e.g. "127.0.0.1:8554".
	Addr string
	// UDPRTPAddr and UDPRTCPAddr enable UDP transport ("127.0.0.1:8000" and
	// "127.0.0.1:8001": an even port and the next one). Empty: TCP only.
	UDPRTPAddr, UDPRTCPAddr string
	// User and Password, when set, are required of every reader.
	User, Password string
	// DigestOnly refuses Basic authentication, as many NVRs do.
	DigestOnly bool
	// PayloadMaxSize is the largest RTP payload sent; 0 sends 1450-byte
	// payloads, larger than a WebRTC path allows, as ffmpeg and cameras do.
	PayloadMaxSize int
}

// Server is a running RTSP server.
type Server struct {
	opts    Options
	srv     *gortsplib.Server
	mu      sync.RWMutex
	streams map[string]*Stream
}

// ErrUnknownStream is returned for a path no stream is served on.
var ErrUnknownStream = errors.New("no such stream")

// Start listens and serves until Close.
func Start(opts Options) (*Server, error) {
	s := &Server{opts: opts, streams: map[string]*Stream{}}
	s.srv = &gortsplib.Server{
		Handler:        (*handler)(s),
		RTSPAddress:    opts.Addr,
		UDPRTPAddress:  opts.UDPRTPAddr,
		UDPRTCPAddress: opts.UDPRTCPAddr,
		ReadTimeout:    10 * time.Second,
		WriteTimeout:   10 * time.Second,
	}
	if opts.DigestOnly {
		s.srv.AuthMethods = []auth.VerifyMethod{auth.VerifyMethodDigestMD5}
	}
	if err := s.srv.Start(); err != nil {
		return nil, fmt.Errorf("starting RTSP server on %s: %w", opts.Addr, err)
	}
	return s, nil
}

// URL returns the rtsp:// URL of a path, with the credentials in it. A
// server listening on every interface is named by its loopback address.
func (s *Server) URL(path string) string {
	u := url.URL{Scheme: "rtsp", Host: s.Addr(), Path: "/" + strings.TrimPrefix(path, "/")}
	if s.opts.User != "" {
		u.User = url.UserPassword(s.opts.User, s.opts.Password)
	}
	return u.String()
}

// Addr returns the host:port readers connect to.
func (s *Server) Addr() string { return dialable(s.srv.NetListener().Addr()) }

// dialable names a listening address the way a client on this machine can
// reach it: a wildcard address by loopback.
func dialable(a net.Addr) string {
	addr, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if addr.IP == nil || addr.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(addr.Port))
	}
	return addr.String()
}

// AddStream starts serving a stream on path. sps and pps go into the SDP
// (sprop-parameter-sets); pass nil to announce none, like cameras that send
// them in band only.
func (s *Server) AddStream(path string, sps, pps []byte) (*Stream, error) {
	path = strings.Trim(path, "/")
	forma := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}
	desc := &description.Session{Medias: []*description.Media{{Type: description.MediaTypeVideo, Formats: []format.Format{forma}}}}
	ss := &gortsplib.ServerStream{Server: s.srv, Desc: desc}
	if err := ss.Initialize(); err != nil {
		return nil, fmt.Errorf("creating RTSP stream %s: %w", path, err)
	}
	enc := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: s.opts.PayloadMaxSize}
	if err := enc.Init(); err != nil {
		ss.Close()
		return nil, fmt.Errorf("creating RTP encoder for %s: %w", path, err)
	}
	st := &Stream{server: s, path: path, ss: ss, media: desc.Medias[0], enc: enc}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.streams[path]; ok {
		old.ss.Close()
	}
	s.streams[path] = st
	return st, nil
}

// Close stops the server and every stream.
func (s *Server) Close() {
	s.mu.Lock()
	for _, st := range s.streams {
		st.ss.Close()
	}
	s.streams = map[string]*Stream{}
	s.mu.Unlock()
	s.srv.Close()
}

func (s *Server) stream(path string) (*Stream, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.streams[strings.Trim(path, "/")]
	return st, ok
}

// Stream is one served stream.
type Stream struct {
	server *Server
	path   string
	ss     *gortsplib.ServerStream
	media  *description.Media
	enc    *rtph264.Encoder
	mu     sync.Mutex
	base   time.Duration
	begun  bool
}

// Write sends one access unit to every reader of the stream.
func (st *Stream) Write(au avc.AccessUnit) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.begun {
		st.begun, st.base = true, au.PTS
	}
	pkts, err := st.enc.Encode(au.NALUs)
	if err != nil {
		return fmt.Errorf("packetizing for RTSP %s: %w", st.path, err)
	}
	ts := rtpTime(au.PTS - st.base)
	now := time.Now()
	for _, pkt := range pkts {
		pkt.Timestamp = ts
		if err := st.ss.WritePacketRTPWithNTP(st.media, pkt, now); err != nil {
			return fmt.Errorf("writing RTSP %s: %w", st.path, err)
		}
	}
	return nil
}

// rtpTime converts a time from the stream's start to the 90 kHz RTP clock,
// which wraps around every 13 hours as RTP expects. Whole seconds and the
// rest are converted apart: d*90000 overflows int64 after 28 hours.
func rtpTime(d time.Duration) uint32 {
	return uint32(int64(d/time.Second)*90000 + int64(d%time.Second)*90000/int64(time.Second))
}

// Close stops serving the stream; its readers are disconnected, as when a
// camera reboots.
func (st *Stream) Close() {
	st.server.mu.Lock()
	if st.server.streams[st.path] == st {
		delete(st.server.streams, st.path)
	}
	st.server.mu.Unlock()
	st.ss.Close()
}

// handler answers RTSP requests for the server's streams.
type handler Server

func (h *handler) authorize(conn *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	if h.opts.User == "" || conn.VerifyCredentials(req, h.opts.User, h.opts.Password) {
		return nil, nil
	}
	return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
}

// serve answers DESCRIBE and SETUP alike: the stream at path, to a reader
// with the credentials.
func (h *handler) serve(conn *gortsplib.ServerConn, req *base.Request, path string) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorize(conn, req); res != nil {
		return res, nil, err
	}
	st, ok := (*Server)(h).stream(path)
	if !ok {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, st.ss, nil
}

func (h *handler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.serve(ctx.Conn, ctx.Request, ctx.Path)
}

func (h *handler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.serve(ctx.Conn, ctx.Request, ctx.Path)
}

func (h *handler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// FreeUDPPair finds, on host, an even UDP port whose successor is free too:
// the RTP and RTCP addresses UDP transport needs. The ports are free when it
// returns, not reserved, which is enough for tests and the demo on loopback.
func FreeUDPPair(host string) (rtp, rtcp string, err error) {
	for range 50 {
		a, err := net.ListenPacket("udp4", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", "", fmt.Errorf("finding a free UDP port on %s: %w", host, err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		a.Close()
		if port%2 != 0 || port > 65000 {
			continue
		}
		b, err := net.ListenPacket("udp4", net.JoinHostPort(host, strconv.Itoa(port+1)))
		if err != nil {
			continue
		}
		b.Close()
		return net.JoinHostPort(host, strconv.Itoa(port)), net.JoinHostPort(host, strconv.Itoa(port+1)), nil
	}
	return "", "", fmt.Errorf("no free even/odd UDP port pair on %s", host)
}
