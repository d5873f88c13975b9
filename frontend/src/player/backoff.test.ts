import { describe, expect, it } from 'vitest'
import { backoffDelay } from './backoff'

const noJitter = { baseMs: 500, maxMs: 10_000, jitter: 0 }

describe('backoffDelay', () => {
  const cases: [attempt: number, want: number][] = [
    [0, 500],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [50, 10_000],
    [5000, 10_000],
    [-3, 500],
    [Number.NaN, 500],
    [Number.POSITIVE_INFINITY, 500],
  ]
  for (const [attempt, want] of cases) {
    it(`attempt ${attempt} waits ${want} ms`, () => {
      expect(backoffDelay(attempt, noJitter)).toBe(want)
    })
  }

  it('spreads delays by the jitter fraction and never passes the cap', () => {
    const o = { baseMs: 1000, maxMs: 4000, jitter: 0.2 }
    expect(backoffDelay(0, o, () => 0)).toBe(800)
    expect(backoffDelay(0, o, () => 1)).toBe(1200)
    expect(backoffDelay(0, o, () => 0.5)).toBe(1000)
    expect(backoffDelay(10, o, () => 1)).toBe(4000)
    expect(backoffDelay(10, o, () => 0)).toBe(3200)
  })

  it('grows monotonically without jitter', () => {
    let last = 0
    for (let a = 0; a < 20; a++) {
      const d = backoffDelay(a, noJitter)
      expect(d).toBeGreaterThanOrEqual(last)
      last = d
    }
  })
})
