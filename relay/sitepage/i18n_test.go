package sitepage

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestLanguage(t *testing.T) {
	for _, c := range []struct{ accept, cookie, want string }{
		{"", "", "zh-CN"},
		{"en-US,en;q=0.9", "", "en"},
		{"zh-TW,zh;q=0.9,en;q=0.8", "", "zh-CN"},
		{"fr-FR, en;q=0.5", "", "en"},
		{"en-US", "zh-CN", "zh-CN"},
		{"zh-CN", "en", "en"},
		{"en", "klingon", "en"},
	} {
		r := httptest.NewRequest("GET", "/site/", nil)
		r.Header.Set("Accept-Language", c.accept)
		if c.cookie != "" {
			r.Header.Set("Cookie", langCookie+"="+c.cookie)
		}
		if got := language(r); got != c.want {
			t.Errorf("Accept-Language %q, cookie %q: %s, want %s", c.accept, c.cookie, got, c.want)
		}
	}
}

func TestCountdown(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		lang string
		in   time.Duration
		want string
	}{
		{"en", 90 * time.Minute, "1 h 30 min left"},
		{"en", -20 * time.Minute, "overdue by 20 min"},
		{"en", 50 * time.Hour, "2 d 2 h left"},
		{"zh-CN", 90 * time.Minute, "剩余 1 小时 30 分"},
		{"zh-CN", -3 * time.Hour, "已逾期 3 小时 0 分"},
		{"zh-CN", 5 * time.Minute, "剩余 5 分钟"},
	} {
		if got := countdown(c.lang, now.Add(c.in), now); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.lang, c.in, got, c.want)
		}
	}
}
