package findings_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/findings"
)

// A site manager follows only their sites' changes, on the cursor every
// follower shares, and reads past other sites' changes once.
func TestTouches(t *testing.T) {
	ctx := context.Background()
	fs, _ := newStore(t)
	for _, d := range []struct{ id, site string }{{"a1", "site-01"}, {"b1", "site-02"}, {"a2", "site-01"}, {"b2", "site-02"}} {
		dr := draft(d.id)
		dr.Site = d.site
		if _, _, err := fs.Create(ctx, duty, dr); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fs.Act(ctx, manager, "a1", findings.Request{ActionID: "ack-a1", Action: findings.ActAcknowledge}); err != nil {
		t.Fatal(err)
	}
	newest, err := fs.Cursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	describe := func(ts []findings.Touch) string {
		var s []string
		for _, t := range ts {
			s = append(s, fmt.Sprintf("%s:%s", t.Finding, t.Action))
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		name   string
		by     auth.Principal
		after  int64
		limit  int
		want   string
		cursor int64
	}{
		{"manager of site-01", manager, 0, 100, "a1:created,a2:created,a1:acknowledge", newest},
		{"manager of site-02", other, 0, 100, "b1:created,b2:created", newest},
		{"duty sees all", duty, 0, 100, "a1:created,b1:created,a2:created,b2:created,a1:acknowledge", newest},
		// The cursor moves past site-02's change the manager does not see.
		{"a page of two", manager, 0, 2, "a1:created", 2},
		{"after the newest", manager, newest, 100, "", newest},
		{"a manager without sites", auth.Principal{Name: "x", Role: auth.RoleSiteManager}, 0, 100, "", newest},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, cursor, err := fs.Touches(ctx, c.by, c.after, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if describe(got) != c.want || cursor != c.cursor || got == nil {
				t.Errorf("got %q cursor %d, want %q cursor %d", describe(got), cursor, c.want, c.cursor)
			}
		})
	}
}
