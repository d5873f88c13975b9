package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
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
	"relay/notices":  {"notices", "notice_items", "notice_numbers"},
}

var (
	created = regexp.MustCompile(`(?i)CREATE TABLE (\w+)`)
	used    = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)`)
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
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			text, _ := strconv.Unquote(lit.Value)
			for _, u := range used.FindAllStringSubmatch(text, -1) {
				if o := owner[u[1]]; o != "" && o != pkg {
					t.Errorf("%s: %s's SQL names table %s, which is %s's", fset.Position(lit.Pos()), pkg, u[1], o)
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
