import { describe, expect, it } from 'vitest'
import { sameState, shownState, type TileState } from './state'
import { RateWindow } from './stats'

describe('shownState', () => {
  const t0 = Date.parse('2026-05-09T08:00:00Z')
  const live: TileState = { state: 'live', since: new Date(t0), reason: '' }
  const cases: { name: string; reported: TileState; lastFrameAt: number; now: number; want: TileState }[] = [
    { name: 'live with fresh frames', reported: live, lastFrameAt: t0 + 9000, now: t0 + 10_000, want: live },
    { name: 'live at the limit', reported: live, lastFrameAt: t0 + 5000, now: t0 + 10_000, want: live },
    {
      name: 'live but frozen',
      reported: live,
      lastFrameAt: t0 + 4000,
      now: t0 + 10_000,
      want: { state: 'stalled', since: new Date(t0 + 4000), reason: 'no_frames' },
    },
    {
      name: 'offline stays offline',
      reported: { state: 'offline', since: new Date(t0), reason: 'gone' },
      lastFrameAt: t0 - 60_000,
      now: t0 + 10_000,
      want: { state: 'offline', since: new Date(t0), reason: 'gone' },
    },
    {
      name: 'connecting is not stalled',
      reported: { state: 'connecting', reason: '' },
      lastFrameAt: t0 - 60_000,
      now: t0,
      want: { state: 'connecting', reason: '' },
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const got = shownState(c.reported, c.lastFrameAt, c.now, 5000)
      expect(got).toEqual(c.want)
      expect(sameState(got, c.want)).toBe(true)
    })
  }

  it('tells states apart by time', () => {
    expect(sameState({ state: 'live', since: new Date(1), reason: '' }, { state: 'live', since: new Date(2), reason: '' })).toBe(false)
    expect(sameState({ state: 'live', reason: '' }, { state: 'stalled', reason: '' })).toBe(false)
  })
})

describe('RateWindow', () => {
  it('measures the rate and mean over the window', () => {
    const w = new RateWindow(2000)
    for (let i = 0; i <= 30; i++) w.add(i * (1000 / 15), 4 + (i % 2) * 2)
    expect(w.rate(2000)).toBeCloseTo(15, 1)
    expect(w.mean(2000)).toBeGreaterThan(4)
    expect(w.mean(2000)).toBeLessThan(6)
  })

  it('falls to zero when events stop', () => {
    const w = new RateWindow(2000)
    for (let i = 0; i < 10; i++) w.add(i * 100, 3)
    expect(w.rate(1000)).toBeGreaterThan(0)
    expect(w.rate(5000)).toBe(0)
    expect(w.mean(5000)).toBe(0)
  })

  it('needs two events for a rate', () => {
    const w = new RateWindow(2000)
    expect(w.rate(0)).toBe(0)
    w.add(10, 1)
    expect(w.rate(10)).toBe(0)
    expect(w.mean(10)).toBe(1)
  })

  it('gives the values a second: bytes in, byte rate out', () => {
    const w = new RateWindow(2000)
    // 15 units of 1000 bytes a second for three seconds: 15 kB/s.
    for (let i = 0; i < 45; i++) w.add(i * (1000 / 15), 1000)
    expect(w.perSecond(3000)).toBeCloseTo(15_000, -3)
    expect(w.perSecond(10_000)).toBe(0)
  })
})
