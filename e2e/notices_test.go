package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/qianliyan/qianliyan/relay/seed"
)

// sitePhone is a site manager's phone on the relay's site page, without
// the rendering: a cookie jar and the forms' fields.
type sitePhone struct {
	t    *testing.T
	base string
	http *http.Client
}

var formField = regexp.MustCompile(`name="(\w+)" value="([^"]*)"`)

func pageField(page, name string) string {
	for _, m := range formField.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

func (p *sitePhone) get(path string) (int, string) {
	resp, err := p.http.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *sitePhone) post(path, contentType string, body io.Reader) (int, string) {
	resp, err := p.http.Post(p.base+path, contentType, body)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func signInPhone(t *testing.T, base, user, password string) *sitePhone {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &sitePhone{t: t, base: base, http: &http.Client{Jar: jar}}
	_, page := p.get("/site/login")
	form := url.Values{"csrf": {pageField(page, "csrf")}, "user": {user}, "password": {password}}
	if status, page := p.post("/site/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusOK {
		t.Fatalf("site page sign-in of %s: %d %s", user, status, page)
	}
	return p
}

// reportItem answers one item of a notice as a manager does from the
// notice's page: its finding acknowledged, then reported rectified with a
// note and a photo.
func (p *sitePhone) reportItem(noticeID, finding string, photo []byte) {
	p.t.Helper()
	if status, page := p.get("/site/notices/" + noticeID); status != http.StatusOK || !strings.Contains(page, "/site/findings/"+finding) {
		p.t.Fatalf("the site page's notice %s does not list finding %s: %d %s", noticeID, finding, status, page)
	}
	p.rectify(finding, photo)
}

// rectify acknowledges a finding on its site page and reports it
// rectified with a note and a photo, as the manager does.
func (p *sitePhone) rectify(finding string, photo []byte) {
	p.t.Helper()
	_, page := p.get("/site/findings/" + finding)
	form := url.Values{"csrf": {pageField(page, "csrf")}, "action_id": {pageField(page, "action_id")}}
	status, page := p.post("/site/findings/"+finding+"/acknowledge", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if status != http.StatusOK {
		p.t.Fatalf("acknowledging %s: %d %s", finding, status, page)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", pageField(page, "csrf"))
	mw.WriteField("action_id", pageField(page, "action_id"))
	mw.WriteField("note", "已整改 "+finding)
	w, _ := mw.CreateFormFile("photos", "fixed.jpg")
	w.Write(photo)
	mw.Close()
	if status, page := p.post("/site/findings/"+finding+"/rectify", mw.FormDataContentType(), &buf); status != http.StatusOK {
		p.t.Fatalf("reporting %s rectified: %d %s", finding, status, page)
	}
}

// TestNoticeReported is issue 13's notice in the console: on the seeded
// relay a supervisor compiles a notice over 5 open findings of a site
// handed over in the address (#/notices/new?site=…&findings=…, as a
// selection in the review list does) and issues it; its PDF through the
// console backend reads back (pdftotext) with the Chinese heading and the
// number; the site's manager reports on 2 of the items on the site page,
// and the console's list shows the notice 2/5 reported.
func TestNoticeReported(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	room := startSeededRoom(t, ctx, 10000)
	var site string
	if err := room.db.QueryRow(`SELECT site_id FROM findings WHERE status = 'open' GROUP BY 1 HAVING count(*) >= 5 ORDER BY site_id LIMIT 1`).Scan(&site); err != nil {
		t.Fatal(err)
	}
	ids := room.column(t, `SELECT id FROM findings WHERE site_id = ? AND status = 'open' ORDER BY deadline, id LIMIT 5`, site)

	b, pageURL := openWorkspace(t, ctx, room)
	hash := "#/notices/new?site=" + url.QueryEscape(site) + "&findings=" + strings.Join(ids, ",")
	if _, err := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`location.hash = %q`, hash))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the site's open findings offered, the 5 handed over chosen", time.Minute, func() (bool, string) {
		n, _ := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-notice-compose] input[type=checkbox]:checked').length`))
		return n == 5, fmt.Sprintf("%d chosen", n)
	})
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`[data-action="issue-notice"]`))); err != nil {
		t.Fatal(err)
	}
	var noticeID string
	waitFor(t, "the notice issued and shown", time.Minute, func() (bool, string) {
		noticeID, _ = chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector('[data-notice][data-total="5"]')?.dataset.id ?? ''`))
		return noticeID != "", location(b)
	})

	// The PDF as the browser downloads it, through the console backend.
	u, _ := url.Parse(pageURL)
	resp, err := http.Get(fmt.Sprintf("%s://%s/api/v1/notices/%s/pdf?lang=zh-CN&token=%s", u.Scheme, u.Host, url.PathEscape(noticeID), url.QueryEscape(u.Query().Get("token"))))
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("the notice's PDF: %d %v", resp.StatusCode, resp.Header)
	}
	path := filepath.Join(t.TempDir(), "notice.pdf")
	os.WriteFile(path, pdf, 0o644)
	text, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils, scripts/setup.sh): %v", err)
	}
	if !strings.Contains(string(text), "监督意见书") {
		t.Errorf("the PDF's text has no 监督意见书:\n%s", text)
	}

	photo, err := seededJPEG(7)
	if err != nil {
		t.Fatal(err)
	}
	manager := signInPhone(t, room.relay.URL(), "manager-"+strings.TrimPrefix(site, "site-"), seed.ManagerPassword)
	manager.reportItem(noticeID, ids[0], photo)
	manager.reportItem(noticeID, ids[1], photo)

	if _, err := chromedp.Run(b, chromedp.Evaluate[string](`location.hash = '#/notices'`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the console's list saying 2/5 reported", time.Minute, func() (bool, string) {
		row, _ := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const r = document.querySelector('[data-notice-list] tr[data-id=%q]'); return r ? r.dataset.reported + '/' + r.dataset.total + ' ' + r.querySelector('[data-progress]').textContent : '' })()`, noticeID)))
		return strings.HasPrefix(row, "2/5 ") && strings.Contains(row, "2/5"), row
	})
}

func location(b context.Context) string {
	h, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.hash + ' ' + (document.querySelector('[role=alert]')?.textContent ?? '')`))
	return h
}
