// Package forward carries the console's findings to the relay and brings
// back what the site makes of them. The Forwarder sends the console store's
// outbox, in order per finding: the finding as flagged and its snapshot,
// its clip, then every later change as an action. The Consumer follows the
// relay's changes feed and applies it to the console's copies. Both run for
// as long as a sign-in lasts, with its token.
//
// Each finding is bound to the relay it was flagged under, and only that
// relay is sent its changes or may change it: a console signed in to
// another relay (a training one, a neighbouring city's) keeps them waiting
// for a sign-in to theirs. Each relay's changes cursor is kept apart.
package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/qianliyan/qianliyan/console/relayclient"
)

// Relay is the signed-in relay: its address and a login token kept
// fresh; *relayclient.Client is one.
type Relay interface {
	BaseURL() string
	// Token is a login token valid for a while yet.
	Token(ctx context.Context) (string, error)
	// Refresh renews the token now; the relay refusing ends the session
	// (relayclient.ErrSessionExpired).
	Refresh(ctx context.Context) (relayclient.Session, error)
}

// maxAnswer bounds what is read of a relay answer; a changes answer of 100
// findings is far below it.
const maxAnswer = 8 << 20

// RelayError is an error answer of the relay.
type RelayError struct {
	Status  int
	Code    string
	Message string
}

func (e *RelayError) Error() string {
	return fmt.Sprintf("relay answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Permanent reports whether the relay will give the same answer to the
// same request however often it is asked: a 4xx other than the ones that
// mean "later" (408, 425, 429) or "who are you" (401, handled by renewing),
// and other than a relay that has no findings API (an unknown route, 404
// not_found, or 405): that one may be upgraded, and is waited for.
func (e *RelayError) Permanent() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusMethodNotAllowed:
		return false
	case http.StatusNotFound:
		return e.Code != "not_found" && e.Code != "http_404"
	}
	return e.Status >= 400 && e.Status < 500
}

// permanent reports whether err is an answer that will never change.
func permanent(err error) bool {
	var rerr *RelayError
	return errors.As(err, &rerr) && rerr.Permanent()
}

// caller sends requests to the relay with the session's token.
type caller struct {
	relay Relay
	http  *http.Client
}

// request is one call: body, when set, makes a fresh reader for each
// attempt (a refused token is renewed and the call made once more).
type request struct {
	method, path string
	header       http.Header
	body         func() (io.ReadCloser, int64, error)
}

func jsonBody(v any) (func() (io.ReadCloser, int64, error), error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
	}, nil
}

// do makes the call and returns the answer's status and body; an answer
// other than 2xx is a *RelayError.
func (c caller) do(ctx context.Context, r request) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		token, err := c.relay.Token(ctx)
		if err != nil {
			return 0, nil, err
		}
		status, body, err := c.once(ctx, r, token)
		var rerr *RelayError
		if attempt == 0 && errors.As(err, &rerr) && rerr.Status == http.StatusUnauthorized {
			// Refused: renewed once, which ends the session if the relay
			// refuses that too.
			if _, err := c.relay.Refresh(ctx); err != nil {
				return 0, nil, fmt.Errorf("renewing the token the relay refused: %w", err)
			}
			continue
		}
		return status, body, err
	}
}

func (c caller) once(ctx context.Context, r request, token string) (int, []byte, error) {
	var body io.ReadCloser
	var size int64
	if r.body != nil {
		var err error
		if body, size, err = r.body(); err != nil {
			return 0, nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.relay.BaseURL()+r.path, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return 0, nil, fmt.Errorf("building %s %s: %w", r.method, r.path, err)
	}
	req.ContentLength = size
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer to %s %s: %w", r.method, r.path, err)
	}
	if len(b) > maxAnswer {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: answer over %d bytes", r.method, r.path, maxAnswer)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, nil, relayError(resp.StatusCode, b)
	}
	return resp.StatusCode, b, nil
}

// relayError reads the relay's error answer; a body that is not the
// relay's JSON (a proxy's page) still yields the status.
func relayError(status int, body []byte) *RelayError {
	e := &RelayError{Status: status}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message = env.Error.Code, env.Error.Message
		return e
	}
	e.Code = "http_" + strconv.Itoa(status)
	e.Message = http.StatusText(status)
	if s := strings.TrimSpace(string(body)); s != "" && len(s) < 200 {
		e.Message += ": " + s
	}
	return e
}
