package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/qianliyan/qianliyan/console/relayclient"
)

// TestSaveDocument: what the window saves goes in the download folder
// under the relay's name stripped of any directory, never over a file
// there (a second copy is "name (2).ext"), and a name that is no file
// name takes the fallback.
func TestSaveDocument(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Downloads")
	h := &handler{opts: Options{Downloads: dir}}
	for _, tc := range []struct {
		name, fallback, want string
		data                 string
	}{
		{"周报-2026-W49.xlsx", "report.xlsx", "周报-2026-W49.xlsx", "one"},
		{"周报-2026-W49.xlsx", "report.xlsx", "周报-2026-W49 (2).xlsx", "two"},
		{"../../etc/notice.pdf", "x.pdf", "notice.pdf", "three"},
		{".hidden", "notice-7.pdf", "notice-7.pdf", "four"},
		{"", "report-daily-2026-12-02.csv", "report-daily-2026-12-02.csv", "five"},
	} {
		s, err := h.save(relayclient.Document{Filename: tc.name, Data: []byte(tc.data)}, tc.fallback)
		if err != nil {
			t.Fatalf("%q: %v", tc.name, err)
		}
		if s.Name != tc.want || s.Path != filepath.Join(dir, tc.want) || s.Bytes != len(tc.data) {
			t.Errorf("%q saved as %+v, want %s in %s", tc.name, s, tc.want, dir)
		}
		if b, err := os.ReadFile(filepath.Join(dir, tc.want)); err != nil || string(b) != tc.data {
			t.Errorf("%s holds %q, %v; want %q", tc.want, b, err, tc.data)
		}
	}
}
