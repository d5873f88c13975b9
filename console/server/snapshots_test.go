package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestSaveSnapshot: a tile's still is kept as the JPEG sent, in the
// download folder, named by its camera and time; anything else is refused
// naming the field.
func TestSaveSnapshot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Downloads")
	h := New(Options{Trusted: true, Downloads: dir, Log: zerolog.Nop()})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 32, 18)), nil); err != nil {
		t.Fatal(err)
	}
	still := base64.StdEncoding.EncodeToString(buf.Bytes())
	header := http.Header{"Content-Type": {"application/json"}}

	a := send(t, h, "POST", "/api/v1/snapshots/save", `{"camera":"site-01/doff1","jpeg":"data:image/jpeg;base64,`+still+`"}`, header)
	if a.status != http.StatusCreated {
		t.Fatalf("saving: %d %s", a.status, a.body)
	}
	var s Saved
	if err := json.Unmarshal([]byte(a.body), &s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Name, "site-01_doff1_") || filepath.Dir(s.Path) != dir || s.Bytes != buf.Len() {
		t.Fatalf("saved %+v", s)
	}
	if got, err := os.ReadFile(s.Path); err != nil || !bytes.Equal(got, buf.Bytes()) {
		t.Fatalf("the file holds %d bytes (%v), want the JPEG sent", len(got), err)
	}

	for _, tc := range []struct{ name, body, field string }{
		{"no camera", `{"jpeg":"` + still + `"}`, "camera"},
		{"a path for a camera", `{"camera":"../../etc/x","jpeg":"` + still + `"}`, "camera"},
		{"not base64", `{"camera":"site-01/doff1","jpeg":"%%%"}`, "jpeg"},
		{"not a JPEG", `{"camera":"site-01/doff1","jpeg":"` + base64.StdEncoding.EncodeToString([]byte("GIF89a")) + `"}`, "jpeg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, h, "POST", "/api/v1/snapshots/save", tc.body, header)
			var e struct{ Error struct{ Code, Field string } }
			if err := json.Unmarshal([]byte(a.body), &e); err != nil || a.status != http.StatusBadRequest || e.Error.Field != tc.field {
				t.Errorf("%d %s, want 400 on %s", a.status, a.body, tc.field)
			}
		})
	}
}
