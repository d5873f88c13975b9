import { describe, expect, it } from 'vitest'
import type { Camera, CameraState, LocalizedName } from '../api'
import { buildTree, filterCameras, flattenTree, type ZoneNames } from './tree'

const zones: Record<string, LocalizedName> = {
  entrance: { 'zh-CN': '出入口', en: 'Entrance' },
  doffing_room_1: { 'zh-CN': '一脱间', en: 'Doffing room 1' },
  doffing_room_2: { 'zh-CN': '二脱间', en: 'Doffing room 2' },
  waste_storage: { 'zh-CN': '医废暂存点', en: 'Waste storage point' },
  corridor: { 'zh-CN': '走廊', en: 'Corridors' },
}
const zoneName: ZoneNames = (z) => zones[z] ?? { 'zh-CN': z, en: z }

const sites = {
  'site-01': { name: { 'zh-CN': '东湖宾馆隔离点', en: 'Donghu Hotel isolation site' }, district: { 'zh-CN': '东城区', en: 'Dongcheng District' } },
  'site-02': { name: { 'zh-CN': '西山酒店隔离点', en: 'Xishan Hotel isolation site' }, district: { 'zh-CN': '西城区', en: 'Xicheng District' } },
  'site-03': { name: { 'zh-CN': '东郊公寓隔离点', en: 'Eastern Apartments isolation site' }, district: { 'zh-CN': '东城区', en: 'Dongcheng District' } },
}

function cam(site: keyof typeof sites, id: string, zone: string, zh: string, en: string, state: CameraState = 'online'): Camera {
  return {
    site,
    id,
    zone,
    name: { 'zh-CN': zh, en },
    site_name: sites[site].name,
    district: sites[site].district,
    time_zone: 'Asia/Shanghai',
    online: state !== 'offline',
    state,
    streams: {},
  }
}

// In the backend's order: waste before the entrance, a second district in between.
const cameras: Camera[] = [
  cam('site-01', 'waste', 'waste_storage', '医废暂存点', 'Medical-waste storage point'),
  cam('site-01', 'doff2', 'doffing_room_2', '二脱间', 'Doffing room 2', 'stalled'),
  cam('site-01', 'doff1', 'doffing_room_1', '一脱间', 'Doffing room 1'),
  cam('site-01', 'gate', 'entrance', '场所出入口', 'Entrance', 'offline'),
  cam('site-02', 'doff1', 'doffing_room_1', '一脱间', 'Doffing room 1'),
  cam('site-02', 'hall-a', 'corridor', '三楼走廊', 'Third-floor corridor'),
  cam('site-02', 'hall-b', 'corridor', '四楼走廊', 'Fourth-floor corridor', 'offline'),
  cam('site-03', 'odd', 'rooftop', '天台', 'Rooftop'),
  cam('site-03', 'nozone', '', '杂项', 'Misc'),
]

// The tree as a compact outline: "district > site > zone: cameras".
function outline(filter: string, locale: 'zh-CN' | 'en' = 'en'): string[] {
  const out: string[] = []
  for (const d of buildTree(cameras, { locale, zoneName, filter })) {
    for (const s of d.sites) {
      for (const z of s.zones) out.push(`${d.name} > ${s.name} > ${z.name}: ${z.cameras.map((c) => c.name).join(', ')}`)
    }
  }
  return out
}

describe('buildTree', () => {
  it('groups district → site → zone → camera, zones in walking order', () => {
    expect(outline('')).toEqual([
      'Dongcheng District > Donghu Hotel isolation site > Entrance: Entrance',
      'Dongcheng District > Donghu Hotel isolation site > Doffing room 1: Doffing room 1',
      'Dongcheng District > Donghu Hotel isolation site > Doffing room 2: Doffing room 2',
      'Dongcheng District > Donghu Hotel isolation site > Waste storage point: Medical-waste storage point',
      // Unknown zones after the known ones, by key; no zone is "other".
      'Dongcheng District > Eastern Apartments isolation site > other: Misc',
      'Dongcheng District > Eastern Apartments isolation site > rooftop: Rooftop',
      'Xicheng District > Xishan Hotel isolation site > Corridors: Third-floor corridor, Fourth-floor corridor',
      'Xicheng District > Xishan Hotel isolation site > Doffing room 1: Doffing room 1',
    ])
  })

  it('names everything in the interface language', () => {
    expect(outline('', 'zh-CN')[0]).toBe('东城区 > 东湖宾馆隔离点 > 出入口: 场所出入口')
  })

  it('counts each site’s states over all its cameras, whatever the filter', () => {
    const tree = buildTree(cameras, { locale: 'en', zoneName, filter: 'waste' })
    const s = tree[0]!.sites[0]!
    expect(s.site).toBe('site-01')
    expect(s.counts).toEqual({ online: 2, stalled: 1, offline: 1 })
    expect(s.zones.flatMap((z) => z.cameras.map((c) => c.key))).toEqual(['site-01/waste'])
  })

  it('flattens in display order', () => {
    const keys = flattenTree(buildTree(cameras, { locale: 'en', zoneName })).map((c) => c.key)
    expect(keys).toEqual([
      'site-01/gate',
      'site-01/doff1',
      'site-01/doff2',
      'site-01/waste',
      'site-03/nozone',
      'site-03/odd',
      'site-02/hall-a',
      'site-02/hall-b',
      'site-02/doff1',
    ])
  })

  it('is empty for no cameras', () => {
    expect(buildTree([], { locale: 'en', zoneName })).toEqual([])
  })
})

describe('filter', () => {
  const keys = (filter: string, locale: 'zh-CN' | 'en' = 'en') =>
    flattenTree(buildTree(cameras, { locale, zoneName, filter })).map((c) => c.key)

  const cases: { name: string; filter: string; want: string[] }[] = [
    { name: 'nothing typed shows all', filter: '   ', want: keys('') },
    { name: 'an English camera name, any case', filter: 'DOFFING room 2', want: ['site-01/doff2'] },
    { name: 'words apart when no name has them together', filter: 'room donghu', want: ['site-01/doff1', 'site-01/doff2'] },
    { name: 'runs of spaces are one', filter: ' doffing   room  2 ', want: ['site-01/doff2'] },
    { name: 'a Chinese camera name', filter: '一脱', want: ['site-01/doff1', 'site-02/doff1'] },
    { name: 'a Chinese zone name finds its cameras whatever their own names', filter: '走廊', want: ['site-02/hall-a', 'site-02/hall-b'] },
    { name: 'an English zone name', filter: 'waste storage', want: ['site-01/waste'] },
    { name: 'a site name takes all its cameras', filter: '西山', want: ['site-02/hall-a', 'site-02/hall-b', 'site-02/doff1'] },
    { name: 'a district name', filter: 'xicheng', want: ['site-02/hall-a', 'site-02/hall-b', 'site-02/doff1'] },
    { name: 'words in both languages narrow each other', filter: '东湖 doff', want: ['site-01/doff1', 'site-01/doff2'] },
    { name: 'a camera key', filter: 'site-02/doff1', want: ['site-02/doff1'] },
    { name: 'a camera id', filter: 'hall-b', want: ['site-02/hall-b'] },
    { name: 'full-width letters from an IME', filter: 'ＨＡＬＬ－Ａ', want: ['site-02/hall-a'] },
    { name: 'a substring inside a word', filter: 'idor', want: ['site-02/hall-a', 'site-02/hall-b'] },
    { name: 'pinyin is not a name', filter: 'donghu binguan', want: [] },
    { name: 'no match', filter: 'car park', want: [] },
  ]
  for (const c of cases) {
    it(c.name, () => {
      expect(keys(c.filter, 'en')).toEqual(c.want)
      // The interface language changes labels, never what matches.
      expect(new Set(keys(c.filter, 'zh-CN'))).toEqual(new Set(c.want))
    })
  }

  it('filters a plain list', () => {
    expect(filterCameras(cameras, 'Eastern rooftop', zoneName).map((c) => c.id)).toEqual(['odd'])
  })
})
