// The site tree: district → site → zone → camera, filtered by what the
// officer types. Pure functions over the camera list, so the tree is rebuilt
// whole when the list or the filter changes (a few hundred cameras at most).
import { cameraKey, type Camera, type CameraState, type LocalizedName } from '../api'
import { localName } from '../i18n/format'
import type { Locale } from '../i18n/messages'

export interface CameraNode {
  key: string
  camera: Camera
  name: string
}

export interface ZoneNode {
  zone: string
  name: string
  cameras: CameraNode[]
}

export interface SiteNode {
  site: string
  name: string
  timeZone: string
  zones: ZoneNode[]
  /** Over all the site's cameras, whatever the filter shows. */
  counts: Record<CameraState, number>
}

export interface DistrictNode {
  /** The district's zh-CN name: the contract gives districts no id. */
  key: string
  name: string
  sites: SiteNode[]
}

/** Both languages' names of a zone key. */
export type ZoneNames = (zone: string) => LocalizedName

export interface TreeOptions {
  locale: Locale
  zoneName: ZoneNames
  filter?: string
}

// Zones in the order a site is walked: in through the entrance, the staff
// and isolated passages, donning, the floors, doffing, and out past the waste.
export const zoneOrder: readonly string[] = [
  'entrance',
  'staff_passage',
  'isolated_passage',
  'donning_room',
  'corridor',
  'lift_lobby',
  'meal_area',
  'sampling_point',
  'doffing_room_1',
  'doffing_room_2',
  'waste_route',
  'waste_storage',
]

function zoneRank(zone: string): number {
  const i = zoneOrder.indexOf(zone)
  return i < 0 ? zoneOrder.length : i
}

/** The tree of the cameras the filter lets through; districts and sites in the backend's order. */
export function buildTree(cameras: readonly Camera[], opts: TreeOptions): DistrictNode[] {
  const shown = new Set(filterCameras(cameras, opts.filter ?? '', opts.zoneName))
  const districts = new Map<string, DistrictNode>()
  const sites = new Map<string, SiteNode>()
  const counts = new Map<string, Record<CameraState, number>>()

  for (const c of cameras) {
    let n = counts.get(c.site)
    if (!n) counts.set(c.site, (n = { online: 0, stalled: 0, offline: 0 }))
    n[c.state]++
  }

  for (const c of cameras) {
    if (!shown.has(c)) continue
    const dkey = c.district['zh-CN'] || c.district.en
    let d = districts.get(dkey)
    if (!d) districts.set(dkey, (d = { key: dkey, name: localName(c.district, opts.locale), sites: [] }))
    let s = sites.get(c.site)
    if (!s) {
      s = { site: c.site, name: localName(c.site_name, opts.locale), timeZone: c.time_zone, zones: [], counts: counts.get(c.site)! }
      sites.set(c.site, s)
      d.sites.push(s)
    }
    const zone = c.zone || 'other'
    let z = s.zones.find((x) => x.zone === zone)
    if (!z) s.zones.push((z = { zone, name: localName(opts.zoneName(zone), opts.locale), cameras: [] }))
    z.cameras.push({ key: cameraKey(c), camera: c, name: localName(c.name, opts.locale) })
  }

  for (const s of sites.values()) {
    s.zones.sort((a, b) => zoneRank(a.zone) - zoneRank(b.zone) || a.zone.localeCompare(b.zone))
  }
  return [...districts.values()]
}

/** The cameras in display order, as arrow keys walk them. */
export function flattenTree(tree: readonly DistrictNode[]): CameraNode[] {
  return tree.flatMap((d) => d.sites.flatMap((s) => s.zones.flatMap((z) => z.cameras)))
}

/**
 * The cameras that match what was typed, in their order. Every word of the
 * query must appear in one of a camera's names or its site's, zone's or
 * district's, in either language, or in its ids; but when the words appear
 * together as typed in some camera's name ("doffing room 2"), only such
 * cameras match, so a number does not also find every "site-02".
 * Case and width do not matter (an IME's full-width "ＤＯＦＦ" finds
 * "doff"), and no pinyin is involved: Chinese is matched against Chinese
 * names, Latin letters against English ones and ids, whatever the interface
 * language.
 */
export function filterCameras(cameras: readonly Camera[], query: string, zoneName: ZoneNames): Camera[] {
  const words = fold(query).split(/\s+/).filter(Boolean)
  if (words.length === 0) return [...cameras]
  const fields = new Map(cameras.map((c) => [c, searchFields(c, zoneName)]))
  if (words.length > 1) {
    const phrase = words.join(' ')
    const exact = cameras.filter((c) => fields.get(c)!.some((f) => f.includes(phrase)))
    if (exact.length > 0) return exact
  }
  return cameras.filter((c) => words.every((w) => fields.get(c)!.some((f) => f.includes(w))))
}

function searchFields(c: Camera, zoneName: ZoneNames): string[] {
  const zone = zoneName(c.zone || 'other')
  return [c.site, c.id, cameraKey(c), c.zone, ...names(c.name), ...names(c.site_name), ...names(c.district), ...names(zone)].map(
    (f) => fold(f).replace(/\s+/g, ' '),
  )
}

function names(n: LocalizedName): string[] {
  return [n['zh-CN'], n.en]
}

/** Case- and width-insensitive form for matching. */
export function fold(s: string): string {
  return s.normalize('NFKC').toLocaleLowerCase('en')
}
