package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/qianliyan/qianliyan/internal/avc"
	"github.com/qianliyan/qianliyan/internal/webrtcclient"
)

// firstFrameRun is one run of firstframe.
type firstFrameRun struct {
	Load   string `json:"load_average"`
	Joins  int    `json:"joins"`
	Failed int    `json:"failed"`
	// FirstError is the first failed join's, if any.
	FirstError string `json:"first_error,omitempty"`
	// NotKeyframe counts viewers whose first unit was not a keyframe.
	NotKeyframe int     `json:"first_unit_not_keyframe"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
	MinMS       float64 `json:"min_ms"`
	MaxMS       float64 `json:"max_ms"`
	// RelayMeanMS is the relay's own mean of the same wait, from its
	// first_keyframe_seconds histogram: POST received to keyframe written.
	RelayMeanMS      float64 `json:"relay_mean_ms"`
	KeyframeRequests int64   `json:"keyframe_requests"`
	ClipKbps         float64 `json:"clip_kbps"`
}

func firstFrame(ctx context.Context, cfg firstFrameConfig) (firstFrameRun, error) {
	out := firstFrameRun{Load: loadAverage(), Joins: cfg.joins}
	units, kbps, err := clip(cfg.media)
	if err != nil {
		return out, err
	}
	out.ClipKbps = kbps
	r, err := startRelay(ctx, relaySetup{bin: cfg.relayBin, log: cfg.relayLog, cameras: 1, noCache: cfg.noCache})
	if err != nil {
		return out, err
	}
	defer r.stop()

	pub, err := webrtcclient.Publish(ctx, r.whip(0), webrtcclient.Config{Token: r.publishToken})
	if err != nil {
		return out, fmt.Errorf("publishing the camera: %w", err)
	}
	defer pub.PC.Close()
	cam := &camera{pub: pub}
	camCtx, stopCam := context.WithCancel(ctx)
	camDone := make(chan error, 1)
	go func() { camDone <- cam.run(camCtx, units, cfg.media.fps, 0) }()
	defer func() {
		stopCam()
		<-camDone
	}()
	// The relay has a whole GOP cached before the first viewer comes.
	if err := sleep(ctx, cfg.media.gop+300*time.Millisecond); err != nil {
		return out, err
	}

	api, err := webrtcclient.NewAPI(r.url)
	if err != nil {
		return out, err
	}
	vcfg := webrtcclient.Config{Token: r.loginToken, API: api}
	var waits []time.Duration
	for range cfg.joins {
		// Joins fall at random points of the GOP. Without the cache that
		// decides the wait, so the pause spans a whole GOP.
		pause := time.Duration(rand.Int64N(int64(100 * time.Millisecond)))
		if cfg.noCache {
			pause = time.Duration(rand.Int64N(int64(cfg.media.gop)))
		}
		if err := sleep(ctx, pause); err != nil {
			return out, err
		}
		wait, keyFirst, err := join(ctx, r.whep(0), vcfg, cfg.joinTimeout)
		if err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			out.Failed++
			if out.FirstError == "" {
				out.FirstError = err.Error()
			}
			continue
		}
		if !keyFirst {
			out.NotKeyframe++
		}
		waits = append(waits, wait)
	}
	if len(waits) == 0 {
		return out, fmt.Errorf("no viewer got a keyframe: %s", out.FirstError)
	}
	q := quantiles(waits)
	out.P50MS, out.P99MS, out.MinMS, out.MaxMS = ms(q.p50), ms(q.p99), ms(q.min), ms(q.max)
	sum, err1 := r.metric(ctx, "qianliyan_relay_first_keyframe_seconds_sum")
	n, err2 := r.metric(ctx, "qianliyan_relay_first_keyframe_seconds_count")
	if err := errors.Join(err1, err2); err != nil {
		return out, err
	}
	if n > 0 {
		out.RelayMeanMS = sum / n * 1000
	}
	out.KeyframeRequests = pub.KeyframeRequests()
	return out, nil
}

// join runs one viewer: from the POST to its first keyframe complete. It
// reports whether the first unit was that keyframe, then leaves.
func join(ctx context.Context, endpoint string, cfg webrtcclient.Config, timeout time.Duration) (time.Duration, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := webrtcclient.Play(ctx, endpoint, cfg)
	if err != nil {
		return 0, false, err
	}
	defer func() {
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer dcancel()
		_ = v.Close(dctx)
	}()
	readCtx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		got      time.Time
		units    int
		keyFirst bool
	)
	err = v.Read(readCtx, func(au avc.AccessUnit) {
		units++
		if units == 1 {
			keyFirst = au.Keyframe
		}
		if au.Keyframe && got.IsZero() {
			got = time.Now()
			stop()
		}
	})
	if got.IsZero() {
		return 0, false, fmt.Errorf("no keyframe within %v (%d units): %w", timeout, units, err)
	}
	return got.Sub(v.Session.Posted), keyFirst, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
