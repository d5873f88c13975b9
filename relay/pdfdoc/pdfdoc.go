// Package pdfdoc draws the relay's printable documents (the 监督意见书
// notices, the supervisors' reports) as A4 PDFs in Chinese or English: a
// CJK TrueType font embedded (its glyphs in use only), a title, headings,
// paragraphs, tables whose cells wrap Chinese text by the character and
// English by the word, rows that move whole to the next page with the
// table's header drawn again, images, and "page n of N" on every page.
// Plain Go over github.com/go-pdf/fpdf; the callers say what, this says how.
package pdfdoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/qianliyan/qianliyan/internal/fault"
)

// The fonts, each looked for at its paths and the first found used:
// TrueType (glyf) fonts, which fpdf can embed, unlike the OpenType/CFF
// collections (Noto CJK) most systems have. The CJK one has no Latin
// letters or digits, so text is drawn in runs, each in the font that has
// its characters (fontOf). System fonts keep 5 MB out of the relay's
// binary and repository: Debian's fonts-droid-fallback (Apache-2.0) and
// fonts-dejavu-core, which scripts/setup.sh installs. A relay without
// them answers a PDF with 503 pdf_font_missing and serves all else.
var (
	CJKFontPaths = []string{
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
		"/usr/share/fonts/droid/DroidSansFallbackFull.ttf",
	}
	LatinFontPaths = []string{
		"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
		"/usr/share/fonts/dejavu/DejaVuSans.ttf",
	}
)

// The fonts' names inside the documents.
const (
	cjkFont   = "cjk"
	latinFont = "latin"
)

// fontOf is the font that draws r: the Latin one has Latin, Greek,
// Cyrillic, general punctuation and symbols, the CJK one the rest (from
// the CJK radicals on, with the CJK punctuation and full-width forms).
func fontOf(r rune) string {
	if r < 0x2E80 {
		return latinFont
	}
	return cjkFont
}

var fonts struct {
	once       sync.Once
	cjk, latin []byte
	err        error
}

// Fonts returns the fonts' bytes, read once.
func Fonts() (cjk, latin []byte, err error) {
	fonts.once.Do(func() {
		if fonts.cjk, fonts.err = readFont("CJK", "fonts-droid-fallback", CJKFontPaths); fonts.err == nil {
			fonts.latin, fonts.err = readFont("Latin", "fonts-dejavu-core", LatinFontPaths)
		}
	})
	return fonts.cjk, fonts.latin, fonts.err
}

func readFont(what, pkg string, paths []string) ([]byte, error) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the PDF font %s: %w", p, err)
		}
		if len(b) < 12 || !bytes.Equal(b[:4], []byte{0, 1, 0, 0}) && string(b[:4]) != "true" {
			return nil, fmt.Errorf("the PDF font %s is not a TrueType font", p)
		}
		return b, nil
	}
	return nil, fault.New(fault.Unavailable, "pdf_font_missing",
		"no %s TrueType font for PDFs at %s: install %s", what, strings.Join(paths, " or "), pkg)
}

// Page geometry, in millimetres.
const (
	pageW, pageH = 210.0, 297.0
	margin       = 18.0
	footerAt     = 12.0 // the page number's baseline, from the bottom
	contentW     = pageW - 2*margin
	bottom       = pageH - margin
)

// Font sizes, in points, and the line height of body text (mm).
const (
	sizeTitle   = 20.0
	sizeHeading = 13.0
	sizeBody    = 10.5
	sizeSmall   = 8.5
	lineH       = 5.6
	cellPad     = 1.6
)

// Options describe a document.
type Options struct {
	// Lang is zh-CN or en: the page numbers' words.
	Lang string
	// Title is the document's title in its properties (and the title bar
	// of a viewer), Subject and Author its other properties.
	Title, Subject, Author string
	// Header, when set, is a small line at the top of every page after
	// the first (a notice's number, a report's period).
	Header string
	// Created is the document's creation date; the same inputs at the same
	// time give the same bytes.
	Created time.Time
}

// Doc is a document being drawn. Its methods draw at the current
// position, moving down; a failure is kept and returned by Write.
type Doc struct {
	pdf  *fpdf.Fpdf
	opts Options
	// widths caches each rune's width at the body size: tables measure
	// every character they wrap.
	widths map[rune]float64
	images int
}

// New starts a document on its first page.
func New(opts Options) (*Doc, error) {
	cjk, latin, err := Fonts()
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, margin)
	pdf.SetCellMargin(0) // cells pad themselves (cellPad)
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromBytes(cjkFont, "", cjk)
	pdf.AddUTF8FontFromBytes(latinFont, "", latin)
	// fpdf prints a font it cannot parse and goes on without it: setting
	// each is what tells.
	pdf.SetFont(cjkFont, "", sizeBody)
	pdf.SetFont(latinFont, "", sizeBody)
	if pdf.Err() {
		return nil, fmt.Errorf("loading the PDF fonts: %w", pdf.Error())
	}
	if opts.Created.IsZero() {
		opts.Created = time.Now()
	}
	pdf.SetCreationDate(opts.Created)
	pdf.SetModificationDate(opts.Created)
	pdf.SetTitle(opts.Title, true)
	pdf.SetSubject(opts.Subject, true)
	pdf.SetAuthor(opts.Author, true)
	pdf.SetCreator("Qianliyan relay", true)
	pdf.SetLang(opts.Lang)
	d := &Doc{pdf: pdf, opts: opts, widths: map[rune]float64{}}
	pdf.SetHeaderFunc(d.header)
	pdf.SetFooterFunc(d.footer)
	// Replaced at the end by the number of pages in the Latin font, whose
	// digits are all in its subset: the last page's own number is the
	// same.
	pdf.AliasNbPages(totalPages)
	pdf.AddPage()
	return d, nil
}

// totalPages stands for the number of pages until the document is closed.
const totalPages = "{nb}"

func (d *Doc) header() {
	if d.pdf.PageNo() == 1 || d.opts.Header == "" {
		return
	}
	d.pdf.SetTextColor(110, 110, 110)
	d.line(margin, margin-8, contentW, 4, d.opts.Header, sizeSmall, "R")
	d.pdf.SetTextColor(0, 0, 0)
	d.pdf.SetXY(margin, margin)
}

func (d *Doc) footer() {
	n := strconv.Itoa(d.pdf.PageNo())
	text := "第 " + n + " 页 共 " + totalPages + " 页"
	if d.opts.Lang == "en" {
		text = "Page " + n + " of " + totalPages
	}
	d.pdf.SetTextColor(110, 110, 110)
	d.line(margin, pageH-footerAt-2, contentW, 4, text, sizeSmall, "C")
	d.pdf.SetTextColor(0, 0, 0)
}

// room makes sure h millimetres fit below the current position, starting
// a new page when they do not; true when it did.
func (d *Doc) room(h float64) bool {
	if d.pdf.GetY()+h <= bottom {
		return false
	}
	d.pdf.AddPage()
	return true
}

// lines draws text wrapped to width w from x at the current position, one
// line of height h each, moving down; each line goes to the next page if
// it does not fit.
func (d *Doc) lines(text string, x, w, h, size float64, align string) {
	for _, l := range d.wrap(text, w, size) {
		d.room(h)
		y := d.pdf.GetY()
		d.line(x, y, w, h, l, size, align)
		d.pdf.SetXY(margin, y+h)
	}
}

// line draws one line of text in a box at x, y of w×h, aligned L, C or
// R, each run of characters in the font that has them.
func (d *Doc) line(x, y, w, h float64, text string, size float64, align string) {
	tw := d.width(strings.ReplaceAll(text, totalPages, strconv.Itoa(d.pdf.PageNo())), size)
	switch align {
	case "C":
		x += (w - tw) / 2
	case "R":
		x += w - tw
	}
	for _, r := range runs(text) {
		// The number of pages takes the room of this page's number (they
		// are the same on the last page), not of its placeholder.
		rw := d.width(strings.ReplaceAll(r.text, totalPages, strconv.Itoa(d.pdf.PageNo())), size)
		d.pdf.SetFont(r.font, "", size)
		d.pdf.SetXY(x, y)
		d.pdf.CellFormat(rw, h, r.text, "", 0, "L", false, 0, "")
		x += rw
	}
}

type run struct{ font, text string }

// runs splits text into runs of characters of one font each.
func runs(text string) []run {
	var out []run
	start, font := 0, ""
	for i, r := range text {
		f := fontOf(r)
		if f != font && i > start {
			out = append(out, run{font, text[start:i]})
			start = i
		}
		font = f
	}
	if start < len(text) {
		out = append(out, run{font, text[start:]})
	}
	return out
}

// Title draws the document's title, centred and large.
func (d *Doc) Title(text string) {
	d.lines(text, margin, contentW, 10, sizeTitle, "C")
	d.pdf.Ln(2)
}

// Centered draws a line of body text centred (a notice's number).
func (d *Doc) Centered(text string) { d.lines(text, margin, contentW, lineH, sizeBody, "C") }

// Heading draws a section's heading, kept with at least a few lines of
// what follows it.
func (d *Doc) Heading(text string) {
	d.pdf.Ln(2)
	d.room(8 + 3*lineH)
	d.lines(text, margin, contentW, 8, sizeHeading, "L")
}

// Paragraph draws body text wrapped to the page's width; a line break in
// text starts a new line.
func (d *Doc) Paragraph(text string) { d.lines(text, margin, contentW, lineH, sizeBody, "L") }

// RightAligned draws body text flush right (an issuer's name and date).
func (d *Doc) RightAligned(text string) { d.lines(text, margin, contentW, lineH, sizeBody, "R") }

// Fields draws label–value pairs, one a line, the labels in a column.
func (d *Doc) Fields(pairs [][2]string) {
	labelW := 0.0
	for _, p := range pairs {
		labelW = max(labelW, d.width(p[0], sizeBody)+4)
	}
	labelW = min(labelW, contentW/3)
	for _, p := range pairs {
		lines := d.wrap(p[1], contentW-labelW, sizeBody)
		d.room(lineH * float64(len(lines)))
		y := d.pdf.GetY()
		d.pdf.SetTextColor(90, 90, 90)
		d.line(margin, y, labelW, lineH, p[0], sizeBody, "L")
		d.pdf.SetTextColor(0, 0, 0)
		for i, l := range lines {
			d.line(margin+labelW, y+float64(i)*lineH, contentW-labelW, lineH, l, sizeBody, "L")
		}
		d.pdf.SetXY(margin, y+lineH*float64(len(lines)))
	}
}

// Space moves down by mm millimetres (to the next page if they do not fit).
func (d *Doc) Space(mm float64) {
	if !d.room(mm) {
		d.pdf.Ln(mm)
	}
}

// Signature draws a box of height mm with a label at its top left, for a
// signature and seal by hand.
func (d *Doc) Signature(label string, mm float64) {
	d.room(mm)
	x, y := margin, d.pdf.GetY()
	d.pdf.SetDrawColor(150, 150, 150)
	d.pdf.Rect(x, y, contentW, mm, "D")
	d.pdf.SetDrawColor(0, 0, 0)
	for i, l := range d.wrap(label, contentW-2*cellPad, sizeBody) {
		d.line(x+cellPad, y+cellPad+float64(i)*lineH, contentW-2*cellPad, lineH, l, sizeBody, "L")
	}
	d.pdf.SetXY(margin, y+mm)
}

// Write finishes the document and writes it to w.
func (d *Doc) Write(w io.Writer) error {
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("writing the PDF: %w", err)
	}
	return nil
}

// Page returns the page being drawn, from 1.
func (d *Doc) Page() int { return d.pdf.PageNo() }

// width is text's width in millimetres at size points.
func (d *Doc) width(text string, size float64) float64 {
	w := 0.0
	for _, r := range text {
		w += d.runeWidth(r)
	}
	return w * size / sizeBody
}

// runeWidth is r's width in its font at the body size.
func (d *Doc) runeWidth(r rune) float64 {
	if w, ok := d.widths[r]; ok {
		return w
	}
	d.pdf.SetFont(fontOf(r), "", sizeBody)
	w := d.pdf.GetStringWidth(string(r))
	d.widths[r] = w
	return w
}

// wrap breaks text into lines at most width millimetres wide at size
// points: a line may end after any CJK character, and elsewhere at a
// space (a word longer than a line is broken where it must be); no line
// starts with closing punctuation. A line break in text starts a line.
func (d *Doc) wrap(text string, width, size float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		out = append(out, d.wrapLine([]rune(para), width, size)...)
	}
	return out
}

func (d *Doc) wrapLine(rs []rune, width, size float64) []string {
	var lines []string
	scale := size / sizeBody
	for len(rs) > 0 {
		w, cut, lastBreak := 0.0, len(rs), -1
		for i, r := range rs {
			w += d.runeWidth(r) * scale
			if w > width && i > 0 {
				cut = i
				break
			}
			if breakAfter(rs, i) {
				lastBreak = i + 1
			}
		}
		if cut < len(rs) && lastBreak > 0 {
			cut = lastBreak
		}
		lines = append(lines, strings.TrimRight(string(rs[:cut]), " "))
		rs = rs[cut:]
		for len(rs) > 0 && rs[0] == ' ' {
			rs = rs[1:]
		}
	}
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// Closing punctuation no line starts with, and opening punctuation no
// line ends with.
const (
	closing = "，。、；：？！）》」』〕】,.;:?!)"
	opening = "（《「『〔【("
)

// breakAfter tells whether a line may end after rs[i].
func breakAfter(rs []rune, i int) bool {
	if i+1 < len(rs) && strings.ContainsRune(closing, rs[i+1]) || strings.ContainsRune(opening, rs[i]) {
		return false
	}
	r := rs[i]
	return r == ' ' || r == '-' || fontOf(r) == cjkFont || i+1 < len(rs) && fontOf(rs[i+1]) == cjkFont
}
