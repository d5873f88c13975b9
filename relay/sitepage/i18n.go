package sitepage

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/phrases"
)

// language picks the page's language: the switch's cookie, else the
// browser's Accept-Language, else Chinese.
func language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(bilingual.Languages, c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		switch {
		case strings.HasPrefix(tag, "zh"):
			return bilingual.ZH
		case strings.HasPrefix(tag, "en"):
			return bilingual.EN
		}
	}
	return bilingual.ZH
}

// countdown says how long until (or since) deadline, in the page's words.
func countdown(lang string, deadline, now time.Time) string {
	d := deadline.Sub(now)
	late := d < 0
	if late {
		d = -d
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	var span string
	switch {
	case h >= 48:
		span = phrases.Sprintf(lang, "span_days", h/24, h%24)
	case h > 0:
		span = phrases.Sprintf(lang, "span_hours", h, m)
	default:
		span = phrases.Sprintf(lang, "span_minutes", m)
	}
	if late {
		return phrases.Sprintf(lang, "overdue_by", span)
	}
	return phrases.Sprintf(lang, "time_left", span)
}
