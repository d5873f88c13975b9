// Package secret is the console's per-launch secret: made fresh at every
// start, it keeps other local programs and web pages from the backend's
// loopback API and video bridge.
package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// New returns a random secret that is safe in a URL query.
func New() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making launch secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Matches reports whether r carries want, as "Authorization: Bearer" or, for
// WebSockets, which cannot set headers, as ?token=.
func Matches(r *http.Request, want string) bool {
	if want == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		got = r.URL.Query().Get("token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
