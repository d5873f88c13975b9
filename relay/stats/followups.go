package stats

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Bounds of what a follow-up keeps.
const (
	maxReason = 500  // characters
	maxFilter = 4000 // bytes of query string
)

// Followups returns the on-site follow-up list, latest first.
func (s *Store) Followups(ctx context.Context, p auth.Principal) ([]wire.Followup, error) {
	if err := mayRead(p); err != nil {
		return nil, err
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return nil, err
	}
	out := []wire.Followup{}
	err = s.query(ctx, "the follow-up list", `SELECT site_id, reason, filter, added_by, added_at FROM followups
		ORDER BY added_at DESC, site_id`, nil, func(rows *sql.Rows) error {
		var f wire.Followup
		var at string
		if err := rows.Scan(&f.Site, &f.Reason, &f.Filter, &f.AddedBy, &at); err != nil {
			return err
		}
		f.AddedAt, _ = sqlitedb.ParseTime(at)
		f.Name = siteName(sites, f.Site)
		out = append(out, f)
		return nil
	})
	return out, err
}

// Follow puts site on the list (again: with the new reason and filter,
// added by p now). created is false when it was on the list already.
func (s *Store) Follow(ctx context.Context, p auth.Principal, site string, req wire.FollowupRequest) (wire.Followup, bool, error) {
	if err := mayWrite(p); err != nil {
		return wire.Followup{}, false, err
	}
	if utf8.RuneCountInString(req.Reason) > maxReason {
		return wire.Followup{}, false, fault.Field("reason", "over %d characters", maxReason)
	}
	if len(req.Filter) > maxFilter {
		return wire.Followup{}, false, fault.Field("filter", "over %d bytes", maxFilter)
	}
	// The filter is kept to be opened again in the review list: one that
	// list would refuse is refused here, not found broken on the visit.
	q, err := url.ParseQuery(req.Filter)
	if err == nil {
		_, err = s.parse(ctx, q)
	}
	if err != nil {
		msg := err.Error()
		if fe := fault.As(err); fe != nil {
			msg = fe.Message
		}
		return wire.Followup{}, false, fault.Field("filter", "not a review filter: %s", msg)
	}
	sites, err := s.sites(ctx)
	if err != nil {
		return wire.Followup{}, false, err
	}
	if _, ok := sites[site]; !ok {
		return wire.Followup{}, false, fault.New(fault.NotFound, "unknown_site", "no site %q", site)
	}
	now := s.Now().UTC()
	res, err := s.DB.ExecContext(ctx, `INSERT INTO followups (site_id, reason, filter, added_by, added_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site_id) DO NOTHING`, site, req.Reason, req.Filter, p.Name, sqlitedb.FormatTime(now))
	if err != nil {
		return wire.Followup{}, false, fmt.Errorf("putting %s on the follow-up list: %w", site, err)
	}
	created := false
	if n, _ := res.RowsAffected(); n == 1 {
		created = true
	} else if _, err := s.DB.ExecContext(ctx, `UPDATE followups SET reason = ?, filter = ?, added_by = ?, added_at = ? WHERE site_id = ?`,
		req.Reason, req.Filter, p.Name, sqlitedb.FormatTime(now), site); err != nil {
		return wire.Followup{}, false, fmt.Errorf("putting %s on the follow-up list: %w", site, err)
	}
	return wire.Followup{Site: site, Name: siteName(sites, site), Reason: req.Reason, AddedBy: p.Name,
		AddedAt: now.Truncate(time.Millisecond), Filter: req.Filter}, created, nil
}

// Unfollow takes site off the list; a site not on it is no error.
func (s *Store) Unfollow(ctx context.Context, p auth.Principal, site string) error {
	if err := mayWrite(p); err != nil {
		return err
	}
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM followups WHERE site_id = ?`, site); err != nil {
		return fmt.Errorf("taking %s off the follow-up list: %w", site, err)
	}
	return nil
}

// following returns the sites on the list.
func (s *Store) following(ctx context.Context) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.query(ctx, "the follow-up list", `SELECT site_id FROM followups`, nil, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	})
	return out, err
}

// siteName is a site's name, its id for one the catalogue no longer has.
func siteName(sites map[string]store.Site, id string) bilingual.Text {
	if st, ok := sites[id]; ok && len(st.Name) > 0 {
		return st.Name
	}
	return bilingual.New(id, id)
}
