// The supervisors' statistics, follow-up list, 监督意见书 and reports as the
// console backend passes them on from the relay (relay/wire/stats.go,
// reports.go; console/relayclient/notices.go; docs/PROTOCOLS.md, "Issue 13:
// the console's dashboard, notices and reports"). Fields keep the relay's
// JSON names; times are RFC 3339 strings. Every `drill` is the review
// list's query string for exactly the rows a figure counts.
import { ContractError, isObject } from './parse'
import type { LocalizedName } from './types'

export interface StatsGroup {
  key: string
  label: LocalizedName
  count: number
  split?: Record<string, number>
  drill: string
}

export interface FindingStats {
  total: number
  group: string
  split?: string
  groups: StatsGroup[]
  split_labels?: Record<string, LocalizedName>
}

export interface Rectification {
  total: number
  rectified: number
  verified: number
  rate: number | null
  median_hours_to_rectify: number | null
}

export interface RectificationGroup extends Rectification {
  key: string
  label: LocalizedName
  count: number
  drill: string
}

export interface RectificationStats extends Rectification {
  group?: string
  groups?: RectificationGroup[]
}

export interface OverdueBucket {
  key: 'lt1d' | '1to3d' | '3to7d' | 'gt7d' | string
  label?: LocalizedName
  count: number
  drill: string
}

export interface OverdueStats {
  now?: string
  total: number
  buckets: OverdueBucket[]
}

export interface RepeatSite {
  site: string
  name: LocalizedName
  district?: LocalizedName
  count: number
  days?: number
  drill: string
}

export interface RankedSite {
  site: string
  name: LocalizedName
  district: LocalizedName
  site_type?: string
  findings: number
  critical: number
  overdue: number
  repeats: number
  score: number
  following: boolean
  drill: string
}

export interface ShiftCoverage {
  shift: string
  name?: LocalizedName
  start: string
  end: string
  sites: number
  sites_met: number
  minutes_watched: number
  key_moments_watched: number
  key_moments_missed: number
  drill?: string
}

export interface CheckStat {
  site: string
  activity: string
  template?: string
  checks: number
  steps_observed: number
  steps_correct: number
  deviations: number
  compliance_rate: number | null
}

export interface CheckStats {
  from: string
  to: string
  stats: CheckStat[]
}

export interface Followup {
  site: string
  name: LocalizedName
  reason: string
  added_by: string
  added_at: string
  filter: string
}

export interface NoticeItem {
  position: number
  finding: string
  deviation: LocalizedName
  requirement: LocalizedName
  deadline: string | null
  status: string
  reported: boolean
  verified: boolean
}

export interface Notice {
  id: string
  number: string
  site: string
  site_name: LocalizedName
  issued_by: string
  issued_at: string
  lang: string
  status: 'open' | 'closed' | string
  items: NoticeItem[]
  total: number
  reported: number
  verified: number
}

export interface NoticeRequest {
  site: string
  findings: string[]
  lang: 'zh-CN' | 'en'
}

/** Where the backend kept a file it saved for the window. */
export interface Saved {
  path: string
  name: string
  bytes: number
}

/** A file the backend passed on from the relay, for the browser to download. */
export interface Download {
  name: string
  blob: Blob
}

export const reportPeriods = ['daily', 'shift', 'weekly', 'monthly'] as const
export type ReportPeriod = (typeof reportPeriods)[number]
export const reportFormats = ['xlsx', 'pdf', 'csv'] as const
export type ReportFormat = (typeof reportFormats)[number]

export interface ReportQuery {
  period: ReportPeriod
  date: string
  shift?: string
  lang: 'zh-CN' | 'en'
  format: ReportFormat | 'json'
}

export function reportParams(q: ReportQuery): string {
  const p = new URLSearchParams({ date: q.date, lang: q.lang, format: q.format })
  if (q.period === 'shift' && q.shift) p.set('shift', q.shift)
  return p.toString()
}

function shaped<T>(v: unknown, where: string, fields: string[], lists: string[] = []): T {
  if (!isObject(v)) throw new ContractError(where, 'want an object')
  for (const f of fields) if (typeof v[f] !== 'number' && typeof v[f] !== 'string') throw new ContractError(where, `"${f}" missing`)
  for (const f of lists) if (!Array.isArray(v[f])) throw new ContractError(where, `"${f}" is not a list`)
  return v as T
}

function listOf<T>(v: unknown, where: string, fields: string[]): T[] {
  if (!Array.isArray(v)) throw new ContractError(where, 'want a list')
  return v.map((x, i) => shaped<T>(x, `${where} [${i}]`, fields))
}

export const parseFindingStats = (v: unknown, w: string) => shaped<FindingStats>(v, w, ['total'], ['groups'])
export const parseRectification = (v: unknown, w: string) => shaped<RectificationStats>(v, w, ['total', 'rectified'])
export const parseOverdue = (v: unknown, w: string) => shaped<OverdueStats>(v, w, ['total'], ['buckets'])
export const parseRepeats = (v: unknown, w: string) => listOf<RepeatSite>(v, w, ['site', 'count'])
export const parseRanked = (v: unknown, w: string) => listOf<RankedSite>(v, w, ['site', 'findings'])
export const parseShiftCoverage = (v: unknown, w: string) => listOf<ShiftCoverage>(v, w, ['shift', 'sites'])
export const parseCheckStats = (v: unknown, w: string) => shaped<CheckStats>(v, w, [], ['stats'])
export const parseFollowups = (v: unknown, w: string) => listOf<Followup>(v, w, ['site'])
export const parseFollowup = (v: unknown, w: string) => shaped<Followup>(v, w, ['site'])
export const parseNotice = (v: unknown, w: string) => shaped<Notice>(v, w, ['id', 'number', 'site', 'total', 'reported'], ['items'])
export const parseNotices = (v: unknown, w: string) => listOf<Notice>(v, w, ['id', 'number', 'site', 'total', 'reported'])
export const parseSaved = (v: unknown, w: string) => shaped<Saved>(v, w, ['path', 'bytes'])
