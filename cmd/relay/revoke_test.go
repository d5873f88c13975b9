package main

import (
	"net/http"
	"testing"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// relay user passwd and disable, run beside a running relay, revoke the
// user's sign-ins there: their tokens are refused 401 token_revoked (issue
// 12: the old token still answered 200).
func TestAdminCommandsRevokeSignIns(t *testing.T) {
	data := t.TempDir()
	d := []string{"--data", data}
	mustCLI(t, "first-pass\n", append([]string{"user", "add", "zhao", "--role", "duty"}, d...)...)
	mustCLI(t, "second-pass\n", append([]string{"user", "add", "qian", "--role", "supervisor"}, d...)...)
	r := relaytest.Serve(t, relay.Options{DataDir: data, Log: zerolog.Nop()})
	zhao := apitest.SignIn(t, r.URL(), "zhao", "first-pass")
	qian := apitest.SignIn(t, r.URL(), "qian", "second-pass")

	for _, c := range []struct {
		client *apitest.Client
		args   []string
		stdin  string
	}{
		{zhao, []string{"user", "passwd", "zhao"}, "changed-pass\n"},
		{qian, []string{"user", "disable", "qian"}, ""},
	} {
		if status, b := c.client.Do("GET", "/api/v1/cameras", nil, nil); status != http.StatusOK {
			t.Fatalf("before relay %v: %d %s", c.args, status, b)
		}
		mustCLI(t, c.stdin, append(c.args, d...)...)
		status, b := c.client.Do("GET", "/api/v1/cameras", nil, nil)
		if e, _ := apitest.Refusal(b); status != http.StatusUnauthorized || e.Code != "token_revoked" {
			t.Errorf("the token after relay %v: %d %s, want 401 token_revoked", c.args, status, b)
		}
	}
	apitest.SignIn(t, r.URL(), "zhao", "changed-pass") // the new password serves
}
