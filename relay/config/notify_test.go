package config

import (
	"strings"
	"testing"
)

func TestNotifyTargets(t *testing.T) {
	for _, c := range []struct {
		name, entry, want string
	}{
		{"webhook", "{kind: webhook, url: 'https://ops.example.org/hook', secret: sixteen-chars-ok}", ""},
		{"wecom", "{kind: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y'}", ""},
		{"dingtalk unsigned", "{kind: dingtalk, url: 'https://oapi.dingtalk.com/robot/send?access_token=t0k'}", ""},
		{"unknown kind", "{kind: sms, url: 'https://x.example/'}", `kind "sms": want webhook, wecom or dingtalk`},
		{"relative url", "{kind: wecom, url: '/send?key=k3y'}", "url must be an absolute http:// or https:// URL"},
		{"ftp url", "{kind: dingtalk, url: 'ftp://oapi.dingtalk.com/robot/send?access_token=t0k'}", "url must be an absolute"},
		{"webhook without secret", "{kind: webhook, url: 'https://ops.example.org/hook'}", "needs a secret of 16 characters"},
		{"wecom with secret", "{kind: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y', secret: abc}", "takes no secret"},
		{"unknown key", "{kind: wecom, url: 'https://q.example/', token: x}", `unknown key "token" in sites[0].notify[0]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("relay.yaml", []byte(goodSite+"    notify:\n      - "+c.entry+"\n"))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want == "" && len(cfg.Sites[0].Notify) != 1:
				t.Fatalf("notify %+v", cfg.Sites[0].Notify)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want …%s…", err, c.want)
			}
			// Robots carry their key in the URL: errors never quote it.
			if err != nil && (strings.Contains(err.Error(), "k3y") || strings.Contains(err.Error(), "t0k")) {
				t.Fatalf("the error quotes the URL's key: %v", err)
			}
		})
	}
}
