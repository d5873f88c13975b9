import { describe, expect, it } from 'vitest'
import { fromWallInput, groupByShift, shiftOf, toWallInput } from './shift'

describe('shiftOf', () => {
  const cases = [
    { at: '2026-11-24T00:00:00Z', tz: 'Asia/Shanghai', kind: 'day', start: '2026-11-24T00:00:00.000Z', end: '2026-11-24T12:00:00.000Z', date: '2026-11-24' },
    { at: '2026-11-24T11:59:59Z', tz: 'Asia/Shanghai', kind: 'day', start: '2026-11-24T00:00:00.000Z', end: '2026-11-24T12:00:00.000Z', date: '2026-11-24' },
    { at: '2026-11-24T12:00:00Z', tz: 'Asia/Shanghai', kind: 'night', start: '2026-11-24T12:00:00.000Z', end: '2026-11-25T00:00:00.000Z', date: '2026-11-24' },
    // 03:00 site time belongs to the night that began the evening before.
    { at: '2026-11-24T19:00:00Z', tz: 'Asia/Shanghai', kind: 'night', start: '2026-11-24T12:00:00.000Z', end: '2026-11-25T00:00:00.000Z', date: '2026-11-24' },
    { at: '2026-11-30T23:30:00Z', tz: 'Asia/Shanghai', kind: 'night', start: '2026-11-30T12:00:00.000Z', end: '2026-12-01T00:00:00.000Z', date: '2026-11-30' },
    // New Year's night in Shanghai crosses the year.
    { at: '2026-12-31T17:00:00Z', tz: 'Asia/Shanghai', kind: 'night', start: '2026-12-31T12:00:00.000Z', end: '2027-01-01T00:00:00.000Z', date: '2026-12-31' },
    // A time zone with DST: the night of the spring change is an hour short.
    { at: '2026-03-29T03:00:00Z', tz: 'Europe/Berlin', kind: 'night', start: '2026-03-28T19:00:00.000Z', end: '2026-03-29T06:00:00.000Z', date: '2026-03-28' },
    { at: '2026-11-24T12:00:00Z', tz: 'UTC', kind: 'day', start: '2026-11-24T08:00:00.000Z', end: '2026-11-24T20:00:00.000Z', date: '2026-11-24' },
  ]
  for (const c of cases) {
    it(`${c.at} in ${c.tz} is the ${c.kind} shift of ${c.date}`, () => {
      const s = shiftOf(new Date(c.at), c.tz)
      expect({ kind: s.kind, start: s.start.toISOString(), end: s.end.toISOString(), date: s.date }).toEqual({ kind: c.kind, start: c.start, end: c.end, date: c.date })
    })
  }
})

describe('groupByShift', () => {
  const item = (id: string, at?: string) => ({ id, at: at ? new Date(at) : undefined })
  const tz = 'Asia/Shanghai'
  // Hour seven of a night shift: 03:00 site time.
  const now = new Date('2026-11-24T19:00:00Z')

  it('puts this shift first, then earlier shifts newest first', () => {
    const items = [
      item('day-before', '2026-11-24T03:00:00Z'), // 11:00 the day before
      item('tonight-early', '2026-11-24T13:00:00Z'), // 21:00
      item('last-night', '2026-11-23T20:00:00Z'), // 04:00 the night before
      item('tonight-late', '2026-11-24T18:30:00Z'), // 02:30
      item('no-time'),
    ]
    const groups = groupByShift(items, (x) => x.at, tz, now)
    expect(groups.map((g) => [g.shift.kind, g.shift.date, g.current, g.items.map((x) => x.id)])).toEqual([
      ['night', '2026-11-24', true, ['no-time', 'tonight-late', 'tonight-early']],
      ['day', '2026-11-24', false, ['day-before']],
      ['night', '2026-11-23', false, ['last-night']],
    ])
  })

  it('keeps an empty group for this shift', () => {
    expect(groupByShift([], (x: { at?: Date }) => x.at, tz, now).map((g) => [g.current, g.items.length])).toEqual([[true, 0]])
  })
})

describe('wall-clock input', () => {
  // The deadline field shows the one format, at the site, whatever the
  // machine's zone (the tests run in UTC; Shanghai is UTC+8).
  it('shows and reads an instant at the site', () => {
    const d = new Date('2026-11-26T13:05:00Z')
    expect(toWallInput(d, 'Asia/Shanghai')).toBe('2026-11-26 21:05')
    expect(fromWallInput('2026-11-26 21:05', 'Asia/Shanghai')?.toISOString()).toBe('2026-11-26T13:05:00.000Z')
    expect(fromWallInput('2026-07-01 12:00', 'Europe/Berlin')?.toISOString()).toBe('2026-07-01T10:00:00.000Z')
  })
  const good: [string, string][] = [
    ['2026-11-26T21:05', '2026-11-26T13:05:00.000Z'],
    [' 2026-11-26  21:05 ', '2026-11-26T13:05:00.000Z'],
    ['2026-11-26 9:05', '2026-11-26T01:05:00.000Z'],
    ['2026-2-28 21:05:30', '2026-02-28T13:05:30.000Z'],
  ]
  for (const [s, want] of good) it(`reads ${JSON.stringify(s)}`, () => expect(fromWallInput(s, 'Asia/Shanghai')?.toISOString()).toBe(want))
  const bad = ['', 'tomorrow', '2026-13-01 10:00', '2026-11-26 21:05x', '2026-11-26 24:00', '2026-02-30 10:00', '2026-11-26 21:60', '12/03/2026, 10:58']
  for (const s of bad) it(`refuses ${JSON.stringify(s)}`, () => expect(fromWallInput(s, 'Asia/Shanghai')).toBeUndefined())
})
