package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// names is a display name as its table keeps it, a column a language.
type names struct{ zh, en string }

func (n names) text() bilingual.Text { return bilingual.New(n.zh, n.en) }

// Site is one isolation site.
type Site struct {
	ID       string
	District bilingual.Text
	Name     bilingual.Text
	TimeZone string // IANA name, e.g. Asia/Shanghai
	// Kind is the kind of site (config.SiteTypes): supervisors filter and
	// count by it, a converted hotel and a purpose-built site failing
	// differently.
	Kind string
}

// Camera is one camera position at a site.
type Camera struct {
	Site string
	ID   string
	Zone string // the zone key checklists are matched against
	Name bilingual.Text
	// Sources are the RTSP streams the relay pulls for the camera; PutSite
	// and PutCamera save them, CameraSources reads them (Cameras and Camera
	// leave them out: they carry credentials).
	Sources []Source
}

// Source is one RTSP stream of a camera.
type Source struct {
	Stream    string // main or sub
	URL       string // rtsp://[user:password@]host[:port]/path
	Transport string // tcp, udp, or "" for automatic
}

// CameraSource is a source with the camera it belongs to.
type CameraSource struct {
	Site, Camera string
	Source
}

// PutSite creates or updates a site and replaces its cameras with the given
// ones, in the given order.
func (s *Store) PutSite(ctx context.Context, site Site, cameras []Camera) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving site %s: %w", site.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO sites (id, district_zh, district_en, name_zh, name_en, time_zone, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET district_zh = excluded.district_zh, district_en = excluded.district_en,
			name_zh = excluded.name_zh, name_en = excluded.name_en, time_zone = excluded.time_zone, kind = excluded.kind`,
		site.ID, site.District[bilingual.ZH], site.District[bilingual.EN], site.Name[bilingual.ZH], site.Name[bilingual.EN], site.TimeZone, siteKind(site.Kind)); err != nil {
		return fmt.Errorf("saving site %s: %w", site.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cameras WHERE site_id = ?`, site.ID); err != nil {
		return fmt.Errorf("replacing cameras of site %s: %w", site.ID, err)
	}
	for i, c := range cameras {
		if c.Site != "" && c.Site != site.ID {
			return fmt.Errorf("saving site %s: camera %s/%s belongs elsewhere", site.ID, c.Site, c.ID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cameras (site_id, id, zone, name_zh, name_en, position) VALUES (?, ?, ?, ?, ?, ?)`,
			site.ID, c.ID, c.Zone, c.Name[bilingual.ZH], c.Name[bilingual.EN], i); err != nil {
			return fmt.Errorf("saving camera %s/%s: %w", site.ID, c.ID, err)
		}
		if err := putSources(ctx, tx, site.ID, c.ID, c.Sources); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving site %s: %w", site.ID, err)
	}
	return nil
}

// PutSiteInfo creates or updates a site, leaving its cameras alone.
func (s *Store) PutSiteInfo(ctx context.Context, site Site) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sites (id, district_zh, district_en, name_zh, name_en, time_zone, kind)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET district_zh = excluded.district_zh, district_en = excluded.district_en,
			name_zh = excluded.name_zh, name_en = excluded.name_en, time_zone = excluded.time_zone, kind = excluded.kind`,
		site.ID, site.District[bilingual.ZH], site.District[bilingual.EN], site.Name[bilingual.ZH], site.Name[bilingual.EN], site.TimeZone, siteKind(site.Kind)); err != nil {
		return fmt.Errorf("saving site %s: %w", site.ID, err)
	}
	return nil
}

// PutCamera creates or updates one camera of an existing site, with its
// sources; a new camera goes after the site's others. It fails with
// ErrNotFound when the site does not exist.
func (s *Store) PutCamera(ctx context.Context, c Camera) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("saving camera %s/%s: %w", c.Site, c.ID, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sites WHERE id = ?`, c.Site).Scan(&n); err != nil {
		return fmt.Errorf("saving camera %s/%s: %w", c.Site, c.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("saving camera %s/%s: site %s: %w", c.Site, c.ID, c.Site, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cameras (site_id, id, zone, name_zh, name_en, position)
		VALUES (?, ?, ?, ?, ?, (SELECT coalesce(max(position) + 1, 0) FROM cameras WHERE site_id = ?))
		ON CONFLICT (site_id, id) DO UPDATE SET zone = excluded.zone, name_zh = excluded.name_zh, name_en = excluded.name_en`,
		c.Site, c.ID, c.Zone, c.Name[bilingual.ZH], c.Name[bilingual.EN], c.Site); err != nil {
		return fmt.Errorf("saving camera %s/%s: %w", c.Site, c.ID, err)
	}
	if err := putSources(ctx, tx, c.Site, c.ID, c.Sources); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("saving camera %s/%s: %w", c.Site, c.ID, err)
	}
	return nil
}

// putSources replaces a camera's sources.
func putSources(ctx context.Context, tx *sql.Tx, site, camera string, sources []Source) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM camera_sources WHERE site_id = ? AND camera_id = ?`, site, camera); err != nil {
		return fmt.Errorf("replacing sources of camera %s/%s: %w", site, camera, err)
	}
	for _, src := range sources {
		// The error would quote the URL, and with it the camera's password.
		if _, err := tx.ExecContext(ctx, `INSERT INTO camera_sources (site_id, camera_id, stream, url, transport) VALUES (?, ?, ?, ?, ?)`,
			site, camera, src.Stream, src.URL, src.Transport); err != nil {
			return fmt.Errorf("saving the %s source of camera %s/%s: %w", src.Stream, site, camera, err)
		}
	}
	return nil
}

// CameraSources returns the RTSP sources of every camera, by site, camera
// and stream.
func (s *Store) CameraSources(ctx context.Context) ([]CameraSource, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site_id, camera_id, stream, url, transport FROM camera_sources ORDER BY site_id, camera_id, stream`)
	if err != nil {
		return nil, fmt.Errorf("listing camera sources: %w", err)
	}
	defer rows.Close()
	var out []CameraSource
	for rows.Next() {
		var c CameraSource
		if err := rows.Scan(&c.Site, &c.Camera, &c.Stream, &c.URL, &c.Transport); err != nil {
			return nil, fmt.Errorf("listing camera sources: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing camera sources: %w", err)
	}
	return out, nil
}

// Sites returns every site, ordered by id.
func (s *Store) Sites(ctx context.Context) ([]Site, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, district_zh, district_en, name_zh, name_en, time_zone, kind FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	defer rows.Close()
	var out []Site
	for rows.Next() {
		var st Site
		var district, name names
		if err := rows.Scan(&st.ID, &district.zh, &district.en, &name.zh, &name.en, &st.TimeZone, &st.Kind); err != nil {
			return nil, fmt.Errorf("listing sites: %w", err)
		}
		st.District, st.Name = district.text(), name.text()
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	return out, nil
}

// HasSite reports whether the site exists.
func (s *Store) HasSite(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM sites WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading site %s: %w", id, err)
	}
	return true, nil
}

// Cameras returns every camera, by site and then in configured order.
func (s *Store) Cameras(ctx context.Context) ([]Camera, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site_id, id, zone, name_zh, name_en FROM cameras ORDER BY site_id, position, id`)
	if err != nil {
		return nil, fmt.Errorf("listing cameras: %w", err)
	}
	defer rows.Close()
	var out []Camera
	for rows.Next() {
		var c Camera
		var name names
		if err := rows.Scan(&c.Site, &c.ID, &c.Zone, &name.zh, &name.en); err != nil {
			return nil, fmt.Errorf("listing cameras: %w", err)
		}
		c.Name = name.text()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing cameras: %w", err)
	}
	return out, nil
}

// Camera returns one camera, or ErrNotFound.
func (s *Store) Camera(ctx context.Context, site, id string) (Camera, error) {
	c := Camera{Site: site, ID: id}
	var name names
	err := s.db.QueryRowContext(ctx, `SELECT zone, name_zh, name_en FROM cameras WHERE site_id = ? AND id = ?`, site, id).
		Scan(&c.Zone, &name.zh, &name.en)
	if errors.Is(err, sql.ErrNoRows) {
		return Camera{}, fmt.Errorf("camera %s/%s: %w", site, id, ErrNotFound)
	}
	if err != nil {
		return Camera{}, fmt.Errorf("reading camera %s/%s: %w", site, id, err)
	}
	c.Name = name.text()
	return c, nil
}

// SetPublishTokens replaces the site's publish tokens carrying label with
// the given SHA-256 hashes. Labels group tokens by origin ("config",
// "demo"), so each origin can be refreshed without touching the others.
func (s *Store) SetPublishTokens(ctx context.Context, site, label string, hashes [][]byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("setting publish tokens of site %s: %w", site, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM publish_tokens WHERE site_id = ? AND label = ?`, site, label); err != nil {
		return fmt.Errorf("setting publish tokens of site %s: %w", site, err)
	}
	now := formatTime(time.Now())
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO publish_tokens (site_id, token_hash, label, created_at) VALUES (?, ?, ?, ?)`,
			site, h, label, now); err != nil {
			return fmt.Errorf("setting publish tokens of site %s: %w", site, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("setting publish tokens of site %s: %w", site, err)
	}
	return nil
}

// PublishTokenHashes returns the hashes of the site's live publish tokens.
func (s *Store) PublishTokenHashes(ctx context.Context, site string) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT token_hash FROM publish_tokens WHERE site_id = ? AND revoked_at IS NULL`, site)
	if err != nil {
		return nil, fmt.Errorf("reading publish tokens of site %s: %w", site, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("reading publish tokens of site %s: %w", site, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading publish tokens of site %s: %w", site, err)
	}
	return out, nil
}

// siteKind is how a site's kind is kept: other when none is given.
func siteKind(k string) string {
	if k == "" {
		return "other"
	}
	return k
}
