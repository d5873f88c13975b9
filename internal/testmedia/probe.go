package testmedia

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// Probe is what ffprobe reads of a video file's first video stream.
type Probe struct {
	Codec         string // "h264"
	Width, Height int
	Frames        int           // decoded by ffprobe
	Duration      time.Duration // of the container
	// FirstKeyframe: the first frame ffprobe decodes is a keyframe (an I
	// picture), so the file plays from its start.
	FirstKeyframe bool
}

// ProbeFile runs ffprobe on path. It fails when ffprobe cannot read the file
// or finds no video stream in it.
func ProbeFile(path string) (Probe, error) {
	var p struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
			NbFrames  string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Frames []struct {
			KeyFrame int    `json:"key_frame"`
			PictType string `json:"pict_type"`
		} `json:"frames"`
	}
	if err := ffprobe(path, &p, "-count_frames", "-show_streams", "-show_format"); err != nil {
		return Probe{}, err
	}
	if len(p.Streams) == 0 {
		return Probe{}, fmt.Errorf("ffprobe %s: no video stream", path)
	}
	s := p.Streams[0]
	r := Probe{Codec: s.CodecName, Width: s.Width, Height: s.Height}
	r.Frames, _ = strconv.Atoi(s.NbFrames)
	if secs, err := strconv.ParseFloat(p.Format.Duration, 64); err == nil {
		r.Duration = time.Duration(secs * float64(time.Second))
	}
	// Counting reads every frame; the first frame's type needs only one.
	if err := ffprobe(path, &p, "-show_frames", "-read_intervals", "%+#1"); err != nil {
		return Probe{}, err
	}
	r.FirstKeyframe = len(p.Frames) > 0 && p.Frames[0].KeyFrame == 1 && p.Frames[0].PictType == "I"
	return r, nil
}

func ffprobe(path string, v any, args ...string) error {
	args = append(append([]string{"-v", "error", "-select_streams", "v:0"}, args...), "-of", "json", path)
	out, err := exec.Command("ffprobe", args...).Output()
	if err != nil {
		return fmt.Errorf("ffprobe %s: %w", path, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("reading ffprobe's answer on %s: %w", path, err)
	}
	return nil
}
