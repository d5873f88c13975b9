package sitepage_test

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// A finding flagged from the catalogue by an officer reading Chinese reads
// in English on an English page, and the other way round; free text, and a
// draft from a console that sends no title, read as typed in both.
func TestSitePageShowsTheTitleInTheReadersLanguage(t *testing.T) {
	r := relaytest.ServeSites(t, password, nil)
	deadline := time.Now().Add(3 * time.Hour)
	catalogue := apitest.Draft("catalogue", "site-01", deadline)
	catalogue.DeviationText = "脱卸顺序错误"
	catalogue.DeviationTitle = map[string]string{"zh-CN": "脱卸顺序错误", "en": "Wrong doffing order"}
	r.Duty.File(catalogue, nil, nil)
	old := apitest.Draft("old", "site-01", deadline)
	old.DeviationText = "护目镜先于隔离衣脱下"
	r.Duty.File(old, nil, nil)

	for _, c := range []struct {
		lang      string
		want, not []string
	}{
		{"en", []string{"Wrong doffing order", "护目镜先于隔离衣脱下"}, []string{"脱卸顺序错误"}},
		{"zh-CN", []string{"脱卸顺序错误", "护目镜先于隔离衣脱下"}, []string{"Wrong doffing order"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			mgr := signIn(t, r, "mgr1")
			if status, _ := mgr.get("/site/lang/" + c.lang); status != 200 {
				t.Fatalf("choosing %s: %d", c.lang, status)
			}
			_, list := mgr.get("/site/")
			_, detail := mgr.get("/site/findings/catalogue")
			_, oldDetail := mgr.get("/site/findings/old")
			pages := html.UnescapeString(list + detail + oldDetail)
			for _, w := range c.want {
				if !strings.Contains(pages, w) {
					t.Errorf("%q not on the %s pages", w, c.lang)
				}
			}
			for _, n := range c.not {
				if strings.Contains(pages, n) {
					t.Errorf("%q on the %s pages", n, c.lang)
				}
			}
		})
	}
}
