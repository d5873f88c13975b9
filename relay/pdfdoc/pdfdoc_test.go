package pdfdoc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pdfText is what pdftotext reads from a PDF, one string per page.
func pdfText(t *testing.T, pdf []byte) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils, scripts/setup.sh): %v", err)
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A document in Chinese whose table runs over pages: the text is there to
// be read back (the font embedded, its glyphs mapped to Unicode), the
// header row comes again on the next page, and every page says its number
// of how many.
func TestChineseDocumentReadsBack(t *testing.T) {
	for _, c := range []struct {
		lang, pageWords string
	}{{"zh-CN", "第 %d 页 共 %d 页"}, {"en", "Page %d of %d"}} {
		t.Run(c.lang, func(t *testing.T) {
			d, err := New(Options{Lang: c.lang, Title: "监督意见书", Header: "千监意〔2026〕0001号", Created: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			d.Title("卫生监督意见书")
			d.Centered("千监意〔2026〕0001号")
			d.Fields([][2]string{{"被监督单位", "城东隔离酒店（滨江区）"}, {"Issued by", "sup"}})
			d.Paragraph("经视频监督检查，发现你单位存在下列问题，现提出如下监督意见，请按要求整改并于期限前上报整改情况。")
			thumb, err := Thumbnail(testJPEG(t, 640, 360), 240, 180)
			if err != nil {
				t.Fatal(err)
			}
			tbl := d.Table(Column{Header: "序号", Width: 1, Align: "C"}, Column{Header: "截图", Width: 3}, Column{Header: "存在问题", Width: 5}, Column{Header: "整改期限", Width: 3.2})
			for i := 1; i <= 30; i++ {
				tbl.Row(Text(fmt.Sprint(i)), Cell{Image: thumb, ImageH: 20}, Text(fmt.Sprintf("第%d项：脱卸防护服前未进行手卫生，且未按规定顺序摘除护目镜 wrong order of doffing", i)), Text("2026-12-05 18:00"))
			}
			d.Signature("被监督单位签收：", 25)
			var buf bytes.Buffer
			if err := d.Write(&buf); err != nil {
				t.Fatal(err)
			}
			pages := pdfText(t, buf.Bytes())
			if len(pages) < 2 {
				t.Fatalf("%d pages, want the table to run over at least 2", len(pages))
			}
			all := strings.Join(pages, "\n")
			for _, want := range []string{"卫生监督意见书", "千监意〔2026〕0001号", "城东隔离酒店（滨江区）", "被监督单位签收", "第30项", "2026-12-05 18:00", "wrong order"} {
				if !strings.Contains(all, want) {
					t.Errorf("the PDF's text lacks %q:\n%s", want, all)
				}
			}
			for i, p := range pages {
				// pdftotext leaves out the spaces between Chinese and digits.
				if want := fmt.Sprintf(c.pageWords, i+1, len(pages)); !strings.Contains(squeeze(p), squeeze(want)) {
					t.Errorf("page %d lacks %q:\n%s", i+1, want, p)
				}
				if !strings.Contains(p, "存在问题") && strings.Contains(p, "项：") {
					t.Errorf("page %d has rows but not the table's header:\n%s", i+1, p)
				}
			}
			if !strings.Contains(pages[1], "千监意〔2026〕0001号") {
				t.Errorf("page 2 lacks the running header:\n%s", pages[1])
			}
			fonts, err := exec.Command("pdffonts", writeTemp(t, buf.Bytes())).Output()
			if err != nil {
				t.Fatal(err)
			}
			// emb and uni: embedded, with a map to Unicode (pdftotext reads it).
			if !regexp.MustCompile(`CID TrueType\s+Identity-H\s+yes\s+\S+\s+yes`).Match(fonts) {
				t.Errorf("the font is not embedded with a Unicode map:\n%s", fonts)
			}
			// Its glyphs in use only: the whole font is 4 MB.
			if buf.Len() > 1<<20 {
				t.Errorf("the PDF is %d bytes: the font's unused glyphs went in", buf.Len())
			}
		})
	}
}

func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Lines never run past their width: Chinese breaks anywhere, English at
// spaces, and no line starts with closing punctuation.
func TestWrapKeepsToTheWidth(t *testing.T) {
	d, err := New(Options{Lang: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, text string
		width      float64
	}{
		{"chinese", strings.Repeat("未按规定顺序摘除护目镜，", 8), 40},
		{"english", strings.Repeat("Goggles removed before the coverall ", 6), 50},
		{"mixed", "第1项：PPE doffing 顺序错误（goggles before gown），须立即纠正。", 30},
		{"long word", strings.Repeat("x", 200), 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := d.wrap(c.text, c.width, sizeBody)
			if len(lines) < 2 {
				t.Fatalf("%d line(s), want it wrapped: %q", len(lines), lines)
			}
			joined := strings.ReplaceAll(strings.Join(lines, ""), " ", "")
			if joined != strings.ReplaceAll(strings.TrimSpace(c.text), " ", "") {
				t.Errorf("wrapping lost text:\n%q\n%q", joined, c.text)
			}
			for _, l := range lines {
				if w := d.width(l, sizeBody); w > c.width+0.01 {
					t.Errorf("line %q is %.1f mm, over %.1f", l, w, c.width)
				}
				if l != "" && strings.ContainsRune("，。）)", []rune(l)[0]) {
					t.Errorf("line %q starts with closing punctuation", l)
				}
			}
			if c.name == "english" {
				for _, l := range lines[:len(lines)-1] {
					if strings.HasSuffix(l, "Goggl") || strings.HasSuffix(l, "cove") {
						t.Errorf("a word was broken: %q", l)
					}
				}
			}
		})
	}
}

func TestThumbnailKeepsProportions(t *testing.T) {
	for _, c := range []struct {
		w, h, maxW, maxH, wantW, wantH int
	}{
		{1920, 1080, 320, 240, 320, 180},
		{300, 600, 320, 240, 120, 240},
		{100, 80, 320, 240, 100, 80}, // never enlarged
	} {
		b, err := Thumbnail(testJPEG(t, c.w, c.h), c.maxW, c.maxH)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != c.wantW || cfg.Height != c.wantH {
			t.Errorf("%dx%d in %dx%d: %dx%d, want %dx%d", c.w, c.h, c.maxW, c.maxH, cfg.Width, cfg.Height, c.wantW, c.wantH)
		}
	}
	if _, err := Thumbnail([]byte("not an image"), 10, 10); err == nil {
		t.Error("a thumbnail of bytes that are no image: no error")
	}
}
