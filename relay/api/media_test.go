package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/auth"
)

// A WHIP or WHEP client that announces an offer over the limit and waits
// for "100 Continue" before sending it is told 413 at once, instead of
// being asked for a body the relay would refuse.
func TestOversizedOfferRefusedBeforeContinue(t *testing.T) {
	f := newFixture(t, time.Hour)
	publish, hash, err := auth.NewPublishToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetPublishTokens(context.Background(), "site-01", "test", [][]byte{hash}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, token string }{
		{"/whip/site-01/doff1", publish},
		{"/whep/site-01/doff1", f.tokens["duty"]},
	} {
		t.Run(c.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Failing rather than hanging if the relay waits for the body.
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer %s\r\nContent-Type: application/sdp\r\n"+
				"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", c.path, c.token, 1<<20)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("first answer %s; want 413 before any body is sent", resp.Status)
			}
		})
	}
}
