package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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
	// TokenGeneration is the generation of the user's valid login tokens:
	// the store advances it whenever what a token stands for changes
	// (password, disabled, role, sites), and AdvanceTokenGeneration on a
	// sign-out. Tokens of older generations are refused. PutUser ignores
	// the field.
	TokenGeneration int64
}

// PutUser creates or updates a user, replacing their sites. An update that
// changes the user's password, role, sites or disabling advances their
// token generation; one that changes nothing leaves it (the relay puts its
// configured users at every start).
func (s *Store) PutUser(ctx context.Context, u User) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving user %s: %w", u.Name, err)
	}
	defer tx.Rollback()
	sites, err := userSites(ctx, tx, u.Name)
	if err != nil {
		return err
	}
	sitesChanged := !slices.Equal(sites, sortedCopy(u.Sites))
	if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, disabled = excluded.disabled,
			token_generation = token_generation + (? OR role IS NOT excluded.role OR password_hash IS NOT excluded.password_hash OR disabled IS NOT excluded.disabled)`,
		u.Name, u.Role, u.PasswordHash, u.Disabled, formatTime(time.Now()), sitesChanged); err != nil {
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

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// userSites returns a user's sites, sorted.
func userSites(ctx context.Context, q querier, name string) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT site_id FROM user_sites WHERE user_name = ? ORDER BY site_id`, name)
	if err != nil {
		return nil, fmt.Errorf("reading sites of user %s: %w", name, err)
	}
	defer rows.Close()
	var sites []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, fmt.Errorf("reading sites of user %s: %w", name, err)
		}
		sites = append(sites, site)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading sites of user %s: %w", name, err)
	}
	return sites, nil
}

// User returns one user with their sites, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	var created string
	err := s.db.QueryRowContext(ctx, `SELECT role, password_hash, disabled, created_at, token_generation FROM users WHERE name = ?`, name).
		Scan(&u.Role, &u.PasswordHash, &u.Disabled, &created, &u.TokenGeneration)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user %s: %w", name, err)
	}
	if u.CreatedAt, err = parseTime(created); err != nil {
		return User{}, fmt.Errorf("reading user %s: %w", name, err)
	}
	if u.Sites, err = userSites(ctx, s.db, name); err != nil {
		return User{}, err
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

// SetDisabled disables or re-enables a user; either advances their token
// generation, so that the tokens they had are refused from now on.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET disabled = ?, token_generation = token_generation + 1 WHERE name = ?`, disabled, name)
	if err != nil {
		return fmt.Errorf("disabling user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("disabling user %s: %w", name, ErrNotFound)
	}
	return nil
}

// SetPassword replaces a user's password hash and advances their token
// generation: whoever signed in with the old password is signed out.
func (s *Store) SetPassword(ctx context.Context, name, hash string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, token_generation = token_generation + 1 WHERE name = ?`, hash, name)
	if err != nil {
		return fmt.Errorf("setting password of user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("setting password of user %s: %w", name, ErrNotFound)
	}
	return nil
}

// AdvanceTokenGeneration refuses every login token user holds now (a
// sign-out) and returns the new generation.
func (s *Store) AdvanceTokenGeneration(ctx context.Context, name string) (int64, error) {
	var gen int64
	err := s.db.QueryRowContext(ctx, `UPDATE users SET token_generation = token_generation + 1 WHERE name = ? RETURNING token_generation`, name).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("revoking the tokens of user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("revoking the tokens of user %s: %w", name, err)
	}
	return gen, nil
}

// TokenGenerations returns the token generation of every user who may
// sign in, by name; disabled users are left out. The relay reads it every
// second or so to end what revoked users still hold open, whichever
// process revoked them (relay user disable runs beside the relay).
func (s *Store) TokenGenerations(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, token_generation FROM users WHERE NOT disabled`)
	if err != nil {
		return nil, fmt.Errorf("reading token generations: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var gen int64
		if err := rows.Scan(&name, &gen); err != nil {
			return nil, fmt.Errorf("reading token generations: %w", err)
		}
		out[name] = gen
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading token generations: %w", err)
	}
	return out, nil
}
