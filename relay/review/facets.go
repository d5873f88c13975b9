package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/config"
	"github.com/qianliyan/qianliyan/relay/findings"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// Facets returns what the filters offer: the catalogue's districts and
// sites, the templates and deviations of the checklists and of the
// findings recorded, the officers who recorded them, and the fixed lists.
func (s *Store) Facets(ctx context.Context, by auth.Principal) (wire.ReviewFacets, error) {
	if err := checkRead(by); err != nil {
		return wire.ReviewFacets{}, err
	}
	out := wire.ReviewFacets{
		Districts: []wire.FacetDistrict{}, Sites: []wire.FacetSite{}, Templates: []wire.FacetTemplate{},
		Deviations: []wire.FacetDeviation{}, Officers: []string{},
		SiteTypes: config.SiteTypes, Severities: findings.Severities, Statuses: Statuses, Outcomes: OutcomeKinds,
	}
	err := s.each(ctx, `SELECT id, name_zh, name_en, district_zh, district_en, kind FROM sites ORDER BY district_zh, id`, nil, func(scan func(...any) error) error {
		var site wire.FacetSite
		var nzh, nen, dzh, den string
		if err := scan(&site.ID, &nzh, &nen, &dzh, &den, &site.SiteType); err != nil {
			return err
		}
		site.Name, site.District = bilingual.New(nzh, nen), dzh
		out.Sites = append(out.Sites, site)
		if !slices.ContainsFunc(out.Districts, func(d wire.FacetDistrict) bool { return d.Key == dzh }) {
			out.Districts = append(out.Districts, wire.FacetDistrict{Key: dzh, Name: bilingual.New(dzh, den)})
		}
		return nil
	})
	if err != nil {
		return wire.ReviewFacets{}, err
	}

	// The checklists' own words first; the findings' add what no template
	// of this relay knows (an older version's, free text's "-").
	titles := map[string]bilingual.Text{}
	devTitles := map[[2]string]bilingual.Text{}
	for _, t := range s.templates.Latest() {
		out.Templates = append(out.Templates, wire.FacetTemplate{ID: t.ID, Title: t.Title})
		titles[t.ID] = t.Title
		for _, d := range t.Deviations {
			out.Deviations = append(out.Deviations, wire.FacetDeviation{Template: t.ID, ID: d.ID, Title: d.Text})
			devTitles[[2]string{t.ID, d.ID}] = d.Text
		}
	}
	// Each distinct value is one seek in an index (findings_template,
	// findings_observer), not a read of every finding.
	tpls, err := s.distinct(ctx, `template_id`)
	if err != nil {
		return wire.ReviewFacets{}, err
	}
	for _, id := range tpls {
		if _, ok := titles[id]; !ok {
			if id == "" {
				id = "-"
			}
			out.Templates = append(out.Templates, wire.FacetTemplate{ID: id, Title: bilingual.New(id, id)})
		}
	}
	var tpl, dev string
	for {
		err := s.db.QueryRowContext(ctx, `SELECT template_id, deviation FROM findings WHERE (template_id, deviation) > (?, ?)
			ORDER BY template_id, deviation LIMIT 1`, tpl, dev).Scan(&tpl, &dev)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return wire.ReviewFacets{}, fmt.Errorf("reading the findings' deviations: %w", err)
		}
		if _, ok := devTitles[[2]string{tpl, dev}]; ok || dev == "" {
			continue
		}
		var title string
		if err := s.db.QueryRowContext(ctx, `SELECT max(deviation_title) FROM (SELECT deviation_title FROM findings
			WHERE template_id = ? AND deviation = ? LIMIT 20)`, tpl, dev).Scan(&title); err != nil {
			return wire.ReviewFacets{}, fmt.Errorf("reading the findings' deviations: %w", err)
		}
		text := bilingual.New(dev, dev)
		if title != "" {
			_ = json.Unmarshal([]byte(title), &text) // a title that does not read is named by its id
		}
		out.Deviations = append(out.Deviations, wire.FacetDeviation{Template: tpl, ID: dev, Title: text})
	}
	if out.Officers, err = s.distinct(ctx, `observer`); err != nil {
		return wire.ReviewFacets{}, err
	}
	return out, nil
}

// distinct returns the distinct values of a findings column that leads an
// index, in order: a seek for each (a loose index scan).
func (s *Store) distinct(ctx context.Context, column string) ([]string, error) {
	out := []string{}
	q := `SELECT min(` + column + `) FROM findings WHERE ` + column + ` > ?`
	var v sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT min(`+column+`) FROM findings`).Scan(&v)
	for err == nil && v.Valid {
		out = append(out, v.String)
		err = s.db.QueryRowContext(ctx, q, v.String).Scan(&v)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the findings' %s: %w", column, err)
	}
	return out, nil
}
