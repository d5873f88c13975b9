package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// owners are the packages that own the relay database's tables, as the
// package doc lists them.
var owners = map[string][]string{
	"relay/store":    {"sites", "cameras", "camera_sources", "users", "user_sites", "publish_tokens", "whep_sessions"},
	"relay/findings": {"findings", "finding_events", "finding_actions", "finding_evidence"},
	"relay/notify":   {"notify_cursor", "notify_deliveries"},
	"relay/runs":     {"runs", "run_events", "run_steps", "run_findings"},
	"relay/shifts":   {"duties", "handovers", "handover_receipts", "camera_states"},
	"relay/coverage": {"watch_intervals", "watch_spans", "watch_days", "watch_consoles"},
	"relay/audit":    {"audit_exports"},
	"relay/reports":  {"report_sends"},
	"relay/stats":    {"followups"},
	"relay/review":   {"review_marks", "review_comments", "review_outcomes", "review_fts", "review_docs", "review_doc_words", "review_index_state", "review_counts", "review_site_counts", "review_value_counts", "review_hours"},
	"relay/notices":  {"notices", "notice_items", "notice_numbers"},
}

// readers read tables of other owners, and never write them: the
// supervisors' review and statistics (issue 13) count the findings with
// one SQL condition on them (review.Store.Where), which no owner's Go
// interface could carry without reading every finding into memory.
var readers = map[string][]string{
	"relay/review": {"findings", "finding_events", "sites", "run_findings"},
	"relay/stats":  {"findings", "finding_events"},
}

// fillers write a whole database outside a running relay: the seed of a
// duty room's months of work for tests and benchmarks (relay/seed), which
// at a million findings would take hours through the owners' calls one
// finding at a time. The relay itself never runs their code.
var fillers = []string{"relay/seed"}

var (
	created = regexp.MustCompile(`(?i)CREATE TABLE (\w+)`)
	used    = regexp.MustCompile(`(?i)\b(DELETE\s+FROM|FROM|JOIN|INTO|UPDATE)\s+(\w+)`)
)

// Every table the migrations make has one owner, and no package's SQL
// names a table it does not own.
func TestEachTableHasOneOwner(t *testing.T) {
	owner := map[string]string{}
	for pkg, tables := range owners {
		for _, table := range tables {
			owner[table] = pkg
		}
	}
	ms, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		b, err := migrations.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range created.FindAllStringSubmatch(string(b), -1) {
			if owner[c[1]] == "" {
				t.Errorf("%s creates table %s, which no package owns: name its owner in the package doc and in owners", m, c[1])
			}
		}
	}

	fset := token.NewFileSet()
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Join("relay", filepath.Dir(strings.TrimPrefix(path, "../"))))
		if slices.Contains(fillers, pkg) {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			text, _ := strconv.Unquote(lit.Value)
			for _, u := range used.FindAllStringSubmatch(text, -1) {
				verb, table := strings.ToUpper(u[1]), u[2]
				read := verb == "FROM" || verb == "JOIN"
				if read && slices.Contains(readers[pkg], table) {
					continue
				}
				if o := owner[table]; o != "" && o != pkg {
					t.Errorf("%s: %s's SQL names table %s, which is %s's", fset.Position(lit.Pos()), pkg, table, o)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
