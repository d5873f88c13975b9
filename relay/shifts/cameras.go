package shifts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"github.com/qianliyan/qianliyan/relay/health"
	"github.com/qianliyan/qianliyan/relay/hub"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Streams tells a stream's state (relay/hub.Hub).
type Streams interface {
	State(key hub.Key) (st hub.State, ok bool)
}

// Changes announces cameras whose state changed (relay/health.Watcher).
type Changes interface {
	Subscribe() *health.Subscription
}

// FollowCameras records every camera's state changes until ctx ends: each
// catalogue camera's state at the start, then each change the watcher
// announces, read from the hub.
func (s *Shifts) FollowCameras(ctx context.Context, streams Streams, changes Changes, log zerolog.Logger) {
	sub := changes.Subscribe()
	defer sub.Close()
	all := func() {
		cams, err := s.Catalogue.Cameras(ctx)
		if err != nil {
			log.Warn().Err(err).Msg("reading the cameras to record their states")
			return
		}
		for _, c := range cams {
			s.recordState(ctx, streams, health.Camera{Site: c.Site, ID: c.ID}, log)
		}
	}
	all()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-sub.Changed():
			s.recordState(ctx, streams, c, log)
		case <-sub.Resync():
			all()
		}
	}
}

func (s *Shifts) recordState(ctx context.Context, streams Streams, c health.Camera, log zerolog.Logger) {
	main, _ := streams.State(hub.Key{Site: c.Site, Camera: c.ID, Stream: hub.StreamMain})
	sub, _ := streams.State(hub.Key{Site: c.Site, Camera: c.ID, Stream: hub.StreamSub})
	status, since := health.Of(main, sub)
	if err := s.RecordState(ctx, c.Site, c.ID, string(status), since); err != nil && ctx.Err() == nil {
		log.Warn().Err(err).Str("site", c.Site).Str("camera", c.ID).Msg("recording a camera's state")
	}
}

// RecordState records that camera site/id is in status since since (now
// when zero or later), unless that is its recorded state already.
func (s *Shifts) RecordState(ctx context.Context, site, id, status string, since time.Time) error {
	now := s.Now()
	if since.IsZero() || since.After(now) {
		since = now
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording %s/%s's state: %w", site, id, err)
	}
	defer tx.Rollback()
	var prev, prevSince string
	err = tx.QueryRowContext(ctx, `SELECT status, since FROM camera_states WHERE site_id = ? AND camera_id = ? AND until IS NULL`,
		site, id).Scan(&prev, &prevSince)
	switch {
	case err == nil && prev == status:
		return nil
	case err == nil:
		if p := parseTime(prevSince); since.Before(p) {
			since = p
		}
		if _, err := tx.ExecContext(ctx, `UPDATE camera_states SET until = ? WHERE site_id = ? AND camera_id = ? AND until IS NULL`,
			formatTime(since), site, id); err != nil {
			return fmt.Errorf("recording %s/%s's state: %w", site, id, err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("recording %s/%s's state: %w", site, id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO camera_states (site_id, camera_id, status, since) VALUES (?, ?, ?, ?)`,
		site, id, status, formatTime(since)); err != nil {
		return fmt.Errorf("recording %s/%s's state: %w", site, id, err)
	}
	return tx.Commit()
}

// CamerasDown returns the cameras offline or stalled now, or for a while
// in [from, to): their state now, since when, and how long in the period
// they were not online.
func (s *Shifts) CamerasDown(ctx context.Context, from, to time.Time) ([]wire.CameraDown, error) {
	now := s.Now()
	rows, err := s.DB.QueryContext(ctx, `SELECT site_id, camera_id, status, since, until FROM camera_states
		WHERE until IS NULL OR (until > ? AND since < ?) ORDER BY site_id, camera_id, since`, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("reading the cameras' states: %w", err)
	}
	defer rows.Close()
	type key struct{ site, camera string }
	byCam := map[key]*wire.CameraDown{}
	for rows.Next() {
		var k key
		var status, since string
		var until sql.NullString
		if err := rows.Scan(&k.site, &k.camera, &status, &since, &until); err != nil {
			return nil, fmt.Errorf("reading the cameras' states: %w", err)
		}
		c := byCam[k]
		if c == nil {
			c = &wire.CameraDown{Site: k.site, Camera: k.camera}
			byCam[k] = c
		}
		begin, end := parseTime(since), now
		if until.Valid {
			end = parseTime(until.String)
		} else {
			c.Status, c.Since = status, begin
		}
		if status != string(hub.StatusOnline) {
			b, e := maxT(begin, from), minT(end, to)
			if e.After(b) {
				c.DownSeconds += int64(e.Sub(b) / time.Second)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []wire.CameraDown{}
	for _, c := range byCam {
		if c.Status != string(hub.StatusOnline) || c.DownSeconds > 0 {
			out = append(out, *c)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Site != out[j].Site {
			return out[i].Site < out[j].Site
		}
		return out[i].Camera < out[j].Camera
	})
	return out, nil
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
