// Package relayclienttest gives the console's tests a relay client signed in
// to a relay they started (relay/relaytest).
package relayclienttest

import (
	"context"
	"testing"

	"github.com/qianliyan/qianliyan/console/relayclient"
)

// SignedIn returns a client of the relay at url signed in as user.
func SignedIn(t testing.TB, url, user, password string) *relayclient.Client {
	t.Helper()
	c, err := relayclient.New(url, relayclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(context.Background(), user, password); err != nil {
		t.Fatalf("signing in to %s as %s: %v", url, user, err)
	}
	return c
}
