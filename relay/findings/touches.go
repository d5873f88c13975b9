package findings

import (
	"context"
	"fmt"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Touch says that a finding changed, without saying how: what a page
// showing findings needs to know that it should read them again.
type Touch struct {
	Cursor  int64  `json:"cursor"`
	Finding string `json:"finding"`
	Action  string `json:"action"`
}

// Touches returns up to limit changes after cursor to findings by may see,
// oldest first, on the same cursor as Changes, and the cursor to ask from
// next. That cursor is the last change read, seen or not, so that a site
// manager's page does not read other sites' changes again; it is after
// when there was none.
func (s *Store) Touches(ctx context.Context, by auth.Principal, after int64, limit int) ([]Touch, int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, e.finding_id, e.action, f.site_id
		FROM finding_events e JOIN findings f ON f.id = e.finding_id
		WHERE e.id > ? ORDER BY e.id LIMIT ?`, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("reading changes after %d: %w", after, err)
	}
	defer rows.Close()
	out, cursor := []Touch{}, after
	for rows.Next() {
		var t Touch
		var site string
		if err := rows.Scan(&t.Cursor, &t.Finding, &t.Action, &site); err != nil {
			return nil, after, fmt.Errorf("reading changes after %d: %w", after, err)
		}
		cursor = t.Cursor
		// A site manager's page does not hear of the supervisors' review.
		if by.CanView(site) && !(by.Role == auth.RoleSiteManager && wire.IsReviewEvent(t.Action)) {
			out = append(out, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("reading changes after %d: %w", after, err)
	}
	return out, cursor, nil
}
