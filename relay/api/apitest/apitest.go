// Package apitest calls the relay's HTTP API as its clients do, for tests:
// one request with a bearer token and its answer read whole, the sign-in,
// the error body of a refusal, and a signed-in user filing findings with
// their evidence. It imports nothing of the relay but its wire types, so
// that the tests of the relay itself and of its api package use it too.
package apitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// JSON is the header of a JSON body.
var JSON = map[string]string{"Content-Type": "application/json"}

// Call makes one request to url and returns the answer with its body read.
// token, when set, goes as the bearer token; header's entries with a value
// are set on the request.
func Call(t testing.TB, method, url, token string, header map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return resp, b
}

// Login signs user in at the relay at base and returns the token.
func Login(t testing.TB, base, user, password string) string {
	t.Helper()
	resp, b := Call(t, "POST", base+"/api/v1/login", "", JSON, LoginBody(user, password))
	var out struct{ Token string }
	if err := json.Unmarshal(b, &out); resp.StatusCode != http.StatusOK || err != nil || out.Token == "" {
		t.Fatalf("login of %s: %d %s", user, resp.StatusCode, b)
	}
	return out.Token
}

// LoginBody is the sign-in's request body.
func LoginBody(user, password string) []byte {
	b, _ := json.Marshal(map[string]string{"user": user, "password": password})
	return b
}

// Error is what a refusal's body says: {"error":{"code","message","field"}}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Refusal reads a refusal's body; ok is false when the body is not the
// API's error shape.
func Refusal(b []byte) (e Error, ok bool) {
	var body struct {
		Error *Error `json:"error"`
	}
	if err := json.Unmarshal(b, &body); err != nil || body.Error == nil {
		return Error{}, false
	}
	return *body.Error, true
}

// Client calls the API as one signed-in user; with no Token, as nobody.
type Client struct {
	T     testing.TB
	Base  string // the relay's URL
	Token string
}

// SignIn signs user in at the relay at base.
func SignIn(t testing.TB, base, user, password string) *Client {
	t.Helper()
	return &Client{T: t, Base: base, Token: Login(t, base, user, password)}
}

// Do makes one request to path and returns the status and body.
func (c *Client) Do(method, path string, header map[string]string, body []byte) (int, []byte) {
	c.T.Helper()
	resp, b := Call(c.T, method, c.Base+path, c.Token, header, body)
	return resp.StatusCode, b
}

// Finding returns finding id as the relay reports it.
func (c *Client) Finding(id string) wire.Finding {
	c.T.Helper()
	status, b := c.Do("GET", "/api/v1/findings/"+id, nil, nil)
	var f wire.Finding
	if err := json.Unmarshal(b, &f); status != http.StatusOK || err != nil {
		c.T.Fatalf("GET finding %s: %d %s", id, status, b)
	}
	return f
}

// Draft is the test's finding of site's first doffing room, flagged now
// by the duty officer with deadline: goggles taken off before the gown.
func Draft(id, site string, deadline time.Time) wire.Draft {
	now := time.Now().UTC()
	return wire.Draft{ID: id, Site: site, Camera: "doff1", Zone: "doffing_room_1",
		TemplateID: "ppe-doffing", TemplateVersion: 1, Step: "goggles", Deviation: "wrong_order",
		DeviationText: "脱卸顺序错误 " + id, Severity: "major", Note: "goggles before gown", Observer: "duty",
		ObservedAt: now.Add(-time.Minute), FlaggedAt: now, Deadline: deadline}
}

// File files d as a console's forwarder does, the finding and then its
// snapshot (a JPEG) and clip (an MP4), each when given.
func (c *Client) File(d wire.Draft, snapshot, clip []byte) {
	c.T.Helper()
	body, err := json.Marshal(d)
	if err != nil {
		c.T.Fatal(err)
	}
	if status, b := c.Do("PUT", "/api/v1/findings/"+d.ID, JSON, body); status != http.StatusCreated {
		c.T.Fatalf("PUT finding %s: %d %s", d.ID, status, b)
	}
	for _, ev := range []struct {
		kind, contentType string
		data              []byte
	}{{wire.EvidenceSnapshot, "image/jpeg", snapshot}, {wire.EvidenceClip, "video/mp4", clip}} {
		if ev.data == nil {
			continue
		}
		status, b := c.Do("PUT", "/api/v1/findings/"+d.ID+"/evidence/"+ev.kind,
			map[string]string{"Content-Type": ev.contentType, wire.HeaderContentSHA256: Digest(ev.data)}, ev.data)
		if status != http.StatusCreated {
			c.T.Fatalf("PUT %s of %s: %d %s", ev.kind, d.ID, status, b)
		}
	}
}

// Evidence returns a snapshot and a clip as a console files them: a
// 320x240 JPEG and a 4 s MP4 (15 fps, a keyframe every 2 s) of ffmpeg's
// test pattern, made once per process.
func Evidence(t testing.TB) (snapshot, clip []byte) {
	t.Helper()
	snapshot, err := testmedia.JPEG(320, 240)
	if err == nil {
		clip, err = testmedia.MP4(testmedia.Spec{Width: 320, Height: 240, FPS: 15, GOP: 30, Seconds: 4})
	}
	if err != nil {
		t.Fatalf("making the evidence: %v", err)
	}
	return snapshot, clip
}

// Digest is the hex SHA-256 of b, as evidence uploads carry it.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
