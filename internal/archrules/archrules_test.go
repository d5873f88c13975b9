package archrules

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/qianliyan/qianliyan/"

// imports maps each package directory (relative to the module root) to the
// imports of its non-test files, with the module prefix cut off project
// imports.
func imports(t *testing.T) map[string]map[string]bool {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		if out[dir] == nil {
			out[dir] = map[string]bool{}
		}
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out[dir][strings.TrimPrefix(p, module)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func under(pkg, room string) bool { return pkg == room || strings.HasPrefix(pkg, room+"/") }

func TestRoomsImportOnlyWhatTheyMay(t *testing.T) {
	all := imports(t)
	if len(all) < 20 {
		t.Fatalf("read only %d packages; the walk is broken", len(all))
	}
	rules := []struct {
		room    string
		forbids func(imp string) bool
		why     string
	}{
		{"checklist", func(i string) bool {
			return under(i, "relay") || under(i, "console") || under(i, "cmd")
		}, "templates are data that neither the relay nor the console owns"},
		{"relay", func(i string) bool { return under(i, "console") || under(i, "cmd") || strings.Contains(i, "sitesim") }, "the relay knows nothing of its clients"},
		{"console", func(i string) bool {
			return under(i, "relay") && !under(i, "relay/wire") || under(i, "cmd") || strings.Contains(i, "sitesim")
		}, "the console reaches the relay only through its wire types and HTTP"},
		{"internal", func(i string) bool { return under(i, "relay") || under(i, "console") || under(i, "cmd") }, "shared packages serve both sides and depend on neither"},
		{"relay/wire", func(i string) bool {
			// the standard library's value packages, and the one bilingual text type
			return i != "time" && i != "encoding/json" && i != "strconv" && i != "internal/bilingual"
		}, "wire types are types only, so a client imports no server code"},
	}
	for pkg, imps := range all {
		for _, r := range rules {
			// Test-support packages (relay/relaytest, console/mediatest…)
			// serve tests only, which may start the real thing across rooms.
			if !under(pkg, r.room) || strings.HasSuffix(pkg, "test") {
				continue
			}
			for imp := range imps {
				if r.forbids(imp) && imp != pkg {
					t.Errorf("%s imports %s: %s", pkg, imp, r.why)
				}
			}
		}
	}
}

// The cores are plain Go: protocols and pages are adapters around them, so
// a test of a core needs no network.
func TestCoresHaveNoHTTP(t *testing.T) {
	all := imports(t)
	cores := []string{
		"checklist", "relay/hub", "relay/findings", "relay/store", "relay/auth", "relay/health", "relay/wire", "relay/runs", "relay/shifts", "relay/coverage", "relay/stats", "relay/review",
		"console/store", "console/wall", "console/evidence", "console/clip", "console/events", "console/findings",
		"internal/fault", "internal/avc", "internal/sqlitedb",
	}
	for _, c := range cores {
		imps, ok := all[c]
		if !ok {
			t.Errorf("core %s has no Go files; update the list and docs/ARCHITECTURE.md", c)
			continue
		}
		for imp := range imps {
			if under(imp, "net/http") || imp == "internal/httpapi" {
				t.Errorf("core %s imports %s", c, imp)
			}
		}
	}
}

func TestNoGrabBagPackages(t *testing.T) {
	for pkg := range imports(t) {
		switch filepath.Base(pkg) {
		case "util", "utils", "common", "helpers", "misc", "shared":
			t.Errorf("package %s is named for nothing it does", pkg)
		}
	}
	if _, err := os.Stat("../../docs/ARCHITECTURE.md"); err != nil {
		t.Errorf("docs/ARCHITECTURE.md, which these rules come from: %v", err)
	}
}

// Test support is for tests: no product package may pull it into a binary.
func TestProductDoesNotImportTestSupport(t *testing.T) {
	for pkg, imps := range imports(t) {
		if strings.HasSuffix(pkg, "test") {
			continue
		}
		for imp := range imps {
			if strings.HasSuffix(imp, "test") {
				t.Errorf("%s imports the test-support package %s", pkg, imp)
			}
		}
	}
}
