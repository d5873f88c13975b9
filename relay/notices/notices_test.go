package notices_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
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

	_ "github.com/mattn/go-sqlite3"

	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/api/apitest"
	"github.com/qianliyan/qianliyan/relay/relaytest"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// password is the site managers' and the supervisor's (relaytest.SiteManagersConfig).
const password = "notices-test"

// stack is a demo relay with its sites' managers and a supervisor, the
// duty officer filing findings as a console does.
type stack struct {
	t              *testing.T
	relay          *relay.Relay
	dataDir        string
	duty, sup      *apitest.Client
	snapshot, clip []byte
}

func start(t *testing.T) *stack {
	t.Helper()
	dir := t.TempDir()
	r := relaytest.Serve(t, relay.Options{Demo: true, DataDir: dir, ConfigFile: relaytest.SiteManagersConfig(t, password)})
	s := &stack{t: t, relay: r, dataDir: dir,
		duty: apitest.SignIn(t, r.URL(), "duty", r.Demo().Password), sup: apitest.SignIn(t, r.URL(), "sup", password)}
	s.snapshot, s.clip = apitest.Evidence(t)
	return s
}

// file files finding id at site, due at deadline, with its snapshot.
func (s *stack) file(id, site string, deadline time.Time) wire.Draft {
	s.t.Helper()
	d := apitest.Draft(id, site, deadline)
	s.duty.File(d, s.snapshot, nil)
	return d
}

func (s *stack) issue(c *apitest.Client, req wire.NoticeRequest) (int, wire.Notice, []byte) {
	s.t.Helper()
	body, _ := json.Marshal(req)
	status, b := c.Do("POST", "/api/v1/notices", apitest.JSON, body)
	var n wire.Notice
	if status == http.StatusCreated {
		if err := json.Unmarshal(b, &n); err != nil {
			s.t.Fatalf("the notice: %v: %s", err, b)
		}
	}
	return status, n, b
}

func (s *stack) notice(id string) wire.Notice {
	s.t.Helper()
	status, b := s.sup.Do("GET", "/api/v1/notices/"+id, nil, nil)
	var n wire.Notice
	if err := json.Unmarshal(b, &n); status != http.StatusOK || err != nil {
		s.t.Fatalf("GET notice %s: %d %s", id, status, b)
	}
	return n
}

// act applies action to finding id as the duty officer.
func (s *stack) act(id string, action wire.Action) {
	s.t.Helper()
	body, _ := json.Marshal(wire.ActionRequest{ActionID: fmt.Sprintf("%s-%s-%d", action, id, time.Now().UnixNano()), Action: action})
	if status, b := s.duty.Do("POST", "/api/v1/findings/"+id+"/actions", apitest.JSON, body); status != http.StatusOK {
		s.t.Fatalf("%s %s: %d %s", action, id, status, b)
	}
}

// pdfText is what pdftotext reads from a PDF, its runs of spaces made one.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notice.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils, scripts/setup.sh): %v", err)
	}
	return string(out)
}

// phone is a site manager's browser without the rendering: a cookie jar.
type phone struct {
	t    *testing.T
	base string
	http *http.Client
}

var fieldRE = regexp.MustCompile(`name="(\w+)" value="([^"]*)"`)

func field(page, name string) string {
	for _, m := range fieldRE.FindAllStringSubmatch(page, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

func signIn(t *testing.T, base, user string) *phone {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	p := &phone{t: t, base: base, http: &http.Client{Jar: jar}}
	_, page := p.get("/site/login")
	status, page := p.post("/site/login", url.Values{"csrf": {field(page, "csrf")}, "user": {user}, "password": {password}})
	if status != http.StatusOK || !strings.Contains(page, `class="findings"`) {
		t.Fatalf("site page sign-in of %s: %d %s", user, status, page)
	}
	return p
}

func (p *phone) get(path string) (int, string) {
	resp, err := p.http.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *phone) post(path string, form url.Values) (int, string) {
	resp, err := p.http.PostForm(p.base+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// report answers item finding as the manager does, from the notice's page:
// opens the item's finding, acknowledges it, then reports the
// rectification with a note and a photo.
func (p *phone) report(noticeID, finding string, photo []byte) {
	p.t.Helper()
	status, page := p.get("/site/notices/" + noticeID)
	if status != http.StatusOK || !strings.Contains(page, `href="/site/findings/`+finding+`"`) {
		p.t.Fatalf("the notice's page links no item to finding %s: %d %s", finding, status, page)
	}
	status, page = p.get("/site/findings/" + finding)
	if status != http.StatusOK || !strings.Contains(page, `id="in-notice"`) || !strings.Contains(page, `href="/site/notices/`+noticeID+`"`) {
		p.t.Fatalf("finding %s's page does not lead back to its notice: %d %s", finding, status, page)
	}
	status, page = p.post("/site/findings/"+finding+"/acknowledge", url.Values{"csrf": {field(page, "csrf")}, "action_id": {field(page, "action_id")}})
	if status != http.StatusOK || !strings.Contains(page, `id="rectify"`) {
		p.t.Fatalf("acknowledging %s: %d %s", finding, status, page)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", field(page, "csrf"))
	mw.WriteField("action_id", field(page, "action_id"))
	mw.WriteField("note", "已重新培训脱卸流程 "+finding)
	w, _ := mw.CreateFormFile("photos", "fixed.jpg")
	w.Write(photo)
	mw.Close()
	resp, err := p.http.Post(p.base+"/site/findings/"+finding+"/rectify", mw.FormDataContentType(), &buf)
	if err != nil {
		p.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `id="in-notice"`) {
		p.t.Fatalf("reporting %s rectified: %d %s", finding, resp.StatusCode, b)
	}
}

// The issue's done-criterion: a notice over a site's 5 open findings; its
// PDF reads back with the Chinese headings, the 5 items and their
// deadlines in the site's time; the site's manager sees it on the site
// page and reports on 2 items; the notice says 2 of 5 reported; once the
// duty officer has verified all 5 it is closed. The issue is recorded as
// an outcome on every finding and, with the PDF's download, in the audit.
func TestNoticeFromIssueToClosed(t *testing.T) {
	s := start(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai") // the demo sites'
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	var ids []string
	deadlines := map[string]time.Time{}
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("n%d", i)
		d := s.file(id, "site-01", base.Add(time.Duration(i)*7*time.Hour))
		ids, deadlines[id] = append(ids, id), d.Deadline
	}
	s.file("other-site", "site-02", base)

	status, n, b := s.issue(s.sup, wire.NoticeRequest{Site: "site-01", Findings: ids})
	if status != http.StatusCreated {
		t.Fatalf("issuing: %d %s", status, b)
	}
	if !regexp.MustCompile(`^千监意〔20\d\d〕0001号$`).MatchString(n.Number) || n.Seq != 1 {
		t.Errorf("the first notice is numbered %q (seq %d), want 千监意〔YEAR〕0001号", n.Number, n.Seq)
	}
	if n.Status != wire.NoticeOpen || n.Total != 5 || n.Reported != 0 || n.Verified != 0 || n.IssuedBy != "sup" || len(n.Items) != 5 {
		t.Fatalf("the notice as issued: %+v", n)
	}
	for i, it := range n.Items {
		if it.Position != i+1 || it.Finding != ids[i] || it.Requirement["zh-CN"] == "" || it.Snapshot == "" || !it.Deadline.Equal(deadlines[ids[i]]) {
			t.Errorf("item %d: %+v", i+1, it)
		}
	}

	// The PDF, in Chinese: its headings, the site, the 5 items and their
	// deadlines in the site's time.
	resp, pdf := apitest.Call(t, "GET", s.relay.URL()+"/api/v1/notices/"+n.ID+"/pdf", s.sup.Token, nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("GET the PDF: %d %s %.200q", resp.StatusCode, resp.Header.Get("Content-Type"), pdf)
	}
	text := pdfText(t, pdf)
	wants := []string{"监督意见书", n.Number, n.SiteName["zh-CN"], "存在问题", "整改要求", "整改期限", "被监督单位签收", "sup"}
	for _, id := range ids {
		wants = append(wants, "脱卸顺序错误 "+id, deadlines[id].In(shanghai).Format("2006-01-02 15:04"))
	}
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("the notice's PDF lacks %q:\n%s", want, text)
		}
	}

	// The site's manager: the notice on the list, then item by item.
	mgr := signIn(t, s.relay.URL(), "mgr1")
	if _, page := mgr.get("/site/"); !strings.Contains(page, `href="/site/notices/`+n.ID+`"`) || !strings.Contains(page, n.Number) {
		t.Fatalf("the manager's list does not show the notice:\n%s", page)
	}
	photo, err := testmedia.JPEG(320, 240)
	if err != nil {
		t.Fatal(err)
	}
	mgr.report(n.ID, ids[0], photo)
	mgr.report(n.ID, ids[3], photo)

	got := s.notice(n.ID)
	if got.Reported != 2 || got.Total != 5 || got.Verified != 0 || got.Status != wire.NoticeOpen {
		t.Fatalf("after 2 items reported: %d/%d reported, %d verified, %s; want 2/5, 0, open", got.Reported, got.Total, got.Verified, got.Status)
	}
	for _, it := range got.Items {
		if want := it.Finding == ids[0] || it.Finding == ids[3]; it.Reported != want || want && it.Status != wire.StatusRectified {
			t.Errorf("item %d (%s): reported %v, %s", it.Position, it.Finding, it.Reported, it.Status)
		}
	}
	_, page := mgr.get("/site/notices/" + n.ID)
	if !strings.Contains(page, "已上报 2/5 项") {
		t.Errorf("the notice's page does not say 2 of 5 reported:\n%s", page)
	}

	// The rest reported, then the duty officer verifies all 5: closed.
	for _, id := range []string{ids[1], ids[2], ids[4]} {
		mgr.report(n.ID, id, photo)
	}
	for i, id := range ids {
		s.act(id, wire.ActVerify)
		if got := s.notice(n.ID); i < 4 && got.Status != wire.NoticeOpen || got.Verified != i+1 {
			t.Fatalf("after %d verified: %s, %d verified", i+1, got.Status, got.Verified)
		}
	}
	got = s.notice(n.ID)
	if got.Status != wire.NoticeClosed || got.Verified != 5 || got.Reported != 5 || got.ClosedAt == nil {
		t.Fatalf("after all 5 verified: %+v", got)
	}
	if _, page := mgr.get("/site/notices/" + n.ID); !strings.Contains(page, "已办结") {
		t.Errorf("the notice's page does not say it is closed:\n%s", page)
	}
	for _, c := range []struct {
		status string
		want   int
	}{{"closed", 1}, {"open", 0}, {"", 1}} {
		_, b := s.sup.Do("GET", "/api/v1/notices?site=site-01&status="+c.status, nil, nil)
		var list []wire.Notice
		if err := json.Unmarshal(b, &list); err != nil || len(list) != c.want {
			t.Errorf("notices with status %q: %s, want %d", c.status, b, c.want)
		}
	}

	// Recorded: the outcome on each finding, the issue and the download in the audit.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(s.dataDir, relay.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var outcomes int
	if err := db.QueryRow(`SELECT count(*) FROM review_outcomes WHERE kind = 'notice_issued' AND doc_number = ?`, n.Number).Scan(&outcomes); err != nil || outcomes != 5 {
		t.Errorf("outcomes notice_issued %s: %d (%v), want 5", n.Number, outcomes, err)
	}
	for _, what := range []string{"notice", "notice_pdf"} {
		var actor, detail string
		if err := db.QueryRow(`SELECT actor, detail FROM audit_exports WHERE what = ?`, what).Scan(&actor, &detail); err != nil || actor != "sup" || !strings.Contains(detail, n.Number) {
			t.Errorf("audit of %s: %s %q (%v)", what, actor, detail, err)
		}
	}
	var recorded int
	if err := db.QueryRow(`SELECT recorded FROM notices WHERE id = ?`, n.ID).Scan(&recorded); err != nil || recorded != 1 {
		t.Errorf("the notice is not marked recorded: %d %v", recorded, err)
	}
}

// A notice in English is numbered in English, after the Chinese one, and
// its PDF is in English; either may be asked for in the other language.
func TestNoticeInEnglish(t *testing.T) {
	s := start(t)
	deadline := time.Now().Add(48 * time.Hour)
	s.file("zh1", "site-01", deadline)
	s.file("en1", "site-02", deadline)
	if status, _, b := s.issue(s.sup, wire.NoticeRequest{Site: "site-01"}); status != http.StatusCreated {
		t.Fatalf("issuing over every open finding of site-01: %d %s", status, b)
	}
	status, n, b := s.issue(s.sup, wire.NoticeRequest{Site: "site-02", Lang: "en"})
	if status != http.StatusCreated {
		t.Fatalf("issuing in English: %d %s", status, b)
	}
	if !regexp.MustCompile(`^QLY-N-20\d\d-0002$`).MatchString(n.Number) || n.Lang != "en" || n.Total != 1 || n.Items[0].Finding != "en1" {
		t.Fatalf("the English notice: %+v", n)
	}
	for _, c := range []struct {
		lang  string
		wants []string
	}{
		{"", []string{"Supervision Notice", n.Number, "Problem found", "Requirement", "Deadline", n.SiteName["en"], "Page 1 of 1"}},
		{"zh-CN", []string{"监督意见书", strings.Replace(strings.Replace(n.Number, "QLY-N-", "千监意〔", 1), "-", "〕", 1) + "号", "整改期限"}},
	} {
		resp, pdf := apitest.Call(t, "GET", s.relay.URL()+"/api/v1/notices/"+n.ID+"/pdf?lang="+c.lang, s.sup.Token, nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PDF in %q: %d %s", c.lang, resp.StatusCode, pdf)
		}
		text := pdfText(t, pdf)
		for _, want := range c.wants {
			if !strings.Contains(text, want) {
				t.Errorf("PDF in %q lacks %q:\n%s", c.lang, want, text)
			}
		}
	}
}

// Bad input is refused with a JSON fault naming what was wrong; who may
// not gets 403; nothing refused takes a number.
func TestNoticeRefusals(t *testing.T) {
	s := start(t)
	deadline := time.Now().Add(48 * time.Hour)
	s.file("a1", "site-01", deadline)
	s.file("a2", "site-01", deadline)
	s.file("b1", "site-02", deadline)
	s.file("done", "site-01", deadline)
	s.act("done", wire.ActWithdraw)
	status, first, b := s.issue(s.sup, wire.NoticeRequest{Site: "site-01", Findings: []string{"a1"}})
	if status != http.StatusCreated {
		t.Fatalf("issuing: %d %s", status, b)
	}
	mgr := apitest.SignIn(t, s.relay.URL(), "mgr1", password)
	for _, c := range []struct {
		name         string
		by           *apitest.Client
		method, path string
		body         string
		status       int
		code, field  string
	}{
		{"duty may not issue", s.duty, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2"]}`, 403, "forbidden", ""},
		{"a site manager may not issue", mgr, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2"]}`, 403, "forbidden", ""},
		{"a site manager reads on the site page", mgr, "GET", "/api/v1/notices", ``, 403, "forbidden", ""},
		{"nor one notice", mgr, "GET", "/api/v1/notices/" + first.ID, ``, 403, "forbidden", ""},
		{"two sites", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2","b1"]}`, 400, "other_site", "findings[1]"},
		{"unknown finding", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["nope"]}`, 400, "unknown_finding", "findings[0]"},
		{"named twice", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2","a2"]}`, 400, "invalid_field", "findings[1]"},
		{"closed", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["done"]}`, 409, "finding_closed", "findings[0]"},
		{"already in a notice", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2","a1"]}`, 409, "finding_in_notice", "findings[1]"},
		{"no site", s.sup, "POST", "/api/v1/notices", `{"findings":["a2"]}`, 400, "invalid_field", "site"},
		{"unknown site", s.sup, "POST", "/api/v1/notices", `{"site":"site-99","findings":["a2"]}`, 400, "unknown_site", "site"},
		{"unknown language", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2"],"lang":"fr"}`, 400, "invalid_field", "lang"},
		{"unknown body field", s.sup, "POST", "/api/v1/notices", `{"site":"site-01","findings":["a2"],"number":"1"}`, 400, "unknown_field", "number"},
		{"unknown parameter", s.sup, "GET", "/api/v1/notices?sort=number", ``, 400, "invalid_field", "sort"},
		{"unknown status", s.sup, "GET", "/api/v1/notices?status=pending", ``, 400, "invalid_field", "status"},
		{"limit past the most", s.sup, "GET", "/api/v1/notices?limit=100000", ``, 400, "invalid_field", "limit"},
		{"unknown notice", s.sup, "GET", "/api/v1/notices/nope", ``, 404, "unknown_notice", ""},
		{"PDF in an unknown language", s.sup, "GET", "/api/v1/notices/" + first.ID + "/pdf?lang=fr", ``, 400, "invalid_field", "lang"},
		{"PDF of an unknown notice", s.sup, "GET", "/api/v1/notices/nope/pdf", ``, 404, "unknown_notice", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body []byte
			if c.body != "" {
				body = []byte(c.body)
			}
			status, b := c.by.Do(c.method, c.path, apitest.JSON, body)
			e, ok := apitest.Refusal(b)
			if status != c.status || !ok || c.code != "" && e.Code != c.code || e.Field != c.field {
				t.Errorf("%d %s, want %d %s field %q", status, b, c.status, c.code, c.field)
			}
		})
	}
	// Nothing refused took a number: the next is the second.
	if status, n, b := s.issue(s.sup, wire.NoticeRequest{Site: "site-01", Findings: []string{"a2"}}); status != http.StatusCreated || n.Seq != 2 {
		t.Fatalf("the next notice: %d seq %d %s", status, n.Seq, b)
	}
	// Another site's manager sees neither the notice nor its PDF.
	other := signIn(t, s.relay.URL(), "mgr2")
	for _, path := range []string{"/site/notices/" + first.ID, "/site/notices/" + first.ID + "/pdf"} {
		if status, page := other.get(path); status != http.StatusNotFound {
			t.Errorf("mgr2 GET %s: %d %.300s", path, status, page)
		}
	}
	if _, page := other.get("/site/"); strings.Contains(page, first.ID) {
		t.Errorf("mgr2's list shows site-01's notice")
	}
	// Its own manager downloads it from the site page, in the page's language.
	own := signIn(t, s.relay.URL(), "mgr1")
	resp, err := own.http.Get(s.relay.URL() + "/site/notices/" + first.ID + "/pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(pdfText(t, pdf), "监督意见书") {
		t.Errorf("mgr1's PDF from the site page: %d", resp.StatusCode)
	}
}

// Supervisors issuing at once get each a number, none twice and none
// skipped; two notices over the same finding: one has it, the other is
// refused.
func TestNoticeNumbersUnderRace(t *testing.T) {
	s := start(t)
	const n = 8
	deadline := time.Now().Add(48 * time.Hour)
	for i := 0; i < n; i++ {
		s.file(fmt.Sprintf("r%d", i), "site-01", deadline)
	}
	s.file("both", "site-02", deadline)
	type result struct {
		status int
		seq    int
		body   []byte
	}
	results := make(chan result, n+2)
	issue := func(req wire.NoticeRequest) {
		body, _ := json.Marshal(req)
		resp, b := apitest.Call(t, "POST", s.relay.URL()+"/api/v1/notices", s.sup.Token, apitest.JSON, body)
		var got wire.Notice
		_ = json.Unmarshal(b, &got)
		results <- result{resp.StatusCode, got.Seq, b}
	}
	for i := 0; i < n; i++ {
		go issue(wire.NoticeRequest{Site: "site-01", Findings: []string{fmt.Sprintf("r%d", i)}})
	}
	go issue(wire.NoticeRequest{Site: "site-02", Findings: []string{"both"}})
	go issue(wire.NoticeRequest{Site: "site-02", Findings: []string{"both"}})
	seen := map[int]bool{}
	refused := 0
	for i := 0; i < n+2; i++ {
		r := <-results
		switch {
		case r.status == http.StatusCreated:
			if seen[r.seq] {
				t.Errorf("number %d given twice", r.seq)
			}
			seen[r.seq] = true
		case r.status == http.StatusConflict && bytes.Contains(r.body, []byte("finding_in_notice")):
			refused++
		default:
			t.Errorf("an issue answered %d %s", r.status, r.body)
		}
	}
	if refused != 1 || len(seen) != n+1 {
		t.Errorf("%d issued, %d refused; want %d and 1", len(seen), refused, n+1)
	}
	for i := 1; i <= n+1; i++ {
		if !seen[i] {
			t.Errorf("number %d skipped: %v", i, seen)
		}
	}
}
