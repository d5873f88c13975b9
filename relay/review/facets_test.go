package review_test

import (
	"context"
	"slices"
	"testing"

	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// The facets offer every template, deviation and officer of the findings
// recorded (each read by a seek in an index), the catalogue's sites by
// district, and refuse a site manager.
func TestFacetsOfferWhatWasRecorded(t *testing.T) {
	fx := newFixture(t, 60)
	got, err := fx.review.Facets(context.Background(), duty)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fx.models {
		tpl := m.template
		if tpl == "" {
			tpl = "-"
		}
		if !slices.ContainsFunc(got.Templates, func(x wire.FacetTemplate) bool { return x.ID == tpl }) {
			t.Errorf("template %q of %s not offered", tpl, m.id)
		}
		if m.deviation != "" && !slices.ContainsFunc(got.Deviations, func(x wire.FacetDeviation) bool {
			return x.Template == m.template && x.ID == m.deviation
		}) {
			t.Errorf("deviation %s/%s of %s not offered", m.template, m.deviation, m.id)
		}
		if !slices.Contains(got.Officers, m.observer) {
			t.Errorf("officer %s of %s not offered", m.observer, m.id)
		}
	}
	if len(got.Sites) != len(fixtureSites) || len(got.Districts) != 3 || got.Districts[0].Name["en"] == "" {
		t.Errorf("sites %+v, districts %+v", got.Sites, got.Districts)
	}
	if _, err := fx.review.Facets(context.Background(), auth.Principal{Name: "m", Role: auth.RoleSiteManager, Sites: []string{"s1"}}); err == nil {
		t.Error("a site manager read the facets")
	}
}
