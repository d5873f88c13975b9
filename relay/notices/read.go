package notices

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/internal/fault"
	"github.com/qianliyan/qianliyan/internal/sqlitedb"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Filter selects notices.
type Filter struct {
	Site string
	// Status is open, closed or "" for both.
	Status string
	// Limit is how many, newest first: DefaultList when 0, at most MaxList.
	Limit int
}

// Lists' lengths.
const (
	DefaultList = 100
	MaxList     = 1000
)

// row is a notice as kept.
type row struct {
	id, site, lang, by string
	year, seq          int
	issued             time.Time
	closed             *time.Time
}

const rowColumns = `id, site_id, lang, issued_by, year, seq, issued_at, closed_at`

func scanRow(sc interface{ Scan(...any) error }) (row, error) {
	var r row
	var issued string
	var closed sql.NullString
	if err := sc.Scan(&r.id, &r.site, &r.lang, &r.by, &r.year, &r.seq, &issued, &closed); err != nil {
		return row{}, err
	}
	var err error
	if r.issued, err = sqlitedb.ParseTime(issued); err != nil {
		return row{}, err
	}
	if closed.Valid {
		t, err := sqlitedb.ParseTime(closed.String)
		if err != nil {
			return row{}, err
		}
		r.closed = &t
	}
	return r, nil
}

func notFound(id string) error {
	return fault.New(fault.NotFound, "unknown_notice", "no notice %s", id)
}

// Get returns a notice with its items as they stand; another site's is
// not found to a site manager.
func (s *Store) Get(ctx context.Context, by auth.Principal, id string) (wire.Notice, error) {
	r, err := scanRow(s.DB.QueryRowContext(ctx, `SELECT `+rowColumns+` FROM notices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return wire.Notice{}, notFound(id)
	}
	if err != nil {
		return wire.Notice{}, fmt.Errorf("reading notice %s: %w", id, err)
	}
	if !by.CanView(r.site) {
		return wire.Notice{}, notFound(id)
	}
	out, err := s.build(ctx, []row{r})
	if err != nil {
		return wire.Notice{}, err
	}
	return out[0], nil
}

// OfFinding returns the notice finding id is in, if any, as by may see it.
func (s *Store) OfFinding(ctx context.Context, by auth.Principal, id string) (wire.Notice, bool, error) {
	in, err := s.inNotices(ctx, []string{id})
	if err != nil || in[id] == "" {
		return wire.Notice{}, false, err
	}
	n, err := s.Get(ctx, by, in[id])
	if fault.KindOf(err) == fault.NotFound {
		return wire.Notice{}, false, nil
	}
	return n, err == nil, err
}

// List returns the notices by may see that f selects, newest first.
func (s *Store) List(ctx context.Context, by auth.Principal, f Filter) ([]wire.Notice, error) {
	switch f.Status {
	case "", wire.NoticeOpen, wire.NoticeClosed:
	default:
		return nil, fault.Field("status", "%q is not open or closed", f.Status)
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultList
	case f.Limit < 1 || f.Limit > MaxList:
		return nil, fault.Field("limit", "%d: want 1 to %d", f.Limit, MaxList)
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.Site != "" {
		where, args = append(where, "site_id = ?"), append(args, f.Site)
	}
	if by.Role == auth.RoleSiteManager {
		if len(by.Sites) == 0 {
			return []wire.Notice{}, nil
		}
		where, args = append(where, "site_id IN ("+marks(len(by.Sites))+")"), append(args, anys(by.Sites)...)
	}
	// Closing is seen when read: the open ones are looked at first, so
	// that the status the filter reads is current.
	if err := s.settle(ctx, strings.Join(where, " AND "), args); err != nil {
		return nil, err
	}
	switch f.Status {
	case wire.NoticeOpen:
		where = append(where, "closed_at IS NULL")
	case wire.NoticeClosed:
		where = append(where, "closed_at IS NOT NULL")
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT `+rowColumns+` FROM notices WHERE `+strings.Join(where, " AND ")+
		` ORDER BY issued_at DESC, year DESC, seq DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	var list []row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing notices: %w", err)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	return s.build(ctx, list)
}

// settle closes the open notices (of those where selects) whose items'
// findings are all closed now.
func (s *Store) settle(ctx context.Context, where string, args []any) error {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+rowColumns+` FROM notices WHERE closed_at IS NULL AND `+where, args...)
	if err != nil {
		return fmt.Errorf("reading open notices: %w", err)
	}
	var open []row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("reading open notices: %w", err)
		}
		open = append(open, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading open notices: %w", err)
	}
	_, err = s.build(ctx, open)
	return err
}

// build makes the notices of rows with their items as their findings
// stand now, closing (for good) those whose findings are all closed.
func (s *Store) build(ctx context.Context, rows []row) ([]wire.Notice, error) {
	out := make([]wire.Notice, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	items, err := s.items(ctx, ids)
	if err != nil {
		return nil, err
	}
	var fids []string
	for _, its := range items {
		for _, it := range its {
			fids = append(fids, it.finding)
		}
	}
	found, err := s.Findings.Several(ctx, fids)
	if err != nil {
		return nil, err
	}
	sites, err := s.siteMap(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		n := wire.Notice{ID: r.id, Number: Number(r.lang, r.year, r.seq), Year: r.year, Seq: r.seq, Site: r.site,
			SiteName: bilingual.Text{bilingual.ZH: r.site, bilingual.EN: r.site}, IssuedBy: r.by, IssuedAt: r.issued,
			Lang: r.lang, Items: []wire.NoticeItem{}, ClosedAt: r.closed}
		if st, ok := sites[r.site]; ok {
			n.SiteName, n.District = st.Name, st.District
		}
		var last time.Time
		closed := true
		for _, it := range items[r.id] {
			f := found[it.finding]
			wi := wire.NoticeItem{Position: it.position, Finding: it.finding, Deviation: it.deviation, Requirement: it.requirement,
				Deadline: it.deadline, Status: f.Status, Severity: f.Severity,
				Reported: f.Status == findings.StatusRectified || f.Status == findings.StatusVerified,
				Verified: f.Status == findings.StatusVerified}
			if f.Evidence.Snapshot != nil {
				wi.Snapshot = f.Evidence.Snapshot.URL
			}
			n.Items = append(n.Items, wi)
			n.Total++
			if wi.Reported {
				n.Reported++
			}
			if wi.Verified {
				n.Verified++
			}
			// A finding no longer there (none is ever deleted) keeps the
			// notice open rather than closing it unseen.
			closed = closed && f.ID != "" && f.Status.Closed()
			if f.UpdatedAt.After(last) {
				last = f.UpdatedAt
			}
		}
		if n.ClosedAt == nil && closed && n.Total > 0 {
			if _, err := s.DB.ExecContext(ctx, `UPDATE notices SET closed_at = ? WHERE id = ? AND closed_at IS NULL`,
				sqlitedb.FormatTime(last), r.id); err != nil {
				return nil, fmt.Errorf("closing notice %s: %w", r.id, err)
			}
			n.ClosedAt = &last
		}
		n.Status = wire.NoticeOpen
		if n.ClosedAt != nil {
			n.Status = wire.NoticeClosed
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Store) siteMap(ctx context.Context) (map[string]store.Site, error) {
	sites, err := s.Sites.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading sites for notices: %w", err)
	}
	out := make(map[string]store.Site, len(sites))
	for _, st := range sites {
		out[st.ID] = st
	}
	return out, nil
}

// items returns the items of the notices ids, in order, by notice.
func (s *Store) items(ctx context.Context, ids []string) (map[string][]item, error) {
	out := map[string][]item{}
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 500)]
		ids = ids[len(batch):]
		rows, err := s.DB.QueryContext(ctx, `SELECT notice_id, position, finding_id, deviation, requirement, deadline FROM notice_items
			WHERE notice_id IN (`+marks(len(batch))+`) ORDER BY notice_id, position`, anys(batch)...)
		if err != nil {
			return nil, fmt.Errorf("reading notices' items: %w", err)
		}
		for rows.Next() {
			var n, dev, req, deadline string
			var it item
			if err := rows.Scan(&n, &it.position, &it.finding, &dev, &req, &deadline); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading notices' items: %w", err)
			}
			if err := errors.Join(json.Unmarshal([]byte(dev), &it.deviation), json.Unmarshal([]byte(req), &it.requirement)); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading notice %s's item %d: %w", n, it.position, err)
			}
			if it.deadline, err = sqlitedb.ParseTime(deadline); err != nil {
				rows.Close()
				return nil, err
			}
			out[n] = append(out[n], it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading notices' items: %w", err)
		}
	}
	return out, nil
}
