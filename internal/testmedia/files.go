package testmedia

import "fmt"

// The evidence of a finding as a console and a phone send it: a snapshot
// (JPEG), a clip (MP4) and a photo (JPEG or PNG), each made by ffmpeg from
// its test pattern and kept in the temp directory like the H.264 of Units.
// The bytes are shared: callers must not modify them.

// JPEG returns one frame of the test pattern at width×height as a JPEG.
func JPEG(width, height int) ([]byte, error) {
	return still(width, height, "jpg")
}

// PNG returns one frame of the test pattern at width×height as a PNG.
func PNG(width, height int) ([]byte, error) {
	return still(width, height, "png")
}

func still(width, height int, ext string) ([]byte, error) {
	return cached(fmt.Sprintf("%dx%d.%s", width, height, ext), func() ([]byte, error) {
		return made(fmt.Sprintf("%dx%d.%s", width, height, ext),
			"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=1", width, height), "-frames:v", "1")
	})
}

// MP4 returns a clip made to spec as an MP4 file a browser plays: H.264
// baseline with its index first (faststart), as the console files clips.
// spec.Kbps is ignored.
func MP4(spec Spec) ([]byte, error) {
	name := fmt.Sprintf("%dx%d-%dfps-g%d-%ds.mp4", spec.Width, spec.Height, spec.FPS, spec.GOP, spec.Seconds)
	return cached(name, func() ([]byte, error) {
		return made(name, append(x264Args(spec), "-movflags", "+faststart")...)
	})
}

var files = map[string][]byte{} // by name, under mu

// cached returns mk's file, made once per process.
func cached(name string, mk func() ([]byte, error)) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	if b, ok := files[name]; ok {
		return b, nil
	}
	b, err := mk()
	if err != nil {
		return nil, err
	}
	files[name] = b
	return b, nil
}
