// Package findingstest looks at the evidence directory the way the tests of
// findings and of its uploaders (the site page) need: for what an upload
// left behind.
package findingstest

import (
	"os"
	"strings"
	"testing"
)

// Temporaries lists the files of the evidence directory dir that are not
// evidence: uploads being received, or left over by one that failed (their
// names start with a dot).
func Temporaries(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}
