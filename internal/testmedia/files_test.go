package testmedia

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStills(t *testing.T) {
	for _, c := range []struct {
		name   string
		make   func(w, h int) ([]byte, error)
		decode func([]byte) (image.Image, error)
	}{
		{"jpeg", JPEG, func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }},
		{"png", PNG, func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.make(160, 120)
			if err != nil {
				t.Fatal(err)
			}
			img, err := c.decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if size := img.Bounds().Size(); size != image.Pt(160, 120) {
				t.Fatalf("%v, want 160x120", size)
			}
		})
	}
}

func TestMP4(t *testing.T) {
	b, err := MP4(Spec{Width: 160, Height: 96, FPS: 10, GOP: 10, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Codec != "h264" || p.Width != 160 || p.Height != 96 || p.Frames != 20 || p.Duration != 2*time.Second || !p.FirstKeyframe {
		t.Fatalf("probed %+v", p)
	}
}
