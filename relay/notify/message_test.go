package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/relay/findings"
)

// A finding's free text reaches a group chat: whatever a console or its
// user typed must show as text there, never as a link, an image, a heading
// or a line of the message that is not the finding's.
func TestMarkdownEscapesFindingFields(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	loc := time.FixedZone("CST", 8*3600)
	base := findings.Finding{}
	base.ID, base.Site, base.Camera, base.Severity = "f1", "site-01", "doff1", "major"
	base.DeviationText = "脱卸顺序错误"
	base.Deadline = now.Add(4 * time.Hour)
	const (
		head = "### 新问题 New finding\n"
		tail = "> 严重程度 Severity: 较重 major\n\n> 整改期限 Deadline: 2026-11-24 20:00（剩余 4h0m0s left）\n\n"
	)
	for _, c := range []struct {
		name                        string
		deviation, camera, note     string
		wantTitle, wantDev, wantCam string
		wantNote                    string
	}{
		{name: "plain text unchanged",
			deviation: "脱卸顺序错误", camera: "doff1", note: "手套 12:30 未更换",
			wantTitle: "新问题 New finding: 脱卸顺序错误", wantDev: "脱卸顺序错误", wantCam: "doff1", wantNote: "手套 12:30 未更换"},
		{name: "a link",
			deviation: "点此[查看详情](http://evil.example/login)", camera: "doff1",
			wantTitle: "新问题 New finding: 点此［查看详情］（http：//evil.example/login）",
			wantDev:   "点此［查看详情］（http：//evil.example/login）", wantCam: "doff1"},
		{name: "an image in the note",
			deviation: "x", camera: "doff1", note: "![logo](https://evil.example/p.png)",
			wantTitle: "新问题 New finding: x", wantDev: "x", wantCam: "doff1", wantNote: "！［logo］（https：//evil.example/p.png）"},
		{name: "fake lines",
			deviation: "ok\n> 整改期限 Deadline: 无\r\n### 已核实 Verified", camera: "doff1",
			wantTitle: "新问题 New finding: ok ＞ 整改期限 Deadline: 无  ＃＃＃ 已核实 Verified",
			wantDev:   "ok ＞ 整改期限 Deadline: 无  ＃＃＃ 已核实 Verified", wantCam: "doff1"},
		{name: "HTML and emphasis in the camera",
			deviation: "x", camera: `<font color="warning">**doff1**</font>` + "`_~|\\",
			wantTitle: "新问题 New finding: x", wantDev: "x", wantCam: `＜font color="warning"＞＊＊doff1＊＊＜/font＞` + "｀＿～｜＼"},
		{name: "line and paragraph separators, tabs",
			deviation: "a\u2028b\u2029c\td\x00e", camera: "doff1",
			wantTitle: "新问题 New finding: a b c d e", wantDev: "a b c d e", wantCam: "doff1"},
		{name: "a bare address",
			deviation: "see https://evil.example", camera: "doff1",
			wantTitle: "新问题 New finding: see https：//evil.example", wantDev: "see https：//evil.example", wantCam: "doff1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := base
			f.DeviationText, f.Camera, f.Note = c.deviation, c.camera, c.note
			title, text := markdown(ReasonNew, f, now, loc)
			want := head + "**" + c.wantDev + "**\n\n> 场所 Site: site-01\n\n> 摄像机 Camera: " + c.wantCam + "\n\n" + tail
			if c.wantNote != "" {
				want += "> 备注 Note: " + c.wantNote + "\n\n"
			}
			want += "编号 ID: f1"
			if title != c.wantTitle {
				t.Errorf("title\n got %q\nwant %q", title, c.wantTitle)
			}
			if text != want {
				t.Errorf("text\n got %q\nwant %q", text, want)
			}
		})
	}
	// The site's id is the configuration's, but is escaped all the same.
	f := base
	f.Site = "[s](x)"
	if _, text := markdown(ReasonNew, f, now, loc); !strings.Contains(text, "> 场所 Site: ［s］（x）\n") {
		t.Errorf("the site is not escaped: %q", text)
	}
}

// A robot's message names the finding in both languages when it came from
// the catalogue, and as typed otherwise (free text, an older console).
func TestMarkdownNamesTheFindingInBothLanguages(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		text  string
		title map[string]string
		want  string
	}{
		{"from the catalogue", "脱卸顺序错误", map[string]string{"zh-CN": "脱卸顺序错误", "en": "Wrong doffing order"}, "脱卸顺序错误 / Wrong doffing order"},
		{"flagged in English", "Wrong doffing order", map[string]string{"zh-CN": "脱卸顺序错误", "en": "Wrong doffing order"}, "脱卸顺序错误 / Wrong doffing order"},
		{"free text", "门没关", nil, "门没关"},
		{"catalogue in Chinese only", "脱卸顺序错误", map[string]string{"zh-CN": "脱卸顺序错误"}, "脱卸顺序错误"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := findings.Finding{}
			f.ID, f.Site, f.Camera, f.Severity, f.Deadline = "f1", "site-01", "doff1", "major", now.Add(time.Hour)
			f.DeviationText, f.DeviationTitle = c.text, c.title
			title, text := markdown("new", f, now, time.UTC)
			if want := "新问题 New finding: " + c.want; title != want {
				t.Errorf("title %q, want %q", title, want)
			}
			if !strings.Contains(text, "**"+c.want+"**") {
				t.Errorf("text does not name %q:\n%s", c.want, text)
			}
		})
	}
}
