package findings

import (
	"context"
	"fmt"
	"strings"
)

// Several returns the findings of ids that exist, by id, with their
// evidence and without their events: a page of the supervisors' review
// list (relay/review) in a few queries instead of a Get per finding. It
// checks no role: its caller does.
func (s *Store) Several(ctx context.Context, ids []string) (map[string]Finding, error) {
	out := make(map[string]Finding, len(ids))
	for len(ids) > 0 {
		batch := ids[:min(len(ids), evidenceBatch)]
		ids = ids[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+findingColumns+` FROM findings WHERE id IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		var got []*Finding
		for rows.Next() {
			f, err := s.scan(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading findings: %w", err)
			}
			got = append(got, &f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		if err := s.attachEvidence(ctx, got); err != nil {
			return nil, err
		}
		for _, f := range got {
			out[f.ID] = *f
		}
	}
	return out, nil
}
