package httpapi

import (
	"net"
	"net/http"
)

// RemoteIP is the address of the connection's far end without its port:
// the key of per-client limits and what logs name. No forwarding header
// is believed, since any client can send one.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
