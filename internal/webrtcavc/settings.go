package webrtcavc

import (
	"net"
	"net/url"

	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"
)

// Settings returns the ICE settings for a peer. With loopbackOnly, the peer
// gathers only 127.0.0.1 candidates over UDP4 and never multicasts mDNS: the
// demo and every test run on loopback, and must not send connectivity checks
// to the machine's other addresses.
func Settings(loopbackOnly bool) webrtc.SettingEngine {
	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if loopbackOnly {
		s.SetIncludeLoopbackCandidate(true)
		s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	return s
}

// IsLoopbackURL reports whether rawURL names a loopback host, in which case a
// client peer talking to it should use Settings(true).
func IsLoopbackURL(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
