package reports_test

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/reports"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// sample is a week's report as relay/reports builds it.
func sample(lang string) wire.Report {
	rate := 0.75
	return wire.Report{Period: wire.PeriodWeekly, Label: "2026-W49", Lang: lang, TimeZone: "Asia/Shanghai",
		From: time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC),
		Made:    time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC),
		Figures: wire.ReportFigures{SitesSupervised: 2, Checks: 7, Findings: 5, OrderedToRectify: 4, Rectified: 2, Verified: 1, Overdue: 1},
		Problems: []wire.ReportGroup{
			{Key: "doffing", Label: bilingual.New("脱防护服", "Doffing"), Count: 4, Deviations: []wire.ReportGroup{
				{Key: "gloves", Label: bilingual.New("摘手套顺序错误", "Gloves out of order"), Count: 3},
				{Key: "hygiene", Label: bilingual.New("未手卫生", "No hand hygiene"), Count: 1}}},
			{Key: "-", Count: 1},
		},
		Sites: []wire.ReportSite{
			{Site: "site-01", Name: bilingual.New("东城一号隔离点", "Dongcheng 1"), District: bilingual.New("东城区", "Dongcheng"), Checks: 4, Findings: 3, OrderedToRectify: 3, Rectified: 2, Verified: 1, Overdue: 0},
			{Site: "site-02", Name: bilingual.New("西城二号隔离点", "Xicheng 2"), District: bilingual.New("西城区", "Xicheng"), Checks: 3, Findings: 2, OrderedToRectify: 1, Overdue: 1},
		},
		Checks: []wire.ReportChecks{{Activity: "doffing", Checks: 7, StepsObserved: 40, StepsCorrect: 30, ComplianceRate: &rate}},
		Coverage: []wire.ReportShift{{Shift: wire.Shift{ID: "day", Name: bilingual.New("白班", "Day shift"),
			Start: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)},
			Sites: 2, SitesMet: 1, MinutesWatched: 95}},
	}
}

// The workbook has a sheet per breakdown, named in the report's language,
// and each total row is formulas that add up to the report's figures.
func TestXLSXSheetsAndTotals(t *testing.T) {
	for _, c := range []struct {
		lang   string
		sheets []string
		total  string
	}{
		{bilingual.ZH, []string{"汇总", "问题分类", "机构", "检查户次", "值守覆盖"}, "合计"},
		{bilingual.EN, []string{"Summary", "Problems by category", "Sites", "Checks", "Watch coverage"}, "Total"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			rep := sample(c.lang)
			var buf bytes.Buffer
			if err := reports.WriteXLSX(&buf, rep); err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			if got := x.GetSheetList(); strings.Join(got, "|") != strings.Join(c.sheets, "|") {
				t.Fatalf("sheets %q, want %q", got, c.sheets)
			}
			calc := func(sheet, cell string) int {
				t.Helper()
				f, _ := x.GetCellFormula(sheet, cell)
				if f == "" {
					t.Fatalf("%s!%s is not a formula", sheet, cell)
				}
				v, err := x.CalcCellValue(sheet, cell)
				if err != nil {
					t.Fatal(err)
				}
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("%s!%s = %q", sheet, cell, v)
				}
				return n
			}
			s := c.sheets
			if a, _ := x.GetCellValue(s[2], "A4"); a != c.total {
				t.Errorf("the sites' total row says %q", a)
			}
			for _, chk := range []struct {
				sheet, cell string
				want        int
			}{
				{s[1], "C5", rep.Figures.Findings}, // 3 + 1 + the free text's 1
				{s[2], "C4", rep.Figures.Checks},   // checks
				{s[2], "D4", rep.Figures.Findings}, // findings
				{s[2], "E4", rep.Figures.OrderedToRectify},
				{s[2], "F4", rep.Figures.Rectified},
				{s[2], "G4", rep.Figures.Verified},
				{s[2], "H4", rep.Figures.Overdue},
				{s[3], "B3", 7},
				{s[4], "F3", 95},
			} {
				if got := calc(chk.sheet, chk.cell); got != chk.want {
					t.Errorf("%s!%s = %d, want %d", chk.sheet, chk.cell, got, chk.want)
				}
			}
			if v, err := x.CalcCellValue(s[3], "E3"); err != nil || v != "0.75" {
				t.Errorf("the compliance rate's total is %q (%v), want 0.75", v, err)
			}
			if v, _ := x.GetCellValue(s[0], "B4"); v != "7" {
				t.Errorf("the summary's checks: %q", v)
			}
		})
	}
}

// The CSV starts with the UTF-8 BOM (spreadsheets read it as UTF-8) and
// keeps the Chinese intact, with a total row per breakdown.
func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := reports.WriteCSV(&buf, sample(bilingual.ZH)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no BOM: % x", b[:8])
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"监督周报", "东城一号隔离点", "摘手套顺序错误", "其他（自由描述）", "合计,,7,5,4,2,1,1", "75.0%"} {
		if !strings.Contains(text, want) {
			t.Errorf("the CSV lacks %q:\n%s", want, text)
		}
	}
	if len(rows) < 20 {
		t.Errorf("%d rows", len(rows))
	}
}

// The PDF reads back (pdftotext) with its Chinese title, the breakdowns'
// headings and their totals.
func TestPDF(t *testing.T) {
	var buf bytes.Buffer
	if err := reports.WritePDF(&buf, sample(bilingual.ZH)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext (poppler-utils, scripts/setup.sh): %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"监督周报", "2026-W49", "问题分类", "摘手套顺序错误", "东城一号隔离点", "检查户次", "值守覆盖", "合计", "75.0%"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
}
