package pdfdoc

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // thumbnails of PNG photos

	"github.com/go-pdf/fpdf"
)

// fpdfJPEG is how a cell's image is read: a JPEG, always.
var fpdfJPEG = fpdf.ImageOptions{ImageType: "JPG"}

// Column is one column of a table.
type Column struct {
	Header string
	// Width is the column's share of the page's width: the widths of a
	// table's columns are scaled to fill it.
	Width float64
	// Align is L (the default), C or R (numbers).
	Align string
}

// Cell is what a cell shows: text, an image, or both (the image first).
type Cell struct {
	Text string
	// Image is a JPEG (Thumbnail makes one of any JPEG or PNG); it is
	// drawn at most ImageH millimetres high, in the column's width.
	Image  []byte
	ImageH float64
}

// Text is a cell of text.
func Text(s string) Cell { return Cell{Text: s} }

// Table is a table being drawn: its header row, then the rows added.
type Table struct {
	d      *Doc
	cols   []Column
	widths []float64
	shade  bool
}

// Table starts a table with its header row.
func (d *Doc) Table(cols ...Column) *Table {
	total := 0.0
	for _, c := range cols {
		total += c.Width
	}
	t := &Table{d: d, cols: cols, widths: make([]float64, len(cols))}
	for i, c := range cols {
		t.widths[i] = contentW * c.Width / total
	}
	d.room(t.headerHeight() + 2*lineH)
	t.header()
	return t
}

func (t *Table) headerHeight() float64 {
	n := 1
	for i, c := range t.cols {
		n = max(n, len(t.d.wrap(c.Header, t.widths[i]-2*cellPad, sizeBody)))
	}
	return float64(n)*lineH + 2*cellPad
}

func (t *Table) header() {
	cells := make([]Cell, len(t.cols))
	for i, c := range t.cols {
		cells[i] = Text(c.Header)
	}
	t.d.pdf.SetFillColor(232, 236, 241)
	t.draw(cells)
}

// Row draws a row of cells (fewer than the columns leave the rest empty).
// A row that does not fit below goes whole to the next page, under the
// header again; one taller than a page is drawn from the top of one.
func (t *Table) Row(cells ...Cell) {
	h := t.height(cells)
	if t.d.room(h) {
		t.header()
	}
	t.shade = !t.shade
	if t.shade {
		t.d.pdf.SetFillColor(255, 255, 255)
	} else {
		t.d.pdf.SetFillColor(247, 248, 250)
	}
	t.draw(cells)
}

// Rows draws rows of text.
func (t *Table) Rows(rows ...[]string) {
	for _, r := range rows {
		cells := make([]Cell, len(r))
		for i, s := range r {
			cells[i] = Text(s)
		}
		t.Row(cells...)
	}
}

func (t *Table) height(cells []Cell) float64 {
	h := lineH
	for i, c := range cells {
		if i >= len(t.cols) {
			break
		}
		ch := float64(len(t.d.wrap(c.Text, t.widths[i]-2*cellPad, sizeBody))) * lineH
		if c.Text == "" {
			ch = 0
		}
		if len(c.Image) > 0 {
			ch += c.imageHeight(t.widths[i]-2*cellPad) + 1
		}
		h = max(h, ch)
	}
	return h + 2*cellPad
}

// imageHeight is the height the cell's image is drawn at in width w.
func (c Cell) imageHeight(w float64) float64 {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(c.Image))
	if err != nil || cfg.Width == 0 {
		return 0
	}
	h := w * float64(cfg.Height) / float64(cfg.Width)
	if c.ImageH > 0 && h > c.ImageH {
		h = c.ImageH
	}
	return h
}

func (t *Table) draw(cells []Cell) {
	pdf := t.d.pdf
	h := t.height(cells)
	x, y := margin, pdf.GetY()
	pdf.SetDrawColor(170, 170, 170)
	for i, w := range t.widths {
		pdf.Rect(x, y, w, h, "DF")
		var c Cell
		if i < len(cells) {
			c = cells[i]
		}
		cy := y + cellPad
		if len(c.Image) > 0 {
			cy += t.d.image(c, x+cellPad, cy, w-2*cellPad) + 1
		}
		if c.Text != "" {
			align := t.cols[i].Align
			if align == "" {
				align = "L"
			}
			for j, line := range t.d.wrap(c.Text, w-2*cellPad, sizeBody) {
				t.d.line(x+cellPad, cy+float64(j)*lineH, w-2*cellPad, lineH, line, sizeBody, align)
			}
		}
		x += w
	}
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetXY(margin, y+h)
}

// image draws c's image at x, y within width w, returning its height.
func (d *Doc) image(c Cell, x, y, w float64) float64 {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(c.Image))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		return 0
	}
	h := c.imageHeight(w)
	iw := h * float64(cfg.Width) / float64(cfg.Height)
	d.images++
	name := fmt.Sprintf("img%d", d.images)
	d.pdf.RegisterImageOptionsReader(name, fpdfJPEG, bytes.NewReader(c.Image))
	d.pdf.ImageOptions(name, x, y, iw, h, false, fpdfJPEG, 0, "")
	return h
}

// Thumbnail returns a JPEG of a JPEG or PNG image at most maxW×maxH
// pixels (its proportions kept): a snapshot as a document shows it, a
// fraction of the original's bytes.
func Thumbnail(src []byte, maxW, maxH int) ([]byte, error) {
	img, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("reading an image for a thumbnail: %w", err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return nil, fmt.Errorf("reading an image for a thumbnail: empty")
	}
	scale := min(1, float64(maxW)/float64(w), float64(maxH)/float64(h))
	tw, th := max(1, int(float64(w)*scale)), max(1, int(float64(h)*scale))
	out := image.NewRGBA(image.Rect(0, 0, tw, th))
	// Each pixel the average of the source pixels it covers (a box
	// filter): sharp enough at these sizes, and no dependency.
	for ty := 0; ty < th; ty++ {
		y0, y1 := b.Min.Y+ty*h/th, b.Min.Y+max((ty+1)*h/th, ty*h/th+1)
		for tx := 0; tx < tw; tx++ {
			x0, x1 := b.Min.X+tx*w/tw, b.Min.X+max((tx+1)*w/tw, tx*w/tw+1)
			var r, g, bl, n uint64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, _ := img.At(sx, sy).RGBA()
					r, g, bl, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), n+1
				}
			}
			i := out.PixOffset(tx, ty)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = uint8(r/n>>8), uint8(g/n>>8), uint8(bl/n>>8), 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("writing a thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}
