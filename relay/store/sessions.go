package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WHEPSession records one viewer watching one camera.
type WHEPSession struct {
	ID     string
	User   string
	Site   string
	Camera string
	// RequestedStream is the stream asked for; Stream the one served (they
	// differ when the relay fell back to the camera's other stream).
	RequestedStream string
	Stream          string
	// Remote is the address the viewer asked from (its HTTP client's).
	Remote    string
	Started   time.Time
	Ended     time.Time // zero while the session runs
	EndReason string
}

// StartWHEPSession records a session that has begun.
func (s *Store) StartWHEPSession(ctx context.Context, w WHEPSession) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO whep_sessions (id, user_name, site_id, camera_id, requested_stream, stream, remote_addr, started_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.User, w.Site, w.Camera, w.RequestedStream, w.Stream, w.Remote, formatTime(w.Started)); err != nil {
		return fmt.Errorf("recording WHEP session %s: %w", w.ID, err)
	}
	return nil
}

// EndWHEPSession records that a session ended, once; later calls change nothing.
func (s *Store) EndWHEPSession(ctx context.Context, id string, at time.Time, reason string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE whep_sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL`,
		formatTime(at), reason, id); err != nil {
		return fmt.Errorf("ending WHEP session %s: %w", id, err)
	}
	return nil
}

// EndOpenWHEPSessions closes the records of sessions still open, which after
// a crash no longer run; it returns how many it closed.
func (s *Store) EndOpenWHEPSessions(ctx context.Context, at time.Time, reason string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE whep_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL`, formatTime(at), reason)
	if err != nil {
		return 0, fmt.Errorf("ending open WHEP sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// WHEPSessions returns the most recent sessions first, at most limit.
func (s *Store) WHEPSessions(ctx context.Context, limit int) ([]WHEPSession, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_name, site_id, camera_id, requested_stream, stream, remote_addr, started_at, ended_at, end_reason
		FROM whep_sessions ORDER BY started_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing WHEP sessions: %w", err)
	}
	defer rows.Close()
	var out []WHEPSession
	for rows.Next() {
		var w WHEPSession
		var started string
		var ended sql.NullString
		if err := rows.Scan(&w.ID, &w.User, &w.Site, &w.Camera, &w.RequestedStream, &w.Stream, &w.Remote, &started, &ended, &w.EndReason); err != nil {
			return nil, fmt.Errorf("listing WHEP sessions: %w", err)
		}
		if w.Started, err = parseTime(started); err != nil {
			return nil, fmt.Errorf("listing WHEP sessions: %w", err)
		}
		if ended.Valid {
			if w.Ended, err = parseTime(ended.String); err != nil {
				return nil, fmt.Errorf("listing WHEP sessions: %w", err)
			}
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing WHEP sessions: %w", err)
	}
	return out, nil
}
