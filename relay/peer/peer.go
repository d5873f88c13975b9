// Package peer holds what the relay's WHIP and WHEP endpoints share about a
// pion PeerConnection: checking an offer, answering it completely (no
// trickle ICE), following the connection until it ends, for one reason,
// once, and keeping the open sessions for DELETE and shutdown (Registry).
package peer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
)

// ErrBadOffer is returned for an SDP offer the relay cannot answer.
var ErrBadOffer = errors.New("bad SDP offer")

// CheckOffer checks, before any peer is made, that offer is SDP with an
// H.264 video section.
func CheckOffer(offer string) error {
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}
	parsed, err := desc.Unmarshal()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	for _, md := range parsed.MediaDescriptions {
		if md.MediaName.Media != "video" {
			continue
		}
		for _, a := range md.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToUpper(a.Value), "H264/90000") {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no H.264 video section", ErrBadOffer)
}

// Answer sets offer as pc's remote description and returns the answer once
// ICE gathering is complete, so it carries every candidate. The caller adds
// its tracks first.
//
// An offer without a=group:BUNDLE gets, from pion v3, an answer rejecting
// every media section (port 0). With one media section, bundling changes
// nothing on the wire, so Answer bundles it for pion and takes the group out
// of the answer again. Several unbundled sections would need one transport
// each, which pion does not do: such offers are refused.
func Answer(ctx context.Context, pc *webrtc.PeerConnection, offer string) (string, error) {
	offer, bundled, err := bundleSingleSection(offer)
	if err != nil {
		return "", err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("setting local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gathering ICE candidates: %w", ctx.Err())
	}
	sdp := pc.LocalDescription().SDP
	if bundled {
		sdp = removeLines(sdp, "a=group:BUNDLE")
	}
	return sdp, nil
}

func bundleSingleSection(offer string) (string, bool, error) {
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}
	parsed, err := desc.Unmarshal()
	if err != nil {
		return "", false, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if group, ok := parsed.Attribute("group"); ok && strings.HasPrefix(group, "BUNDLE") {
		return offer, false, nil
	}
	if len(parsed.MediaDescriptions) != 1 {
		return "", false, fmt.Errorf("%w: %d media sections without a=group:BUNDLE", ErrBadOffer, len(parsed.MediaDescriptions))
	}
	mid, ok := parsed.MediaDescriptions[0].Attribute("mid")
	if !ok || mid == "" {
		return "", false, fmt.Errorf("%w: media section without a=mid", ErrBadOffer)
	}
	i := strings.Index(offer, "\nm=")
	if i < 0 {
		return "", false, fmt.Errorf("%w: no media section", ErrBadOffer)
	}
	return offer[:i+1] + "a=group:BUNDLE " + mid + "\r\n" + offer[i+1:], true, nil
}

func removeLines(sdp, prefix string) string {
	lines := strings.SplitAfter(sdp, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// NewSessionID returns a random session identifier for a resource URL; it
// is unguessable, since it names what DELETE ends.
func NewSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b)
}

// Reasons a connection ends.
const (
	ReasonFailed         = "ice_failed"
	ReasonDisconnected   = "disconnected"
	ReasonClosed         = "closed"
	ReasonConnectTimeout = "connect_timeout"
	ReasonDeleted        = "deleted"
	ReasonShutdown       = "shutdown"
)

// Lifecycle follows one PeerConnection: it is connected once, and ends
// once, with the first reason given.
type Lifecycle struct {
	connected chan struct{}
	ended     chan struct{}
	connOnce  sync.Once
	endOnce   sync.Once
	reason    string
}

// Watch starts following pc. The connection ends when ICE fails, the peer
// closes, (with endOnDisconnect) ICE disconnects, or it has not connected
// within connectTimeout. Call it before Answer.
func Watch(pc *webrtc.PeerConnection, connectTimeout time.Duration, endOnDisconnect bool) *Lifecycle {
	l := &Lifecycle{connected: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		t := time.NewTimer(connectTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			l.End(ReasonConnectTimeout)
		case <-l.connected:
		case <-l.ended:
		}
	}()
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			l.connOnce.Do(func() { close(l.connected) })
		case webrtc.PeerConnectionStateFailed:
			l.End(ReasonFailed)
		case webrtc.PeerConnectionStateClosed:
			l.End(ReasonClosed)
		case webrtc.PeerConnectionStateDisconnected:
			if endOnDisconnect {
				l.End(ReasonDisconnected)
			}
		}
	})
	return l
}

// Connected is closed once the peer connects.
func (l *Lifecycle) Connected() <-chan struct{} { return l.connected }

// Ended is closed once the connection ends.
func (l *Lifecycle) Ended() <-chan struct{} { return l.ended }

// Reason says why the connection ended; empty before it has.
func (l *Lifecycle) Reason() string {
	select {
	case <-l.ended:
		return l.reason
	default:
		return ""
	}
}

// End ends the connection for reason unless it has ended already.
func (l *Lifecycle) End(reason string) {
	l.endOnce.Do(func() {
		l.reason = reason
		close(l.ended)
	})
}
