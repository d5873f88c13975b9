import { describe, expect, it } from 'vitest'
import { DropPolicy, type Decision } from './policy'

// A step is a unit arriving ([keyframe, decodeQueueSize, ms since start,
// expected decision]) or something happening to the decoder.
type Step = [key: boolean, queue: number, at: number, want: Decision] | 'output' | 'resync' | 'configured'

function run(steps: Step[]): void {
  const p = new DropPolicy({ maxQueue: 2, graceMs: 400, hardQueue: 120 })
  steps.forEach((s, i) => {
    if (s === 'output') p.decoded()
    else if (s === 'resync') p.resync()
    else if (s === 'configured') p.configured()
    else expect(p.decide(s[0], s[1], s[2]), `step ${i}`).toBe(s[3])
  })
}

describe('DropPolicy', () => {
  const cases: { name: string; steps: Step[] }[] = [
    {
      name: 'waits for the first keyframe',
      steps: [
        [false, 0, 0, 'drop'],
        [false, 0, 66, 'drop'],
        [true, 0, 133, 'decode'],
        [false, 0, 200, 'decode'],
      ],
    },
    {
      name: 'decodes while the queue stays short',
      steps: [[true, 0, 0, 'decode'], 'output', [false, 1, 66, 'decode'], [false, 0, 133, 'decode'], [false, 1, 200, 'decode']],
    },
    {
      name: 'decodes a GOP burst into a starting decoder',
      steps: [
        [true, 0, 0, 'decode'],
        [false, 1, 1, 'decode'],
        [false, 14, 2, 'decode'],
        [false, 29, 3, 'decode'],
        'output',
        [false, 20, 10, 'decode'],
        [false, 4, 30, 'decode'],
        [false, 0, 66, 'decode'],
      ],
    },
    {
      name: 'decodes a short hiccup burst that drains in time',
      steps: [
        [true, 0, 0, 'decode'],
        'output',
        [false, 0, 2000, 'decode'],
        [false, 2, 2001, 'decode'],
        [false, 20, 2002, 'decode'],
        [false, 3, 2300, 'decode'],
        [false, 0, 2366, 'decode'],
        // A new backlog starts its own clock.
        [false, 2, 3000, 'decode'],
        [false, 2, 3300, 'decode'],
      ],
    },
    {
      // Skipping to the next keyframe froze a picture that had just
      // appeared for up to a GOP: a decoder behind decodes on instead.
      name: 'never skips to the next keyframe once a picture is out, however long the backlog',
      steps: [
        [true, 0, 0, 'decode'],
        'output',
        [false, 2, 66, 'decode'],
        [false, 3, 300, 'decode'],
        [false, 3, 467, 'decode'],
        [false, 8, 1200, 'decode'],
        [false, 119, 1900, 'decode'],
        [false, 0, 2000, 'decode'],
      ],
    },
    {
      name: 'flushes a stale queue at a keyframe, then lets the restarted decoder start',
      steps: [
        [true, 0, 0, 'decode'],
        'output',
        [false, 2, 66, 'decode'],
        [false, 4, 500, 'decode'],
        // Everything queued is older than this keyframe.
        [true, 4, 1000, 'flush'],
        [false, 6, 1066, 'decode'],
        [false, 9, 1600, 'decode'],
        'output',
        [false, 3, 1666, 'decode'],
        [false, 3, 2100, 'decode'],
      ],
    },
    {
      name: 'a keyframe arriving during a short backlog decodes without flushing',
      steps: [[true, 0, 0, 'decode'], 'output', [false, 2, 66, 'decode'], [true, 3, 133, 'decode'], [false, 1, 200, 'decode']],
    },
    {
      name: 'a huge queue is behind at once, even while starting',
      steps: [[true, 0, 0, 'decode'], [false, 119, 10, 'decode'], [false, 120, 11, 'decode'], [true, 121, 12, 'flush']],
    },
    {
      name: 'resync waits for the next keyframe',
      steps: [[true, 0, 0, 'decode'], 'output', [false, 0, 66, 'decode'], 'resync', [false, 0, 133, 'drop'], [true, 0, 200, 'decode'], [false, 0, 266, 'decode']],
    },
    {
      name: 'reconfiguring waits for a keyframe and lets the decoder start again',
      steps: [
        [true, 0, 0, 'decode'],
        'output',
        [false, 2, 66, 'decode'],
        'configured',
        [false, 0, 133, 'drop'],
        [true, 0, 200, 'decode'],
        [false, 5, 266, 'decode'],
        [false, 5, 900, 'decode'],
      ],
    },
  ]
  for (const c of cases) it(c.name, () => run(c.steps))

  it('keeps a decoder that is too slow from drifting behind', () => {
    const p = new DropPolicy({ maxQueue: 2, graceMs: 400, hardQueue: 120 })
    // 15 fps with a keyframe a second, into a decoder that needs 200 ms a
    // frame: without skipping it would end up 13 s behind after 20 s.
    const queue: number[] = [] // arrival times of the queued frames
    let busyUntil = 0
    let shown = 0
    let worstLagMs = 0
    for (let i = 0; i < 300; i++) {
      const now = i * (1000 / 15)
      while (queue.length > 0 && busyUntil <= now) {
        worstLagMs = Math.max(worstLagMs, busyUntil - queue.shift()!)
        shown++
        p.decoded()
        busyUntil += 200
      }
      const d = p.decide(i % 15 === 0, queue.length, now)
      if (d === 'flush') queue.length = 0
      if (d === 'drop') continue
      if (queue.length === 0) busyUntil = Math.max(busyUntil, now) + 200
      queue.push(now)
    }
    expect(worstLagMs).toBeLessThan(2500)
    // It still shows what it can: at most 5 frames a second.
    expect(shown).toBeGreaterThan(40)
  })

  it('rejects impossible limits', () => {
    expect(() => new DropPolicy({ maxQueue: 0 })).toThrow(/maxQueue/)
    expect(() => new DropPolicy({ maxQueue: 4, hardQueue: 2 })).toThrow(/hardQueue/)
    expect(() => new DropPolicy({ graceMs: -1 })).toThrow(/graceMs/)
  })
})
