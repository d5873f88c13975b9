// The review list's filter as the address keeps it: `#/review?<query>`, the
// relay's own filter parameters (docs/PROTOCOLS.md, "Issue 13: review"), so
// a supervisor can bookmark or send a query, a reload restores it, and a
// chart's drill-down (`#/review?<drill>`) lands on the matching list. The
// workspace's other tabs live in the same hash (`#/dashboard?…`, …).
import { wallClock, pad2 } from '../i18n/format'

/** The workspace's tabs, in the order shown. */
export const tabs = ['review', 'dashboard', 'notices', 'reports'] as const
export type Tab = (typeof tabs)[number]

/** Parameters that may repeat (a repeat or a comma list both add values). */
export const listKeys = ['district', 'site', 'site_type', 'template', 'deviation', 'severity', 'status', 'officer', 'outcome'] as const
export type ListKey = (typeof listKeys)[number]

/** Parameters with one value. */
export const singleKeys = ['from', 'to', 'overdue', 'reviewed', 'repeat', 'q', 'sort'] as const
export type SingleKey = (typeof singleKeys)[number]

export const sorts = ['-observed_at', 'observed_at', 'deadline', '-deadline', 'severity', 'site'] as const

/** The filter: every list key present (maybe empty), single keys only when set. */
export type ReviewFilter = Record<ListKey, string[]> & Partial<Record<SingleKey, string>>

export function emptyFilter(): ReviewFilter {
  return Object.fromEntries(listKeys.map((k) => [k, []])) as unknown as ReviewFilter
}

const isList = (k: string): k is ListKey => (listKeys as readonly string[]).includes(k)
const isSingle = (k: string): k is SingleKey => (singleKeys as readonly string[]).includes(k)

/**
 * The filter a query string says. Parameters the relay does not know are
 * left out and named in `dropped` (an old or hand-edited link), rather than
 * sent and refused as a whole.
 */
export function parseFilter(query: string): { filter: ReviewFilter; dropped: string[] } {
  const filter = emptyFilter()
  const dropped: string[] = []
  for (const [k, v] of new URLSearchParams(query)) {
    if (isList(k)) {
      for (const part of v.split(',')) {
        const s = part.trim()
        if (s && !filter[k].includes(s)) filter[k].push(s)
      }
    } else if (isSingle(k)) {
      const s = v.trim()
      if (s) filter[k] = s
    } else if (!dropped.includes(k)) {
      dropped.push(k)
    }
  }
  return { filter, dropped }
}

/**
 * The filter as a query string, in one canonical order (the same filter is
 * the same address): lists joined by commas, empty values left out.
 */
export function formatFilter(f: ReviewFilter): string {
  const p = new URLSearchParams()
  for (const k of ['from', 'to'] as const) if (f[k]) p.set(k, f[k]!)
  for (const k of listKeys) if (f[k].length) p.set(k, f[k].join(','))
  for (const k of ['overdue', 'reviewed', 'repeat', 'q', 'sort'] as const) if (f[k]) p.set(k, f[k]!)
  return p.toString().replace(/%2C/g, ',')
}

/** Where the address says the workspace is: a tab, and the query after `?`. */
export interface Place {
  tab: Tab
  query: string
  /** The path after the tab (`#/notices/new?…` has "new"). */
  rest: string
}

/** Reads `#/tab[/rest][?query]`; anything else is the review list unfiltered. */
export function parseHash(hash: string): Place {
  const h = hash.replace(/^#/, '')
  const q = h.indexOf('?')
  const path = (q < 0 ? h : h.slice(0, q)).replace(/^\//, '')
  const query = q < 0 ? '' : h.slice(q + 1)
  const [tab = '', ...rest] = path.split('/')
  if (!(tabs as readonly string[]).includes(tab)) return { tab: 'review', query: '', rest: '' }
  return { tab: tab as Tab, query, rest: rest.join('/') }
}

export function formatHash(p: { tab: Tab; query?: string; rest?: string }): string {
  return `#/${p.tab}${p.rest ? `/${p.rest}` : ''}${p.query ? `?${p.query}` : ''}`
}

/** The list's address for a filter. */
export function reviewHash(f: ReviewFilter): string {
  return formatHash({ tab: 'review', query: formatFilter(f) })
}

/** A day as the filter writes it, on the duty room's clock. */
export function dayOf(d: Date, timeZone: string): string {
  const w = wallClock(d, timeZone)
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)}`
}

/**
 * The last n days up to today, both ends included, on the duty room's
 * clock: the quick 7/30/90-day periods.
 */
export function lastDays(n: number, now: Date, timeZone: string): { from: string; to: string } {
  const to = dayOf(now, timeZone)
  const [y, m, d] = to.split('-').map(Number) as [number, number, number]
  const from = new Date(Date.UTC(y, m - 1, d - (n - 1)))
  return { from: `${from.getUTCFullYear()}-${pad2(from.getUTCMonth() + 1)}-${pad2(from.getUTCDate())}`, to }
}

/** Which quick period the filter is, if any (for the button shown pressed). */
export function quickPeriod(f: ReviewFilter, now: Date, timeZone: string): number | undefined {
  return [7, 30, 90].find((n) => {
    const p = lastDays(n, now, timeZone)
    return f.from === p.from && f.to === p.to
  })
}

/** The filter with one value of a list added or taken away. */
export function toggled(f: ReviewFilter, k: ListKey, v: string): ReviewFilter {
  const vs = f[k].includes(v) ? f[k].filter((x) => x !== v) : [...f[k], v]
  return { ...f, [k]: vs }
}

/** The filter with a single key set, or cleared by ''. */
export function withValue(f: ReviewFilter, k: SingleKey, v: string): ReviewFilter {
  const out = { ...f }
  if (v) out[k] = v
  else delete out[k]
  return out
}

/** How many conditions the filter has (the sort is not one). */
export function conditions(f: ReviewFilter): number {
  return listKeys.reduce((n, k) => n + (f[k].length ? 1 : 0), 0) + (['from', 'to', 'overdue', 'reviewed', 'repeat', 'q'] as const).filter((k) => f[k]).length
}
