package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/qianliyan/qianliyan/internal/bilingual"
)

// districts are the duty room's districts (~12), the first Sites spread over.
var districts = []bilingual.Text{
	{"zh-CN": "东城区", "en": "Dongcheng District"},
	{"zh-CN": "西城区", "en": "Xicheng District"},
	{"zh-CN": "朝阳区", "en": "Chaoyang District"},
	{"zh-CN": "海淀区", "en": "Haidian District"},
	{"zh-CN": "丰台区", "en": "Fengtai District"},
	{"zh-CN": "石景山区", "en": "Shijingshan District"},
	{"zh-CN": "门头沟区", "en": "Mentougou District"},
	{"zh-CN": "房山区", "en": "Fangshan District"},
	{"zh-CN": "通州区", "en": "Tongzhou District"},
	{"zh-CN": "顺义区", "en": "Shunyi District"},
	{"zh-CN": "昌平区", "en": "Changping District"},
	{"zh-CN": "大兴区", "en": "Daxing District"},
}

// siteKinds are config.SiteTypes with what a site of the kind is called.
var siteKinds = []struct {
	kind     string
	zh, en   string
	weight   int
	prefixes []bilingual.Text
}{
	{"hotel", "宾馆隔离点", "Hotel isolation site", 5, []bilingual.Text{
		{"zh-CN": "东湖", "en": "Donghu"}, {"zh-CN": "锦江", "en": "Jinjiang"}, {"zh-CN": "如家", "en": "Rujia"},
		{"zh-CN": "华美", "en": "Huamei"}, {"zh-CN": "金桥", "en": "Jinqiao"}, {"zh-CN": "天坛", "en": "Tiantan"},
		{"zh-CN": "友谊", "en": "Youyi"}, {"zh-CN": "新世纪", "en": "Xinshiji"}, {"zh-CN": "和平", "en": "Heping"},
	}},
	{"purpose_built", "集中隔离场所", "Purpose-built isolation centre", 2, []bilingual.Text{
		{"zh-CN": "北郊", "en": "Beijiao"}, {"zh-CN": "南苑", "en": "Nanyuan"}, {"zh-CN": "西山", "en": "Xishan"},
		{"zh-CN": "东坝", "en": "Dongba"},
	}},
	{"dormitory", "宿舍隔离点", "Dormitory isolation site", 2, []bilingual.Text{
		{"zh-CN": "理工学院", "en": "Polytechnic"}, {"zh-CN": "师范学院", "en": "Normal College"},
		{"zh-CN": "职业技术学院", "en": "Vocational College"}, {"zh-CN": "建工集团", "en": "Construction Group"},
	}},
	{"other", "临时隔离点", "Temporary isolation site", 1, []bilingual.Text{
		{"zh-CN": "体育中心", "en": "Sports Centre"}, {"zh-CN": "会展中心", "en": "Exhibition Centre"},
		{"zh-CN": "培训中心", "en": "Training Centre"},
	}},
}

// cameras every seeded site has, in display order: the zones the embedded
// checklist templates apply to, so each has findings of several templates.
var cameras = []struct {
	id, zone string
	name     bilingual.Text
}{
	{"doff1", "doffing_room_1", bilingual.Text{"zh-CN": "一脱间", "en": "Doffing room 1"}},
	{"doff2", "doffing_room_2", bilingual.Text{"zh-CN": "二脱间", "en": "Doffing room 2"}},
	{"gate", "entrance", bilingual.Text{"zh-CN": "场所出入口", "en": "Entrance"}},
	{"corridor", "corridor", bilingual.Text{"zh-CN": "隔离楼层走廊", "en": "Isolation floor corridor"}},
	{"meal", "meal_area", bilingual.Text{"zh-CN": "送餐区", "en": "Meal area"}},
	{"waste", "waste_storage", bilingual.Text{"zh-CN": "医废暂存点", "en": "Medical waste store"}},
}

// site is one seeded site.
type site struct {
	id       string
	district bilingual.Text
	name     bilingual.Text
	kind     string
	// weight is how prone to problems the site is: a few sites have most
	// findings, as in the institute's figures (问题较多的机构).
	weight float64
}

// makeSites names n sites over the districts, every kind among them.
func makeSites(rng *rand.Rand, n int) []site {
	total := 0
	for _, k := range siteKinds {
		total += k.weight
	}
	used := map[string]int{}
	sites := make([]site, n)
	for i := range sites {
		// The first four are one of each kind, so every kind is there
		// however few sites are asked for.
		k := siteKinds[i%len(siteKinds)]
		if i >= len(siteKinds) {
			pick := rng.IntN(total)
			for _, c := range siteKinds {
				if pick < c.weight {
					k = c
					break
				}
				pick -= c.weight
			}
		}
		d := districts[i%len(districts)]
		p := k.prefixes[rng.IntN(len(k.prefixes))]
		key := d["zh-CN"] + p["zh-CN"] + k.kind
		used[key]++
		zh, en := d["zh-CN"][:len(d["zh-CN"])-len("区")]+p["zh-CN"]+k.zh, strings.TrimSuffix(d["en"], " District")+" "+p["en"]+" "+k.en
		if used[key] > 1 {
			zh += fmt.Sprintf("（%d号）", used[key])
			en += fmt.Sprintf(" No. %d", used[key])
		}
		sites[i] = site{
			id: fmt.Sprintf("site-%03d", i+1), district: d, kind: k.kind,
			name:   bilingual.Text{"zh-CN": zh, "en": en},
			weight: 0.2 + rng.ExpFloat64(),
		}
	}
	return sites
}

// User is a seeded user and the password to sign in with.
type User struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Password string   `json:"password"`
	Sites    []string `json:"sites,omitempty"`
}

// The supervisor and the duty officer the contract names, whose passwords
// tests sign in with.
const (
	SupervisorName     = "sup"
	SupervisorPassword = "sup-password-1"
	DutyName           = "duty1"
	DutyPassword       = "duty-password-1"
	// ManagerPassword is every site manager's (manager-001 for site-001, …).
	ManagerPassword = "manager-password-1"
	AdminName       = "admin"
	AdminPassword   = "admin-password-1"
)

// officers is how many duty officers file the findings (duty1…dutyN).
const officers = 12

// makeUsers are the supervisors, duty officers, an admin and a site
// manager per site.
func makeUsers(sites []site) []User {
	users := []User{
		{Name: SupervisorName, Role: "supervisor", Password: SupervisorPassword},
		{Name: "sup2", Role: "supervisor", Password: "sup-password-2"},
		{Name: AdminName, Role: "admin", Password: AdminPassword},
	}
	for i := 1; i <= officers; i++ {
		users = append(users, User{Name: fmt.Sprintf("duty%d", i), Role: "duty", Password: fmt.Sprintf("duty-password-%d", i)})
	}
	for _, s := range sites {
		users = append(users, User{Name: "manager-" + strings.TrimPrefix(s.id, "site-"), Role: "site_manager",
			Password: ManagerPassword, Sites: []string{s.id}})
	}
	return users
}

// publishToken is the bearer token every seeded site's gateway may publish
// with (a simulator publishing to the seeded relay), from the seed.
func publishToken(rng *rand.Rand) (token, sha string) {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	token = hex.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, hex.EncodeToString(sum[:])
}

// relayYAML is the relay's configuration of the seeded duty room; hashes
// are the users' password hashes by name.
func relayYAML(listen, dataDir string, sites []site, users []User, hashes map[string]string, tokenSHA string) string {
	var b strings.Builder
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	text := func(t bilingual.Text) string { return fmt.Sprintf("{zh-CN: %s, en: %s}", q(t["zh-CN"]), q(t["en"])) }
	fmt.Fprintf(&b, "# The seeded duty room (relay/seed, bench seed): %d sites, %d users.\n", len(sites), len(users))
	fmt.Fprintf(&b, "listen: %s\ndata_dir: %s\n", q(listen), q(dataDir))
	b.WriteString(`shifts:
  time_zone: Asia/Shanghai
  schedule:
    - {id: day, start: "08:00", name: {zh-CN: 白班, en: Day shift}}
    - {id: night, start: "20:00", name: {zh-CN: 夜班, en: Night shift}}
sites:
`)
	for _, s := range sites {
		fmt.Fprintf(&b, "  - id: %s\n    district: %s\n    name: %s\n    time_zone: Asia/Shanghai\n    type: %s\n",
			s.id, text(s.district), text(s.name), s.kind)
		fmt.Fprintf(&b, "    publish_token_sha256: [%s]\n    cameras:\n", tokenSHA)
		for _, c := range cameras {
			fmt.Fprintf(&b, "      - {id: %s, zone: %s, name: %s}\n", c.id, c.zone, text(c.name))
		}
	}
	b.WriteString("users:\n")
	for _, u := range users {
		sites := ""
		if len(u.Sites) > 0 {
			sites = fmt.Sprintf(", sites: [%s]", strings.Join(u.Sites, ", "))
		}
		fmt.Fprintf(&b, "  - {name: %s, role: %s%s, password_hash: %s}\n", u.Name, u.Role, sites, q(hashes[u.Name]))
	}
	return b.String()
}
