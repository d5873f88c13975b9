package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/notify"
)

// Send posts a message at once, as the notifier would: a webhook's JSON
// signed, a DingTalk robot's URL signed, a robot's refusal an error, and
// a redirect not followed.
func TestSend(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 30, 0, 0, time.UTC)
	var mu sync.Mutex
	var got *http.Request
	var body []byte
	answer := `{"errcode":0,"errmsg":"ok"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, body = r, b
		a := answer
		mu.Unlock()
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.Write([]byte(a))
	}))
	defer srv.Close()
	msg := notify.Message{Title: "监督日报 2026-12-02", Markdown: "### 监督日报\n> 发现问题数: 3", Event: "report.daily",
		Data: map[string]int{"findings": 3}}

	for _, c := range []struct {
		name   string
		target notify.Target
		answer string
		fail   string
		check  func(t *testing.T, r *http.Request, b []byte)
	}{
		{"wecom", notify.Target{Kind: "wecom", URL: srv.URL + "/send?key=k"}, "", "", func(t *testing.T, r *http.Request, b []byte) {
			var m struct {
				MsgType  string            `json:"msgtype"`
				Markdown map[string]string `json:"markdown"`
			}
			if err := json.Unmarshal(b, &m); err != nil || m.MsgType != "markdown" || m.Markdown["content"] != msg.Markdown {
				t.Errorf("body %s", b)
			}
		}},
		{"dingtalk signed", notify.Target{Kind: "dingtalk", URL: srv.URL + "/robot/send?access_token=t", Secret: "SEC1"}, "", "",
			func(t *testing.T, r *http.Request, b []byte) {
				want := notify.DingTalkSign(r.URL.Query(), "SEC1", now)
				if r.URL.Query().Get("sign") == "" || r.URL.Query().Get("sign") != want.Get("sign") || !strings.Contains(string(b), `"title":"监督日报 2026-12-02"`) {
					t.Errorf("query %s body %s", r.URL.RawQuery, b)
				}
			}},
		{"webhook signed", notify.Target{Kind: "webhook", URL: srv.URL + "/hook", Secret: "a-webhook-secret-16"}, "", "",
			func(t *testing.T, r *http.Request, b []byte) {
				if err := notify.VerifyWebhook("a-webhook-secret-16", r.Header.Get("X-Qianliyan-Signature"), b, now, time.Minute); err != nil {
					t.Error(err)
				}
				if !strings.Contains(string(b), `"event":"report.daily"`) || !strings.Contains(string(b), `"findings":3`) {
					t.Errorf("body %s", b)
				}
			}},
		{"robot refuses", notify.Target{Kind: "wecom", URL: srv.URL + "/send?key=k"}, `{"errcode":93000,"errmsg":"invalid webhook url"}`, "errcode 93000", nil},
		{"redirect", notify.Target{Kind: "wecom", URL: srv.URL + "/moved?key=k"}, "", "redirects are not followed", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			if c.answer != "" {
				answer = c.answer
			} else {
				answer = `{"errcode":0,"errmsg":"ok"}`
			}
			mu.Unlock()
			err := notify.Send(context.Background(), nil, c.target, msg, now)
			if c.fail != "" {
				if err == nil || !strings.Contains(err.Error(), c.fail) || strings.Contains(err.Error(), "key=k") {
					t.Fatalf("got %v, want …%s… without the URL", err, c.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			c.check(t, got, body)
		})
	}
}
