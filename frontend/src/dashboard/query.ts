// The dashboard's filter: the review filter in `#/dashboard?<query>` (the
// same parameters, so a chart's drill-down is the review list of its
// rows), of which the bar sets the period, district, site type and
// activity. Each chart asks the relay with it plus its own grouping.
import { parseFilter, formatFilter, type ReviewFilter } from '../review/filter'
import { pad2 } from '../i18n/format'

/** The keys the dashboard's bar edits; others a link carries are kept. */
export const dashboardKeys = ['district', 'site_type', 'template'] as const

export function dashboardFilter(query: string): ReviewFilter {
  return parseFilter(query).filter
}

/** The stats query: the filter plus the chart's own parameters. */
export function statsQuery(f: ReviewFilter, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams(formatFilter({ ...f, sort: undefined }))
  for (const [k, v] of Object.entries(extra)) p.set(k, v)
  return p.toString().replace(/%2C/g, ',')
}

const dayMs = 86_400_000

function dayNumber(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / dayMs : undefined
}

/**
 * The time grouping the period reads best in: days up to a month, weeks
 * up to half a year, months beyond (and when the period is open).
 */
export function timeGroup(f: ReviewFilter, today: string): 'day' | 'week' | 'month' {
  const from = f.from ? dayNumber(f.from) : undefined
  const to = dayNumber(f.to ?? today)
  if (from === undefined || to === undefined) return 'month'
  const days = to - from + 1
  if (days <= 31) return 'day'
  if (days <= 183) return 'week'
  return 'month'
}

/**
 * The instant a day begins on the duty room's clock, RFC 3339: the checks'
 * statistics (relay/runs) take instants, the review filter days.
 */
export function dayStart(day: string, timeZone: string): string {
  const n = dayNumber(day)
  if (n === undefined) return day
  const utc = n * dayMs
  // The zone's offset at that moment, from how its wall clock reads it.
  const offset = (at: number) => {
    const parts: Record<string, number> = {}
    const fmt = new Intl.DateTimeFormat('en-CA', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    for (const x of fmt.formatToParts(new Date(at))) if (x.type !== 'literal') parts[x.type] = Number(x.value)
    return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - at
  }
  let at = utc - offset(utc)
  at = utc - offset(at)
  const off = Math.round(offset(at) / 60_000)
  const local = new Date(at + off * 60_000)
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return `${local.getUTCFullYear()}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}T00:00:00${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`
}

/** The day after, as the filter writes days. */
export function nextDay(day: string): string {
  const n = dayNumber(day)
  if (n === undefined) return day
  const d = new Date((n + 1) * dayMs)
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`
}

/** The checks' (户次) query for the filter's period, by activity. */
export function checksQuery(f: ReviewFilter, timeZone: string): string {
  const p = new URLSearchParams({ by: 'activity' })
  if (f.from) p.set('from', /^\d{4}-\d{2}-\d{2}$/.test(f.from) ? dayStart(f.from, timeZone) : f.from)
  if (f.to) p.set('to', /^\d{4}-\d{2}-\d{2}$/.test(f.to) ? dayStart(nextDay(f.to), timeZone) : f.to)
  if (f.site.length === 1) p.set('site', f.site[0]!)
  return p.toString()
}

/** The coverage per shift's query: the period alone. */
export function coverageQuery(f: ReviewFilter): string {
  const p = new URLSearchParams()
  if (f.from) p.set('from', f.from)
  if (f.to) p.set('to', f.to)
  return p.toString()
}
