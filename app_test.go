package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wailsapp/wails/v2/pkg/options"
)

func TestSecondWallURL(t *testing.T) {
	const page = "http://127.0.0.1:41234/?token=s3cret"
	for _, c := range []struct{ name, query, want string }{
		{"a saved layout", "layout=Night+shift", "http://127.0.0.1:41234/?layout=Night+shift&token=s3cret"},
		{"a grid", "grid=9", "http://127.0.0.1:41234/?grid=9&token=s3cret"},
		// The view cannot change the secret, or add what the page does not read.
		{"only what the wall reads", "token=other&grid=4&debug=1", "http://127.0.0.1:41234/?grid=4&token=s3cret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := secondWallURL(page, c.query)
			if err != nil || got != c.want {
				t.Fatalf("secondWallURL(%q) = %q, %v; want %q", c.query, got, err, c.want)
			}
		})
	}
	if _, err := secondWallURL(page, "grid=%zz"); err == nil {
		t.Fatal("a query that cannot be read was taken")
	}
}

func TestWindowGeometryKeptAcrossRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	g, known, err := loadGeometry(dir)
	if err != nil || known {
		t.Fatalf("first run: %v, %v, %v", g, known, err)
	}
	if w, h, s := windowOptions(g, known); s != options.Maximised || w != 1280 || h != 800 {
		t.Fatalf("first run opens %dx%d state %v, want maximised", w, h, s)
	}
	left := windowGeometry{X: 120, Y: 60, Width: 1100, Height: 700}
	if err := saveGeometry(dir, left); err != nil {
		t.Fatal(err)
	}
	g, known, err = loadGeometry(dir)
	if err != nil || !known || g != left {
		t.Fatalf("kept %v, %v, %v; want %v", g, known, err, left)
	}
	if w, h, s := windowOptions(g, known); s != options.Normal || w != 1100 || h != 700 {
		t.Fatalf("reopens %dx%d state %v, want 1100x700 normal", w, h, s)
	}
	// Closed maximised: maximised again, with the size it had before to restore to.
	g.Maximised = true
	if w, h, s := windowOptions(g, true); s != options.Maximised || w != 1100 || h != 700 {
		t.Fatalf("reopens %dx%d state %v, want maximised over 1100x700", w, h, s)
	}
	// A size too small to use is not restored.
	if _, _, s := windowOptions(windowGeometry{Width: 200, Height: 100}, true); s != options.Maximised {
		t.Fatalf("a 200x100 window reopens in state %v, want maximised", s)
	}
	if err := os.WriteFile(filepath.Join(dir, geometryFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, known, err := loadGeometry(dir); err == nil || known {
		t.Fatalf("a broken file: known %v, err %v", known, err)
	}
}
