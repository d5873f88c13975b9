import { describe, expect, it } from 'vitest'
import { conditions, emptyFilter, formatFilter, formatHash, lastDays, parseFilter, parseHash, quickPeriod, reviewHash, toggled, withValue } from './filter'

describe('review filter in the address', () => {
  it('reads repeats and comma lists alike, and drops what the relay does not know', () => {
    const { filter, dropped } = parseFilter('district=%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA&district=%E9%BB%84%E6%B5%A6%E5%8C%BA,%E6%B5%A6%E4%B8%9C%E6%96%B0%E5%8C%BA&overdue=1&color=red&q=%E6%89%8B%E5%8D%AB%E7%94%9F&severity=critical,major')
    expect(filter.district).toEqual(['浦东新区', '黄浦区'])
    expect(filter.severity).toEqual(['critical', 'major'])
    expect(filter.overdue).toBe('1')
    expect(filter.q).toBe('手卫生')
    expect(filter.site).toEqual([])
    expect(dropped).toEqual(['color'])
  })

  it('writes one canonical order, so that a filter read back is the same address', () => {
    const cases = [
      'from=2026-09-01&to=2026-11-30&district=浦东新区,黄浦区&overdue=1',
      'site=site-01&template=-&status=open,reopened&reviewed=0&repeat=30&sort=-deadline',
      'outcome=none&q=goggles',
      '',
    ]
    for (const q of cases) {
      const once = formatFilter(parseFilter(q).filter)
      expect(formatFilter(parseFilter(once).filter)).toBe(once)
      expect(parseFilter(once).filter).toEqual(parseFilter(q).filter)
    }
    expect(formatFilter(parseFilter('overdue=1&district=a&from=2026-01-01').filter)).toBe('from=2026-01-01&district=a&overdue=1')
  })

  it('leaves empty values out', () => {
    expect(formatFilter(parseFilter('q=&district=&overdue=1').filter)).toBe('overdue=1')
  })

  it('names the tab and its query in the hash', () => {
    const cases: [string, ReturnType<typeof parseHash>][] = [
      ['#/review?overdue=1', { tab: 'review', query: 'overdue=1', rest: '' }],
      ['#/dashboard?district=a', { tab: 'dashboard', query: 'district=a', rest: '' }],
      ['#/notices/new?site=site-01', { tab: 'notices', query: 'site=site-01', rest: 'new' }],
      ['#/reports', { tab: 'reports', query: '', rest: '' }],
      ['', { tab: 'review', query: '', rest: '' }],
      ['#/wall', { tab: 'review', query: '', rest: '' }],
    ]
    for (const [hash, want] of cases) {
      expect(parseHash(hash)).toEqual(want)
      if (hash.startsWith('#/') && want.tab === hash.slice(2).split(/[/?]/)[0]) expect(formatHash(want)).toBe(hash)
    }
    expect(reviewHash(withValue(emptyFilter(), 'overdue', '1'))).toBe('#/review?overdue=1')
  })

  it('adds and takes away values, and counts conditions', () => {
    let f = toggled(emptyFilter(), 'site', 'site-01')
    f = toggled(f, 'site', 'site-02')
    expect(f.site).toEqual(['site-01', 'site-02'])
    f = toggled(f, 'site', 'site-01')
    expect(f.site).toEqual(['site-02'])
    f = withValue(f, 'q', 'mask')
    expect(conditions(f)).toBe(2)
    f = withValue(withValue(f, 'q', ''), 'sort', 'site')
    expect(f.q).toBeUndefined()
    expect(conditions(f)).toBe(1)
  })

  it('counts the quick periods in days on the duty room clock, today included', () => {
    // 17:30 UTC on 2 Dec is 01:30 on 3 Dec in Shanghai.
    const now = new Date('2026-12-02T17:30:00Z')
    expect(lastDays(7, now, 'Asia/Shanghai')).toEqual({ from: '2026-11-27', to: '2026-12-03' })
    expect(lastDays(7, now, 'UTC')).toEqual({ from: '2026-11-26', to: '2026-12-02' })
    expect(lastDays(90, now, 'Asia/Shanghai')).toEqual({ from: '2026-09-05', to: '2026-12-03' })
    const f = { ...emptyFilter(), ...lastDays(30, now, 'Asia/Shanghai') }
    expect(quickPeriod(f, now, 'Asia/Shanghai')).toBe(30)
    expect(quickPeriod(f, now, 'UTC')).toBeUndefined()
  })
})
