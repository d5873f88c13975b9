package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is a person who signs in to the relay.
type User struct {
	Name string
	// Role is one of duty, supervisor, site_manager, admin (the database
	// enforces the list; package auth gives it meaning).
	Role         string
	PasswordHash string // bcrypt
	Disabled     bool
	// Sites are the sites a site manager may watch.
	Sites     []string
	CreatedAt time.Time
}

// PutUser creates or updates a user, replacing their sites.
func (s *Store) PutUser(ctx context.Context, u User) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving user %s: %w", u.Name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, disabled = excluded.disabled`,
		u.Name, u.Role, u.PasswordHash, u.Disabled, formatTime(time.Now())); err != nil {
		return fmt.Errorf("saving user %s: %w", u.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_sites WHERE user_name = ?`, u.Name); err != nil {
		return fmt.Errorf("saving sites of user %s: %w", u.Name, err)
	}
	for _, site := range u.Sites {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_sites (user_name, site_id) VALUES (?, ?)`, u.Name, site); err != nil {
			return fmt.Errorf("giving user %s site %s: %w", u.Name, site, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving user %s: %w", u.Name, err)
	}
	return nil
}

// User returns one user with their sites, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	var created string
	err := s.db.QueryRowContext(ctx, `SELECT role, password_hash, disabled, created_at FROM users WHERE name = ?`, name).
		Scan(&u.Role, &u.PasswordHash, &u.Disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user %s: %w", name, err)
	}
	if u.CreatedAt, err = parseTime(created); err != nil {
		return User{}, fmt.Errorf("reading user %s: %w", name, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT site_id FROM user_sites WHERE user_name = ? ORDER BY site_id`, name)
	if err != nil {
		return User{}, fmt.Errorf("reading sites of user %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return User{}, fmt.Errorf("reading sites of user %s: %w", name, err)
		}
		u.Sites = append(u.Sites, site)
	}
	if err := rows.Err(); err != nil {
		return User{}, fmt.Errorf("reading sites of user %s: %w", name, err)
	}
	return u, nil
}

// Users returns every user with their sites, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing users: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	out := make([]User, 0, len(names))
	for _, n := range names {
		u, err := s.User(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// SetDisabled disables or re-enables a user.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE name = ?`, disabled, name)
	if err != nil {
		return fmt.Errorf("disabling user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("disabling user %s: %w", name, ErrNotFound)
	}
	return nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, name, hash string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, hash, name)
	if err != nil {
		return fmt.Errorf("setting password of user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("setting password of user %s: %w", name, ErrNotFound)
	}
	return nil
}
