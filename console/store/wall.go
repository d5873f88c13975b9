package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/qianliyan/qianliyan/console/wall"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// Errors of layouts and tours.
var (
	ErrNoLayout = errors.New("no such layout")
	ErrNoTour   = errors.New("no such tour")
)

// LayoutInUseError refuses to delete a layout that tours show.
type LayoutInUseError struct {
	Layout string
	Tours  []string
}

func (e *LayoutInUseError) Error() string {
	return fmt.Sprintf("layout %q is shown by the tours %s; change or delete them first", e.Layout, strings.Join(quoteAll(e.Tours), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Setting returns a console setting; ok is false when it was never set.
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading setting %s: %w", key, err)
	}
	return value, true, nil
}

// SetSetting stores a console setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, sqlitedb.FormatTime(s.now()))
	if err != nil {
		return s.spaceErr(fmt.Errorf("storing setting %s: %w", key, err))
	}
	return nil
}

// Layouts returns the user's layouts by name.
func (s *Store) Layouts(ctx context.Context, user string) ([]wall.Layout, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, grid, tiles FROM layouts WHERE user_name = ? ORDER BY name`, user)
	if err != nil {
		return nil, fmt.Errorf("listing layouts: %w", err)
	}
	defer rows.Close()
	out := []wall.Layout{}
	for rows.Next() {
		var l wall.Layout
		var tiles string
		if err := rows.Scan(&l.Name, &l.Grid, &tiles); err != nil {
			return nil, fmt.Errorf("reading layout: %w", err)
		}
		if err := json.Unmarshal([]byte(tiles), &l.Tiles); err != nil {
			return nil, fmt.Errorf("reading layout %q: tiles: %w", l.Name, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing layouts: %w", err)
	}
	return out, nil
}

// PutLayout creates or replaces one of the user's layouts. A layout that
// breaks the rules is a *wall.FieldError.
func (s *Store) PutLayout(ctx context.Context, user string, l wall.Layout) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if l.Tiles == nil {
		l.Tiles = []wall.Tile{}
	}
	tiles, err := json.Marshal(l.Tiles)
	if err != nil {
		return fmt.Errorf("encoding tiles: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO layouts (user_name, name, grid, tiles, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_name, name) DO UPDATE SET grid = excluded.grid, tiles = excluded.tiles, updated_at = excluded.updated_at`,
		user, l.Name, l.Grid, string(tiles), sqlitedb.FormatTime(s.now()))
	if err != nil {
		return s.spaceErr(fmt.Errorf("saving layout %q: %w", l.Name, err))
	}
	return nil
}

// DeleteLayout deletes one of the user's layouts: ErrNoLayout if there is
// none of that name, a *LayoutInUseError if a tour shows it.
func (s *Store) DeleteLayout(ctx context.Context, user, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		tours, err := toursShowing(ctx, tx, user, name)
		if err != nil {
			return err
		}
		if len(tours) > 0 {
			return &LayoutInUseError{Layout: name, Tours: tours}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM layouts WHERE user_name = ? AND name = ?`, user, name)
		if err != nil {
			return fmt.Errorf("deleting layout %q: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %q", ErrNoLayout, name)
		}
		return nil
	})
}

func toursShowing(ctx context.Context, tx *sql.Tx, user, layout string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT tour FROM tour_steps WHERE user_name = ? AND layout = ? ORDER BY tour`, user, layout)
	if err != nil {
		return nil, fmt.Errorf("finding tours of layout %q: %w", layout, err)
	}
	defer rows.Close()
	var tours []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("finding tours of layout %q: %w", layout, err)
		}
		tours = append(tours, t)
	}
	return tours, rows.Err()
}

// Tours returns the user's saved tours by name.
func (s *Store) Tours(ctx context.Context, user string) ([]wall.Tour, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.name, st.camera, st.layout, st.dwell_s
		FROM tours t JOIN tour_steps st ON st.user_name = t.user_name AND st.tour = t.name
		WHERE t.user_name = ? ORDER BY t.name, st.position`, user)
	if err != nil {
		return nil, fmt.Errorf("listing tours: %w", err)
	}
	defer rows.Close()
	out := []wall.Tour{}
	for rows.Next() {
		var name string
		var camera, layout sql.NullString
		var dwell int
		if err := rows.Scan(&name, &camera, &layout, &dwell); err != nil {
			return nil, fmt.Errorf("reading tour: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, wall.Tour{Name: name})
		}
		t := &out[len(out)-1]
		t.Steps = append(t.Steps, wall.Step{Camera: camera.String, Layout: layout.String, DwellS: dwell})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tours: %w", err)
	}
	return out, nil
}

// PutTour creates or replaces one of the user's tours; a tour of a
// dismissed built-in's name brings that name back. A tour that breaks the
// rules, or shows a layout the user does not have, is a *wall.FieldError.
func (s *Store) PutTour(ctx context.Context, user string, t wall.Tour) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for i, st := range t.Steps {
			if st.Layout == "" {
				continue
			}
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM layouts WHERE user_name = ? AND name = ?`, user, st.Layout).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return &wall.FieldError{Field: fmt.Sprintf("steps[%d].layout", i), Message: fmt.Sprintf("there is no layout %q", st.Layout)}
			}
			if err != nil {
				return fmt.Errorf("checking layout %q: %w", st.Layout, err)
			}
		}
		now := sqlitedb.FormatTime(s.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO tours (user_name, name, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_name, name) DO UPDATE SET updated_at = excluded.updated_at`, user, t.Name, now); err != nil {
			return fmt.Errorf("saving tour %q: %w", t.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tour_steps WHERE user_name = ? AND tour = ?`, user, t.Name); err != nil {
			return fmt.Errorf("saving tour %q: %w", t.Name, err)
		}
		for i, st := range t.Steps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tour_steps (user_name, tour, position, camera, layout, dwell_s) VALUES (?, ?, ?, ?, ?, ?)`,
				user, t.Name, i, nullable(st.Camera), nullable(st.Layout), st.DwellS); err != nil {
				return fmt.Errorf("saving tour %q step %d: %w", t.Name, i, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dismissed_tours WHERE user_name = ? AND name = ?`, user, t.Name); err != nil {
			return fmt.Errorf("saving tour %q: %w", t.Name, err)
		}
		return nil
	})
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// DeleteTour deletes one of the user's tours: ErrNoTour if there is none of
// that name. With dismiss, the name is a built-in tour: deleting it is
// recorded, saved or not, so that it is not offered again.
func (s *Store) DeleteTour(ctx context.Context, user, name string, dismiss bool) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tours WHERE user_name = ? AND name = ?`, user, name)
		if err != nil {
			return fmt.Errorf("deleting tour %q: %w", name, err)
		}
		if !dismiss {
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("%w: %q", ErrNoTour, name)
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dismissed_tours (user_name, name, dismissed_at) VALUES (?, ?, ?)
			ON CONFLICT (user_name, name) DO NOTHING`, user, name, sqlitedb.FormatTime(s.now())); err != nil {
			return fmt.Errorf("recording the deletion of tour %q: %w", name, err)
		}
		return nil
	})
}

// TourDismissed reports whether the user deleted the built-in tour name.
func (s *Store) TourDismissed(ctx context.Context, user, name string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM dismissed_tours WHERE user_name = ? AND name = ?`, user, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading dismissed tours: %w", err)
	}
	return true, nil
}
