// What each chart shows, as one shape (ChartSpec) made from the relay's
// answers, and the ECharts option for it. Every item of a chart carries the
// review list's query of exactly its rows (the relay's drill), which a
// click or Enter opens; the items are also listed as text beside the
// canvas, for reading aloud and for the tests to count.
import type { LocalizedName } from '../api'
import type {
  CheckStat,
  FindingStats,
  OverdueStats,
  RectificationStats,
  RepeatSite,
  ShiftCoverage,
} from '../api/supervision'
import { localName } from '../i18n/format'
import type { Locale } from '../i18n'

export interface ChartSeries {
  name: string
  values: number[]
  /** Drawn as a line on the right-hand axis (a rate, hours). */
  line?: boolean
  /** Values are 0–1, shown as per cent. */
  percent?: boolean
  /** The colour the series always has (a severity's), else the palette's next. */
  color?: string
}

/** A severity has one colour on every chart: critical red, not the palette's blue. */
export const severityColors: Record<string, string> = { critical: '#e5534b', major: '#ed7d31', minor: '#8b949e' }

export interface ChartSpec {
  /** Category labels along the axis, one per item. */
  labels: string[]
  /** Each item's key (the relay's group key). */
  keys: string[]
  /** Each item's total (what the item list says and the tests compare). */
  counts: number[]
  /** Each item's review-list query; '' when it has none. */
  drills: string[]
  series: ChartSeries[]
  stacked: boolean
  /** The items the chart counts, altogether. */
  total: number
  horizontal?: boolean
}

const label = (n: LocalizedName | undefined, key: string, locale: Locale) => (n ? localName(n, locale) || key : key)

/**
 * Findings by a group, split by another (stacked); groups in the relay's
 * order (time, or largest first). top keeps the largest n.
 */
export function findingsChart(s: FindingStats, locale: Locale, opts: { top?: number; horizontal?: boolean } = {}): ChartSpec {
  let groups = s.groups
  if (opts.top) groups = [...groups].sort((a, b) => b.count - a.count).slice(0, opts.top)
  const splitKeys: string[] = []
  for (const g of groups) for (const k of Object.keys(g.split ?? {})) if (!splitKeys.includes(k)) splitKeys.push(k)
  const series: ChartSeries[] = s.split
    ? splitKeys.map((k) => ({
        name: label(s.split_labels?.[k], k, locale),
        values: groups.map((g) => g.split?.[k] ?? 0),
        color: s.split === 'severity' ? severityColors[k] : undefined,
      }))
    : [{ name: '', values: groups.map((g) => g.count) }]
  return {
    labels: groups.map((g) => label(g.label, g.key, locale)),
    keys: groups.map((g) => g.key),
    counts: groups.map((g) => g.count),
    drills: groups.map((g) => g.drill),
    series,
    stacked: !!s.split,
    total: s.total,
    horizontal: opts.horizontal,
  }
}

/** Rectification rate (bars) and median hours to rectify (line) by group. */
export function rectificationChart(s: RectificationStats, locale: Locale, names: { rate: string; median: string }): ChartSpec {
  const groups = s.groups ?? []
  return {
    labels: groups.map((g) => label(g.label, g.key, locale)),
    keys: groups.map((g) => g.key),
    counts: groups.map((g) => g.count),
    drills: groups.map((g) => g.drill),
    series: [
      { name: names.rate, values: groups.map((g) => g.rate ?? 0), percent: true },
      { name: names.median, values: groups.map((g) => Math.round((g.median_hours_to_rectify ?? 0) * 10) / 10), line: true },
    ],
    stacked: false,
    total: s.total,
  }
}

export function overdueChart(s: OverdueStats, locale: Locale, ageLabel: (key: string) => string): ChartSpec {
  return {
    labels: s.buckets.map((b) => (b.label ? label(b.label, b.key, locale) : ageLabel(b.key))),
    keys: s.buckets.map((b) => b.key),
    counts: s.buckets.map((b) => b.count),
    drills: s.buckets.map((b) => b.drill),
    series: [{ name: '', values: s.buckets.map((b) => b.count) }],
    stacked: false,
    total: s.total,
  }
}

export function repeatsChart(rs: RepeatSite[], locale: Locale, top = 15): ChartSpec {
  const list = rs.slice(0, top)
  return {
    labels: list.map((r) => label(r.name, r.site, locale)),
    keys: list.map((r) => r.site),
    counts: list.map((r) => r.count),
    drills: list.map((r) => r.drill),
    series: [{ name: '', values: list.map((r) => r.count) }],
    stacked: false,
    total: rs.reduce((n, r) => n + r.count, 0),
    horizontal: true,
  }
}

/** Checks performed (户次) and compliance rate by activity, all sites. */
export function checksChart(rows: CheckStat[], names: { checks: string; rate: string }, activityLabel: (a: string) => string): ChartSpec {
  const by = new Map<string, { checks: number; observed: number; correct: number }>()
  for (const r of rows) {
    const a = by.get(r.activity) ?? { checks: 0, observed: 0, correct: 0 }
    a.checks += r.checks
    a.observed += r.steps_observed
    a.correct += r.steps_correct
    by.set(r.activity, a)
  }
  const keys = [...by.keys()].sort((a, b) => by.get(b)!.checks - by.get(a)!.checks)
  return {
    labels: keys.map(activityLabel),
    keys,
    counts: keys.map((k) => by.get(k)!.checks),
    drills: keys.map(() => ''),
    series: [
      { name: names.checks, values: keys.map((k) => by.get(k)!.checks) },
      { name: names.rate, values: keys.map((k) => (by.get(k)!.observed ? by.get(k)!.correct / by.get(k)!.observed : 0)), line: true, percent: true },
    ],
    stacked: false,
    total: keys.reduce((n, k) => n + by.get(k)!.checks, 0),
  }
}

/** Sites whose watch policy each shift met, of the sites watched. */
export function coverageChart(rows: ShiftCoverage[], locale: Locale, names: { met: string; missed: string }, when: (r: ShiftCoverage) => string): ChartSpec {
  return {
    labels: rows.map((r) => (r.name ? `${when(r)} ${label(r.name, r.shift, locale)}` : when(r))),
    keys: rows.map((r) => r.shift + '@' + r.start),
    counts: rows.map((r) => r.sites_met),
    drills: rows.map((r) => r.drill ?? ''),
    series: [
      { name: names.met, values: rows.map((r) => r.sites_met) },
      { name: names.missed, values: rows.map((r) => Math.max(0, r.sites - r.sites_met)) },
    ],
    stacked: true,
    total: rows.reduce((n, r) => n + r.sites_met, 0),
  }
}

const palette = ['#5b9bd5', '#ed7d31', '#70ad47', '#ffc000', '#9e7cc1', '#43b5b0', '#e06666', '#a5a5a5', '#c9a227', '#6fa8dc']

/** The ECharts option for a spec; `focus` is the item the keyboard is on. */
export function chartOption(spec: ChartSpec, dark = true): Record<string, unknown> {
  const text = dark ? '#c9d1d9' : '#333'
  const grid = dark ? '#30363d' : '#ddd'
  const hasLine = spec.series.some((s) => s.line)
  const percentBars = spec.series.some((s) => s.percent && !s.line)
  // A horizontal chart's rows (sites) each have room for their name: every one is shown.
  const cat = {
    type: 'category',
    data: spec.labels,
    axisLabel: spec.horizontal ? { color: text, interval: 0 } : { color: text, hideOverlap: true },
    axisLine: { lineStyle: { color: grid } },
  }
  const val = (percent: boolean) => ({
    type: 'value',
    axisLabel: { color: text, formatter: percent ? (v: number) => `${Math.round(v * 100)}%` : undefined },
    splitLine: { lineStyle: { color: grid } },
    max: percent ? 1 : undefined,
  })
  const valueAxes = hasLine ? [val(percentBars), val(spec.series.some((s) => s.line && s.percent))] : val(percentBars)
  return {
    animation: false,
    color: palette,
    textStyle: { color: text },
    grid: { left: 8, right: hasLine ? 40 : 16, top: spec.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
    legend: spec.series.length > 1 ? { top: 0, textStyle: { color: text }, type: 'scroll' } : undefined,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
    xAxis: spec.horizontal ? valueAxes : cat,
    yAxis: spec.horizontal ? { ...cat, inverse: true } : valueAxes,
    series: spec.series.map((s) => ({
      name: s.name,
      type: s.line ? 'line' : 'bar',
      data: s.values,
      stack: spec.stacked && !s.line ? 'all' : undefined,
      yAxisIndex: !spec.horizontal && hasLine && s.line ? 1 : undefined,
      emphasis: { focus: 'none' },
      barMaxWidth: 36,
      itemStyle: s.color ? { color: s.color } : undefined,
      tooltip: s.percent ? { valueFormatter: (v: number) => `${Math.round(v * 1000) / 10}%` } : undefined,
    })),
  }
}
