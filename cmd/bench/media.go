package main

import (
	"context"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/testmedia"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
)

// clip encodes the units every camera loops (ffmpeg, through testmedia):
// at least two GOPs and four seconds, cut to whole GOPs so that looping
// keeps the keyframe interval. It returns them with their bitrate.
func clip(m mediaFlags) ([]avc.AccessUnit, float64, error) {
	n := m.gopFrames()
	seconds := max(4, (2*n+m.fps-1)/m.fps)
	units, err := testmedia.Units(testmedia.Spec{Width: m.width, Height: m.height, FPS: m.fps, GOP: n, Seconds: seconds, Kbps: m.kbps})
	if err != nil {
		return nil, 0, fmt.Errorf("encoding the camera's clip: %w", err)
	}
	units = units[:len(units)/n*n]
	if len(units) == 0 || !units[0].Keyframe {
		return nil, 0, fmt.Errorf("the camera's clip (%v) has no whole GOP", m)
	}
	bytes := 0
	for _, au := range units {
		bytes += au.Size()
	}
	kbps := float64(bytes) * 8 / 1000 / (float64(len(units)) / float64(m.fps))
	return units, kbps, nil
}

// camera is one publisher sending the clip at its frame rate.
type camera struct {
	idx int
	pub *webrtcclient.Publisher
	// sent is when each unit went out (its index is its sequence number);
	// only run writes it, and it is read once run has returned.
	sent []time.Duration
}

// run publishes after delay (cameras are not in step with each other),
// stamping every unit, until ctx ends.
func (c *camera) run(ctx context.Context, units []avc.AccessUnit, fps int, delay time.Duration) error {
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return nil
	}
	interval := time.Second / time.Duration(fps)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		au := units[seq%len(units)]
		au.PTS = time.Duration(seq) * interval
		at := since()
		if err := c.pub.Write(stamp(au, c.idx, int64(seq), at)); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("camera %d: %w", c.idx+1, err)
		}
		c.sent = append(c.sent, at)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
