package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// MaxExportRows bounds a review-list export: a filter selecting more is
// refused (narrow it), so that no export holds the relay for minutes.
const MaxExportRows = 100000

// exportColumns are the review list's columns in an export (phrase keys).
var exportColumns = []string{"id", "report_observed", "report_district", "site", "site_type", "report_activity",
	"report_deviation", "severity", "status", "deadline", "overdue", "observer", "note", "report_reviewed", "report_outcomes"}

// exportRow is a review item as an export's cells.
func exportRow(it wire.ReviewItem, lang string, loc *time.Location) []string {
	title := bilingual.Text(it.DeviationTitle).In(lang)
	if title == "" {
		title = it.DeviationText
	}
	var outcomes []string
	for _, o := range it.Outcomes {
		outcomes = append(outcomes, phrases.In(lang, "report_outcome_"+o.Kind)+" "+o.DocNumber)
	}
	yes := func(b bool) string {
		if b {
			return phrases.In(lang, "report_yes")
		}
		return ""
	}
	tpl := it.TemplateID
	if tpl == "" {
		tpl = "-"
	}
	return []string{it.ID, it.ObservedAt.In(loc).Format("2006-01-02 15:04"), it.District.In(lang), it.SiteName.In(lang),
		phrases.In(lang, "site_type_"+it.SiteType), tpl, title, phrases.In(lang, it.Severity), phrases.In(lang, string(it.Status)),
		it.Deadline.In(loc).Format("2006-01-02 15:04"), yes(it.Overdue), it.Observer, it.Note, yes(it.Review.Reviewed),
		strings.Join(outcomes, "; ")}
}

// Export writes review items as a spreadsheet (format csv or xlsx).
type Export struct {
	Format string
	Lang   string
	Loc    *time.Location
	csv    *csv.Writer
	xlsx   *excelize.File
	sw     *excelize.StreamWriter
	row    int
	w      io.Writer
}

// NewExport starts an export to w with its header row.
func NewExport(w io.Writer, format, lang string, loc *time.Location) (*Export, error) {
	e := &Export{Format: format, Lang: lang, Loc: loc, w: w}
	head := make([]string, len(exportColumns))
	for i, c := range exportColumns {
		head[i] = phrases.In(lang, c)
	}
	switch format {
	case "csv":
		if _, err := io.WriteString(w, bom); err != nil {
			return nil, fmt.Errorf("writing the export: %w", err)
		}
		e.csv = csv.NewWriter(w)
		return e, e.Add(head)
	case "xlsx":
		e.xlsx = excelize.NewFile()
		name := phrases.In(lang, "report_review")
		if err := e.xlsx.SetSheetName("Sheet1", name); err != nil {
			return nil, fmt.Errorf("making the export: %w", err)
		}
		sw, err := e.xlsx.NewStreamWriter(name)
		if err != nil {
			return nil, fmt.Errorf("making the export: %w", err)
		}
		e.sw = sw
		return e, e.Add(head)
	}
	return nil, fmt.Errorf("no export format %q", format)
}

// Add writes a row of cells.
func (e *Export) Add(cells []string) error {
	if e.csv != nil {
		return e.csv.Write(cells)
	}
	e.row++
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = c
	}
	return e.sw.SetRow(cell(0, e.row), vals)
}

// Item writes one review item.
func (e *Export) Item(it wire.ReviewItem) error { return e.Add(exportRow(it, e.Lang, e.Loc)) }

// Close finishes the export.
func (e *Export) Close() error {
	if e.csv != nil {
		e.csv.Flush()
		return e.csv.Error()
	}
	defer e.xlsx.Close()
	if err := e.sw.Flush(); err != nil {
		return fmt.Errorf("finishing the export: %w", err)
	}
	if _, err := e.xlsx.WriteTo(e.w); err != nil {
		return fmt.Errorf("writing the export: %w", err)
	}
	return nil
}
