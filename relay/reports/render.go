package reports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"

	"github.com/xuri/excelize/v2"

	"github.com/qianliyan/qianliyan/relay/pdfdoc"
	"github.com/qianliyan/qianliyan/relay/phrases"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Formats a report is made in, and their content types.
var ContentTypes = map[string]string{
	"json": "application/json",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"csv":  "text/csv; charset=utf-8",
	"pdf":  "application/pdf",
}

// FileName is the report's download name, e.g. report-weekly-2026-W49.xlsx.
func FileName(rep wire.Report, format string) string {
	return fmt.Sprintf("report-%s-%s.%s", rep.Period, rep.Label, format)
}

// bom makes spreadsheets read a CSV as UTF-8 (Excel takes it for the
// system's code page without it, and the Chinese comes out garbled).
const bom = "\uFEFF"

// WriteCSV writes the report as CSV: UTF-8 with a BOM, one section per
// breakdown (its name, its header, its rows and a total row), a blank line
// between sections.
func WriteCSV(w io.Writer, rep wire.Report) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return fmt.Errorf("writing the CSV: %w", err)
	}
	cw := csv.NewWriter(w)
	lang := rep.Lang
	_ = cw.Write([]string{title(rep), periodText(rep)})
	for _, t := range tables(rep) {
		_ = cw.Write(nil)
		_ = cw.Write([]string{phrases.In(lang, t.name)})
		_ = cw.Write(headers(t, lang))
		for _, r := range t.rows {
			_ = cw.Write(t.cells(r))
		}
		if len(t.sum) > 0 {
			tot := t.cells(t.totals())
			tot[0] = phrases.In(lang, "report_total")
			_ = cw.Write(tot)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing the CSV: %w", err)
	}
	return nil
}

func headers(t table, lang string) []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = phrases.In(lang, c)
	}
	return out
}

// WriteXLSX writes the report as a workbook: one sheet per breakdown, its
// header in row 1, its rows, and a total row of SUM formulas (the rates
// are formulas too), so a reader sees how each total is made.
func WriteXLSX(w io.Writer, rep wire.Report) error {
	x := excelize.NewFile()
	defer x.Close()
	lang := rep.Lang
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("making the XLSX: %w", err)
	}
	percent, err := x.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	if err != nil {
		return fmt.Errorf("making the XLSX: %w", err)
	}
	for i, t := range tables(rep) {
		name := phrases.In(lang, t.name)
		if i == 0 {
			if err := x.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("making the XLSX: %w", err)
			}
		} else if _, err := x.NewSheet(name); err != nil {
			return fmt.Errorf("making the XLSX: %w", err)
		}
		if err := sheet(x, name, t, lang, bold, percent); err != nil {
			return fmt.Errorf("making the XLSX sheet %s: %w", name, err)
		}
	}
	x.SetActiveSheet(0)
	if _, err := x.WriteTo(w); err != nil {
		return fmt.Errorf("writing the XLSX: %w", err)
	}
	return nil
}

func cell(col, row int) string {
	name, _ := excelize.CoordinatesToCellName(col+1, row) // col, row ≥ 1: cannot fail
	return name
}

func sheet(x *excelize.File, name string, t table, lang string, bold, percent int) error {
	head := headers(t, lang)
	for c, h := range head {
		if err := x.SetCellStr(name, cell(c, 1), h); err != nil {
			return err
		}
		colName, _ := excelize.ColumnNumberToName(c + 1)
		if err := x.SetColWidth(name, colName, colName, 8+6*t.widths[c]); err != nil {
			return err
		}
	}
	if err := x.SetRowStyle(name, 1, 1, bold); err != nil {
		return err
	}
	rate := func(row int) error {
		r := t.rate
		f := fmt.Sprintf(`IF(%s=0,"",%s/%s)`, cell(r.den, row), cell(r.num, row), cell(r.den, row))
		if err := x.SetCellFormula(name, cell(r.col, row), f); err != nil {
			return err
		}
		return x.SetCellStyle(name, cell(r.col, row), cell(r.col, row), percent)
	}
	for i, r := range t.rows {
		row := i + 2
		for c, v := range r {
			if v == nil {
				continue
			}
			if err := x.SetCellValue(name, cell(c, row), v); err != nil {
				return err
			}
		}
		if t.rate != nil {
			if err := rate(row); err != nil {
				return err
			}
		}
	}
	if len(t.sum) == 0 {
		return nil
	}
	total := len(t.rows) + 2
	if err := x.SetCellStr(name, cell(0, total), phrases.In(lang, "report_total")); err != nil {
		return err
	}
	for _, c := range t.sum {
		f := "0"
		if len(t.rows) > 0 {
			f = fmt.Sprintf("SUM(%s:%s)", cell(c, 2), cell(c, total-1))
		}
		if err := x.SetCellFormula(name, cell(c, total), f); err != nil {
			return err
		}
	}
	if t.rate != nil {
		if err := rate(total); err != nil {
			return err
		}
	}
	return x.SetRowStyle(name, total, total, bold)
}

// TotalRow is the row of a sheet's totals in the XLSX (1-based): after
// the header and the rows.
func TotalRow(rows int) int { return rows + 2 }

// WritePDF writes the report as an A4 PDF (relay/pdfdoc): its title and
// period, then each breakdown as a table with its total row.
func WritePDF(w io.Writer, rep wire.Report) error {
	lang := rep.Lang
	d, err := pdfdoc.New(pdfdoc.Options{Lang: lang, Title: title(rep) + " " + rep.Label, Subject: title(rep),
		Author: "Qianliyan", Header: title(rep) + " " + rep.Label, Created: rep.Made})
	if err != nil {
		return err
	}
	d.Title(title(rep))
	d.Centered(periodText(rep))
	for _, t := range tables(rep) {
		d.Heading(phrases.In(lang, t.name))
		cols := make([]pdfdoc.Column, len(t.cols))
		for i, c := range t.cols {
			cols[i] = pdfdoc.Column{Header: phrases.In(lang, c), Width: t.widths[i]}
			if slices.Contains(t.sum, i) || t.rate != nil && t.rate.col == i {
				cols[i].Align = "R" // numbers
			}
		}
		tab := d.Table(cols...)
		rows := t.rows
		if t.name == "report_summary" {
			rows = rows[1:] // the period, said under the title
		}
		for _, r := range rows {
			tab.Rows(t.cells(r))
		}
		if len(t.sum) > 0 {
			tot := t.cells(t.totals())
			tot[0] = phrases.In(lang, "report_total")
			tab.Rows(tot)
		}
	}
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}
