package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// headerJS measures the site page's header: its height, and the height of
// one line of it (the tallest of its items: the brand, the language switch
// and the sign-out), with whether all of them sit on one row (their middles
// level: the bar centres them).
const headerJS = `(() => {
  const bar = document.querySelector('header.bar');
  const items = [...bar.querySelectorAll('.brand, .lang, button.link')];
  const cs = getComputedStyle(bar);
  const pad = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom);
  const tops = items.map((e) => { const b = e.getBoundingClientRect(); return Math.round((b.top + b.bottom) / 2); });
  const line = Math.max(...items.map((e) => e.getBoundingClientRect().height));
  const right = Math.max(...items.map((e) => e.getBoundingClientRect().right));
  return {height: bar.getBoundingClientRect().height, line: line + pad, rows: new Set(tops).size,
    items: items.length, overflow: right > document.documentElement.clientWidth + 0.5,
    brandCut: bar.querySelector('.brand').scrollWidth > bar.querySelector('.brand').clientWidth &&
      getComputedStyle(bar.querySelector('.brand')).textOverflow !== 'ellipsis'};
})()`

type headerBox struct {
	Height   float64 `json:"height"`
	Line     float64 `json:"line"`
	Rows     int     `json:"rows"`
	Items    int     `json:"items"`
	Overflow bool    `json:"overflow"`
	BrandCut bool    `json:"brandCut"`
}

// The site page's header stays one line on the phones managers carry
// (360 to 390 px wide), in both languages, signed in (issue 10.9: it
// wrapped to two at 390 px).
func TestSitePageHeaderIsOneLine(t *testing.T) {
	r := relaytest.ServeSites(t, sitePagePassword, nil)
	r.File("f-1", "site-01", time.Now().Add(3*time.Hour))
	r.File("f-2", "site-01", time.Now().Add(2*time.Hour))
	// The manager has reported f-2 fixed: its page says when, and that the
	// duty officer re-checks it, in the screenshots.
	mgr := apitest.SignIn(t, r.URL(), "mgr1", sitePagePassword)
	for _, a := range []string{"acknowledge", "rectify"} {
		if status, b := mgr.Do("POST", "/api/v1/findings/f-2/actions", apitest.JSON,
			[]byte(`{"action_id":"`+a+`-1","action":"`+a+`","note":"已更换手套"}`)); status != 200 {
			t.Fatalf("%s: %d %s", a, status, b)
		}
	}
	walk := openPhone(t)
	act(t, walk, chromedp.Navigate(r.URL()+"/site/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "mgr1"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), sitePagePassword),
		chromedp.Submit(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.findings`)),
	)
	for _, lang := range []string{"zh-CN", "en"} {
		if lang == "en" {
			act(t, walk, chromedp.Click(chromedp.CSS(`a.lang`)), waitJS(`document.documentElement.lang === 'en'`))
		}
		for _, width := range []int64{390, 375, 360} {
			t.Run(fmt.Sprintf("%s at %d px", lang, width), func(t *testing.T) {
				act(t, walk, chromedp.EmulateViewport(width, 800), waitJS(fmt.Sprintf(`document.documentElement.clientWidth === %d`, width)))
				h := awaitJS[headerBox](t, walk, headerJS)
				if h.Items != 3 || h.Rows != 1 || h.Height > h.Line+1 || h.Overflow || h.BrandCut {
					t.Errorf("header %+v: want its 3 items on one row, as high as one line, inside the screen, a cut name with an ellipsis", h)
				}
				if width == 390 {
					shot(t, walk, "site-page-list-390-"+lang+".png")
					act(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-2"), chromedp.WaitVisible(chromedp.CSS(`#standing`)))
					shot(t, walk, "site-page-rectified-390-"+lang+".png")
					act(t, walk, chromedp.Navigate(r.URL()+"/site/"), chromedp.WaitVisible(chromedp.CSS(`ul.findings`)))
				}
			})
		}
	}
}
