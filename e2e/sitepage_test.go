package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qianliyan/qianliyan/internal/chromium"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// The site page in a phone's browser, against a relay in this process
// with its sites' managers (relaytest.ServeSites): the duty officer files
// findings through the API, as a console does.

const sitePagePassword = "site-page-test"

// newPhone starts headless Chromium as a Chinese-speaking phone that plays
// clips without a tap.
func newPhone(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	return chromium.New(t, ctx,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.WindowSize(390, 844),
	)
}

// waitJS waits until a JavaScript condition holds in the page. It asks
// again after errors: a form's submission replaces the page (and its
// JavaScript context) while the question is out.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var last error
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return nil
			}
			last = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s (last error %v): %w", expr, last, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// act runs the steps in the page, failing the test on the first error.
func act(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// textOf is the trimmed text of the element sel selects.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// awaitJS evaluates expr in the page, awaiting it if it is a promise.
func awaitJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// openPhone starts the phone's browser and returns a context bounding a
// walk through the page: the first Run starts the browser and must not
// carry a timeout of its own.
func openPhone(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bctx := newPhone(t, ctx)
	act(t, bctx, chromedp.Navigate("about:blank"))
	walk, stop := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(stop)
	return walk
}

func TestSiteManagerInChromium(t *testing.T) {
	r := relaytest.ServeSites(t, sitePagePassword, nil)
	duty, file := r.Duty, r.File
	file("f-site1", "site-01", time.Now().Add(3*time.Hour))
	file("f-late", "site-01", time.Now().Add(time.Second)) // overdue by the time the page shows it
	file("f-site2", "site-02", time.Now().Add(3*time.Hour))
	time.Sleep(1100 * time.Millisecond)

	walk := openPhone(t)
	png, err := testmedia.PNG(160, 120)
	if err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "fixed.png")
	if err := os.WriteFile(photo, png, 0o600); err != nil {
		t.Fatal(err)
	}

	act(t, walk, chromedp.Navigate(r.URL()+"/site/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/site/login"]`)))
	if got := textOf(t, walk, "main h1"); got != "登录" {
		t.Errorf("sign-in heading %q, want Chinese (the browser asks for zh-CN)", got)
	}
	act(t, walk,
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "mgr1"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), sitePagePassword),
		chromedp.Submit(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.findings`)),
	)
	ids := awaitJS[[]string](t, walk, `[...document.querySelectorAll('li.finding')].map(e => e.dataset.id)`)
	overdue := awaitJS[[]string](t, walk, `[...document.querySelectorAll('li.finding.overdue')].map(e => e.dataset.id)`)
	// Open first, then by deadline: the overdue one leads; site-02's is not there.
	if strings.Join(ids, ",") != "f-late,f-site1" || strings.Join(overdue, ",") != "f-late" {
		t.Errorf("list %v, overdue %v", ids, overdue)
	}
	if list := textOf(t, walk, "ul.findings"); !strings.Contains(list, "已逾期") || !strings.Contains(list, "剩余 2 小时") || !strings.Contains(list, "东湖宾馆隔离点 · 一脱间") {
		t.Errorf("list without countdowns: %q", list)
	}

	// The finding: its snapshot shows and its clip plays.
	act(t, walk,
		chromedp.Navigate(r.URL()+"/site/findings/f-site1"),
		chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)),
		waitJS(`document.getElementById('snapshot').complete && document.getElementById('snapshot').naturalWidth > 0`),
	)
	if w := awaitJS[int](t, walk, `document.getElementById('snapshot').naturalWidth`); w != 320 {
		t.Errorf("snapshot width %d, want 320", w)
	}
	awaitJS[bool](t, walk, `document.getElementById('clip').play().then(() => true)`)
	act(t, walk, waitJS(`(() => { const v = document.getElementById('clip'); return v.readyState >= 2 && v.videoWidth === 320 && v.currentTime > 0.5; })()`))

	// Acknowledge, then report rectification with a photo, through the forms.
	act(t, walk,
		chromedp.SendKeys(chromedp.CSS(`#acknowledge textarea[name=note]`), "收到，马上处理"),
		chromedp.Submit(chromedp.CSS(`#acknowledge`)),
		waitJS(`document.readyState === 'complete' && !!document.getElementById('rectify')`),
	)
	if got := textOf(t, walk, "p.notice"); got != "已确认收到" {
		t.Errorf("notice after acknowledging: %q", got)
	}
	// A photo over 5 MiB is refused in the page before any upload.
	snapshot, _ := apitest.Evidence(t)
	big := filepath.Join(t.TempDir(), "big.jpg")
	if err := os.WriteFile(big, append(append([]byte{}, snapshot...), make([]byte, findings.MaxPhotoBytes)...), 0o600); err != nil {
		t.Fatal(err)
	}
	act(t, walk, chromedp.SetUploadFiles(chromedp.CSS(`#rectify input[name=photos]`), []string{big}))
	if msg := awaitJS[string](t, walk, `document.querySelector('#rectify input[name=photos]').validationMessage`); msg != "照片超过 5 MB" {
		t.Errorf("an oversized photo's message: %q", msg)
	}
	act(t, walk,
		chromedp.SendKeys(chromedp.CSS(`#rectify textarea[name=note]`), "已重新培训脱卸顺序"),
		chromedp.SetUploadFiles(chromedp.CSS(`#rectify input[name=photos]`), []string{photo}),
		chromedp.Submit(chromedp.CSS(`#rectify`)),
		waitJS(`document.querySelectorAll('img.photo').length === 1 && document.querySelector('img.photo').naturalWidth === 160`),
	)
	if status, history := textOf(t, walk, "#status"), textOf(t, walk, "#history"); status != "已整改" ||
		!strings.Contains(history, "mgr1 报告整改: 已重新培训脱卸顺序") || !strings.Contains(history, "mgr1 确认收到: 收到，马上处理") {
		t.Errorf("after rectifying: status %q, history %q", status, history)
	}

	// The API has both as events; verifying there closes the finding.
	f := duty.Finding("f-site1")
	var actions []string
	for _, e := range f.Events {
		actions = append(actions, e.Action+":"+e.Actor+":"+e.Role)
	}
	want := "created:duty:duty,evidence:duty:duty,evidence:duty:duty,acknowledge:mgr1:site_manager,rectify:mgr1:site_manager"
	if strings.Join(actions, ",") != want || len(f.Evidence.Photos) != 1 || f.Evidence.Photos[0].SHA256 != apitest.Digest(png) {
		t.Fatalf("events %v (want %s), photos %+v", actions, want, f.Evidence.Photos)
	}
	status, b := duty.Do("POST", "/api/v1/findings/f-site1/actions", apitest.JSON,
		[]byte(`{"action_id":"verify-1","action":"verify","note":"checked on camera"}`))
	if status != 200 || duty.Finding("f-site1").Status != findings.StatusVerified {
		t.Fatalf("verify: %d %s", status, b)
	}

	// The page shows it closed, and switches to English.
	act(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-site1"), chromedp.WaitVisible(chromedp.CSS(`#status`)))
	if got := textOf(t, walk, "#status"); got != "已核实" {
		t.Errorf("closed finding's status %q", got)
	}
	act(t, walk, chromedp.Click(chromedp.CSS(`a.lang`)), waitJS(`document.documentElement.lang === 'en'`))
	if got := textOf(t, walk, "#status"); got != "Verified" {
		t.Errorf("in English: %q", got)
	}
}

// An open page follows its findings without a reload: a new finding of
// the manager's site appears on the list, another site's does not, and a
// change the console makes shows on the open finding.
func TestOpenPageFollowsChanges(t *testing.T) {
	r := relaytest.ServeSites(t, sitePagePassword, nil)
	duty, file := r.Duty, r.File
	file("f-old", "site-01", time.Now().Add(3*time.Hour))

	walk := openPhone(t)
	act(t, walk, chromedp.Navigate(r.URL()+"/site/"), chromedp.WaitVisible(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "mgr1"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), sitePagePassword),
		chromedp.Submit(chromedp.CSS(`form[action="/site/login"]`)),
		chromedp.WaitVisible(chromedp.CSS(`li.finding[data-id="f-old"]`)),
	)
	// A reload would lose this.
	awaitJS[bool](t, walk, `window.__notReloaded = true`)

	file("f-other", "site-02", time.Now().Add(3*time.Hour))
	file("f-new", "site-01", time.Now().Add(time.Hour))
	act(t, walk, waitJS(`!!document.querySelector('li.finding[data-id="f-new"]')`))
	ids := awaitJS[[]string](t, walk, `[...document.querySelectorAll('li.finding')].map(e => e.dataset.id)`)
	if strings.Join(ids, ",") != "f-new,f-old" {
		t.Errorf("list %v, want f-new (the nearer deadline), f-old; not site-02's", ids)
	}
	if !awaitJS[bool](t, walk, `window.__notReloaded === true && document.querySelector('li.finding[data-id="f-new"]').classList.contains('fresh')`) {
		t.Error("the page reloaded, or the new finding is not marked as new")
	}

	// The open finding shows the console's change.
	act(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-new"), chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)))
	awaitJS[bool](t, walk, `window.__notReloaded = true`)
	if status, b := duty.Do("POST", "/api/v1/findings/f-new/actions", apitest.JSON,
		[]byte(`{"action_id":"withdraw-1","action":"withdraw","note":"flagged by mistake"}`)); status != 200 {
		t.Fatalf("withdraw: %d %s", status, b)
	}
	act(t, walk, waitJS(`document.getElementById('status').textContent === '已撤销' && !document.getElementById('acknowledge')`))
	if !awaitJS[bool](t, walk, `window.__notReloaded === true`) {
		t.Error("the finding's page reloaded")
	}
	if h := textOf(t, walk, "#history"); !strings.Contains(h, "flagged by mistake") {
		t.Errorf("history without the withdrawal: %q", h)
	}

	// Typing a note is not thrown away: the page only says it changed.
	file("f-typing", "site-01", time.Now().Add(time.Hour))
	act(t, walk, chromedp.Navigate(r.URL()+"/site/findings/f-typing"), chromedp.WaitVisible(chromedp.CSS(`#acknowledge`)),
		chromedp.SendKeys(chromedp.CSS(`#acknowledge textarea[name=note]`), "正在处理"))
	if status, b := duty.Do("POST", "/api/v1/findings/f-typing/actions", apitest.JSON,
		[]byte(`{"action_id":"edit-1","action":"edit","note":"see the clip from 14:02"}`)); status != 200 {
		t.Fatalf("edit: %d %s", status, b)
	}
	act(t, walk, waitJS(`!!document.querySelector('#changed a')`))
	if v := awaitJS[string](t, walk, `document.querySelector('#acknowledge textarea[name=note]').value`); v != "正在处理" {
		t.Errorf("the note being typed is now %q", v)
	}
}
