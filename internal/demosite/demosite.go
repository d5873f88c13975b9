// Package demosite is the catalogue of simulated isolation sites shared by
// `relay --demo` and `sitesim`, so the cameras one publishes are the cameras
// the other expects. Camera positions follow the default list in the domain
// reference (shared/domain/isolation-sites.md §6).
package demosite

import (
	"fmt"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// Camera is one camera position at a site.
type Camera struct {
	ID   string
	Zone string // the zone key checklists are matched against
	Name bilingual.Text
}

// Site is one simulated isolation site.
type Site struct {
	ID       string
	District bilingual.Text
	Name     bilingual.Text
	TimeZone string
	Type     string // relay/config.SiteTypes
	Cameras  []Camera
}

// Positions are the default camera positions, most watched first: a demo with
// four cameras a site gets both doffing rooms, the waste point and the gate.
var Positions = []Camera{
	{ID: "doff1", Zone: "doffing_room_1", Name: bilingual.New("一脱间", "Doffing room 1")},
	{ID: "doff2", Zone: "doffing_room_2", Name: bilingual.New("二脱间", "Doffing room 2")},
	{ID: "waste", Zone: "waste_storage", Name: bilingual.New("医废暂存点", "Medical-waste storage point")},
	{ID: "gate", Zone: "entrance", Name: bilingual.New("场所出入口", "Entrance")},
	{ID: "staff", Zone: "staff_passage", Name: bilingual.New("工作人员通道口", "Staff passage entrance")},
	{ID: "isolated", Zone: "isolated_passage", Name: bilingual.New("隔离人员通道口", "Isolated-person passage entrance")},
	{ID: "don", Zone: "donning_room", Name: bilingual.New("穿防护服间", "Donning room")},
	{ID: "corridor", Zone: "corridor", Name: bilingual.New("楼层走廊", "Floor corridor")},
	{ID: "lift", Zone: "lift_lobby", Name: bilingual.New("电梯厅", "Lift lobby")},
	{ID: "meal", Zone: "meal_area", Name: bilingual.New("餐食接收/分装区", "Meal reception/portioning area")},
	{ID: "route", Zone: "waste_route", Name: bilingual.New("医废转运路线", "Waste route")},
	{ID: "sampling", Zone: "sampling_point", Name: bilingual.New("核酸采样点", "Sampling point")},
}

var siteNames = []struct {
	district, name bilingual.Text
	kind           string
}{
	{bilingual.New("东城区", "Dongcheng District"), bilingual.New("东湖宾馆隔离点", "Donghu Hotel isolation site"), "hotel"},
	{bilingual.New("西城区", "Xicheng District"), bilingual.New("西山酒店隔离点", "Xishan Hotel isolation site"), "hotel"},
	{bilingual.New("南湖区", "Nanhu District"), bilingual.New("南湖公寓隔离点", "Nanhu Apartments isolation site"), "purpose_built"},
	{bilingual.New("北苑区", "Beiyuan District"), bilingual.New("北苑招待所隔离点", "Beiyuan Guesthouse isolation site"), "dormitory"},
}

// Sites returns n sites with m cameras each, numbered site-01, site-02, …
func Sites(n, m int) ([]Site, error) {
	if n < 1 || n > 99 {
		return nil, fmt.Errorf("demo sites: %d sites, want 1 to 99", n)
	}
	if m < 1 || m > len(Positions) {
		return nil, fmt.Errorf("demo sites: %d cameras a site, want 1 to %d", m, len(Positions))
	}
	sites := make([]Site, n)
	for i := range sites {
		names := siteNames[i%len(siteNames)]
		name := names.name
		if i >= len(siteNames) {
			name = bilingual.New(fmt.Sprintf("%s%d", name[bilingual.ZH], i+1), fmt.Sprintf("%s %d", name[bilingual.EN], i+1))
		}
		sites[i] = Site{
			ID:       fmt.Sprintf("site-%02d", i+1),
			District: names.district,
			Name:     name,
			TimeZone: "Asia/Shanghai",
			Type:     names.kind,
			Cameras:  append([]Camera(nil), Positions[:m]...),
		}
	}
	return sites, nil
}
