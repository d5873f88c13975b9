package review

import (
	"context"
	"encoding/json"
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
	err = s.each(ctx, `SELECT DISTINCT template_id FROM findings ORDER BY template_id`, nil, func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		if _, ok := titles[id]; !ok {
			if id == "" {
				id = "-"
			}
			out.Templates = append(out.Templates, wire.FacetTemplate{ID: id, Title: bilingual.New(id, id)})
		}
		return nil
	})
	if err != nil {
		return wire.ReviewFacets{}, err
	}
	err = s.each(ctx, `SELECT template_id, deviation, max(deviation_title) FROM findings WHERE deviation <> '' GROUP BY template_id, deviation`, nil, func(scan func(...any) error) error {
		var tpl, dev, title string
		if err := scan(&tpl, &dev, &title); err != nil {
			return err
		}
		if _, ok := devTitles[[2]string{tpl, dev}]; ok {
			return nil
		}
		text := bilingual.New(dev, dev)
		if title != "" {
			_ = json.Unmarshal([]byte(title), &text) // a title that does not read is named by its id
		}
		out.Deviations = append(out.Deviations, wire.FacetDeviation{Template: tpl, ID: dev, Title: text})
		return nil
	})
	if err != nil {
		return wire.ReviewFacets{}, err
	}
	err = s.each(ctx, `SELECT DISTINCT observer FROM findings ORDER BY observer`, nil, func(scan func(...any) error) error {
		var name string
		if err := scan(&name); err != nil {
			return err
		}
		out.Officers = append(out.Officers, name)
		return nil
	})
	if err != nil {
		return wire.ReviewFacets{}, err
	}
	return out, nil
}
