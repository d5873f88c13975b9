package config

import (
	"errors"
	"strings"
	"testing"
)

func TestReportsSection(t *testing.T) {
	const wecom = "{kind: wecom, url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y'}"
	for _, c := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"none", "", 0, ""},
		{"daily", "reports:\n  daily_at: \"08:30\"\n  notify:\n    - " + wecom + "\n  link: https://qly.example.org/#/reports\n", 0, ""},
		{"bad time", "reports:\n  daily_at: \"8:30\"\n  notify:\n    - " + wecom + "\n", 2, `daily_at: time of day "8:30"`},
		{"no targets", "reports:\n  daily_at: \"08:30\"\n", 2, "daily_at needs notify"},
		{"targets without a time", "reports:\n  notify:\n    - " + wecom + "\n", 3, "notify needs daily_at"},
		{"bad target", "reports:\n  daily_at: \"08:30\"\n  notify:\n    - {kind: sms, url: 'https://x.example/'}\n", 4,
			`reports notify[0]: kind "sms"`},
		{"bad link", "reports:\n  daily_at: \"08:30\"\n  notify:\n    - " + wecom + "\n  link: /reports\n", 5, `link "/reports"`},
		{"unknown key", "reports:\n  daily: \"08:30\"\n", 2, `unknown key "daily" in reports`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("relay.yaml", []byte(c.yaml))
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m, ok := cfg.Reports.DailyMinutes(); c.yaml != "" && (!ok || m != 8*60+30) {
					t.Errorf("daily at %d %v", m, ok)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want …%s…", err, c.want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Line != c.line || ce.File != "relay.yaml" {
				t.Errorf("the error is at %+v, want relay.yaml:%d", ce, c.line)
			}
			if strings.Contains(err.Error(), "k3y") {
				t.Errorf("the error quotes the robot's key: %v", err)
			}
		})
	}
}
