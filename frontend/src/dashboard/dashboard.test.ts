import { describe, expect, it } from 'vitest'
import { chartOption, checksChart, findingsChart, overdueChart, severityColors } from './charts'
import { checksQuery, dashboardFilter, dayStart, nextDay, statsQuery, timeGroup } from './query'

describe('dashboard query', () => {
  it.each([
    ['from=2026-11-26&to=2026-12-02', 'day'],
    ['from=2026-09-04&to=2026-12-02', 'week'],
    ['from=2025-12-01&to=2026-12-02', 'month'],
    ['', 'month'],
    ['from=2026-11-20', 'day'],
  ])('%s is grouped by %s', (q, want) => {
    expect(timeGroup(dashboardFilter(q), '2026-12-02')).toBe(want)
  })

  it('keeps the filter and adds the chart’s own parameters, no sort', () => {
    const f = dashboardFilter('district=海淀区,朝阳区&from=2026-11-01&sort=site&overdue=1')
    const q = new URLSearchParams(statsQuery(f, { group: 'site' }))
    expect(q.get('district')).toBe('海淀区,朝阳区')
    expect(q.get('overdue')).toBe('1')
    expect(q.get('group')).toBe('site')
    expect(q.has('sort')).toBe(false)
  })

  it.each([
    ['2026-12-02', 'Asia/Shanghai', '2026-12-02T00:00:00+08:00'],
    ['2026-03-29', 'Europe/Berlin', '2026-03-29T00:00:00+01:00'],
    ['2026-07-01', 'America/New_York', '2026-07-01T00:00:00-04:00'],
  ])('the day %s begins in %s at %s', (day, tz, want) => {
    expect(dayStart(day, tz)).toBe(want)
  })

  it('asks the checks for the whole last day', () => {
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
    const q = new URLSearchParams(checksQuery(dashboardFilter('from=2026-12-01&to=2026-12-02'), 'Asia/Shanghai'))
    expect(q.get('from')).toBe('2026-12-01T00:00:00+08:00')
    expect(q.get('to')).toBe('2026-12-03T00:00:00+08:00')
    expect(q.get('by')).toBe('activity')
  })
})

describe('dashboard charts', () => {
  it('stacks the split and keeps each group’s count and drill', () => {
    const spec = findingsChart(
      {
        total: 5,
        group: 'day',
        split: 'severity',
        groups: [
          { key: '2026-12-01', label: { 'zh-CN': '12月1日', en: 'Dec 1' }, count: 3, split: { major: 2, minor: 1 }, drill: 'from=2026-12-01&to=2026-12-01' },
          { key: '2026-12-02', label: { 'zh-CN': '12月2日', en: 'Dec 2' }, count: 2, split: { critical: 2 }, drill: 'from=2026-12-02&to=2026-12-02' },
        ],
        split_labels: { major: { 'zh-CN': '较重', en: 'Major' } },
      },
      'en',
    )
    expect(spec.stacked).toBe(true)
    expect(spec.labels).toEqual(['Dec 1', 'Dec 2'])
    expect(spec.counts).toEqual([3, 2])
    expect(spec.series.map((s) => [s.name, s.values])).toEqual([
      ['Major', [2, 0]],
      ['minor', [1, 0]],
      ['critical', [0, 2]],
    ])
    expect(spec.drills[1]).toBe('from=2026-12-02&to=2026-12-02')
    // A severity keeps its colour on every chart, critical red.
    expect(spec.series.map((s) => s.color)).toEqual([severityColors.major, severityColors.minor, severityColors.critical])
    const option = chartOption(spec) as { series: { itemStyle?: { color: string } }[] }
    expect(option.series[2]!.itemStyle?.color).toBe('#e5534b')
  })

  it('keeps the top n groups, largest first', () => {
    const g = (key: string, count: number) => ({ key, label: { 'zh-CN': key, en: key }, count, drill: `site=${key}` })
    const spec = findingsChart({ total: 6, group: 'site', groups: [g('a', 1), g('b', 3), g('c', 2)] }, 'zh-CN', { top: 2 })
    expect(spec.keys).toEqual(['b', 'c'])
    expect(spec.total).toBe(6)
  })

  it('labels overdue ages the relay did not name', () => {
    const spec = overdueChart({ total: 1, buckets: [{ key: 'gt7d', count: 1, drill: 'overdue=1' }] }, 'en', (k) => `age ${k}`)
    expect(spec.labels).toEqual(['age gt7d'])
  })

  it('sums the checks of every site per activity with its compliance', () => {
    const row = (site: string, activity: string, checks: number, observed: number, correct: number) => ({
      site,
      activity,
      checks,
      steps_observed: observed,
      steps_correct: correct,
      deviations: observed - correct,
      compliance_rate: null,
    })
    const spec = checksChart([row('s1', 'doffing', 2, 10, 9), row('s2', 'doffing', 3, 10, 7), row('s1', 'meal', 1, 4, 4)], { checks: 'c', rate: 'r' }, (a) => a)
    expect(spec.keys).toEqual(['doffing', 'meal'])
    expect(spec.counts).toEqual([5, 1])
    expect(spec.series[1]!.values).toEqual([0.8, 1])
  })
})
