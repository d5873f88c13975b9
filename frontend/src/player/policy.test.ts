import { describe, expect, it } from 'vitest'
import { DropPolicy, type Decision } from './policy'

type Step = [key: boolean, queue: number, want: Decision]

describe('DropPolicy', () => {
  const cases: { name: string; steps: Step[]; resyncBefore?: number }[] = [
    {
      name: 'waits for the first keyframe',
      steps: [
        [false, 0, 'drop'],
        [false, 0, 'drop'],
        [true, 0, 'decode'],
        [false, 0, 'decode'],
      ],
    },
    {
      name: 'decodes while the queue stays short',
      steps: [
        [true, 0, 'decode'],
        [false, 1, 'decode'],
        [false, 0, 'decode'],
        [false, 1, 'decode'],
      ],
    },
    {
      name: 'skips to the next keyframe once the queue reaches the limit',
      steps: [
        [true, 0, 'decode'],
        [false, 2, 'drop'],
        // The queue drained, but these frames refer to the skipped one.
        [false, 0, 'drop'],
        [false, 0, 'drop'],
        [true, 0, 'decode'],
        [false, 0, 'decode'],
      ],
    },
    {
      name: 'flushes a stale queue at a keyframe',
      steps: [
        [true, 0, 'decode'],
        [false, 2, 'drop'],
        [true, 3, 'flush'],
        [false, 0, 'decode'],
      ],
    },
    {
      name: 'keyframe at the limit decodes without flushing',
      steps: [
        [true, 2, 'decode'],
        [false, 1, 'decode'],
      ],
    },
    {
      name: 'resync waits for the next keyframe',
      resyncBefore: 2,
      steps: [
        [true, 0, 'decode'],
        [false, 0, 'decode'],
        [false, 0, 'drop'],
        [true, 0, 'decode'],
      ],
    },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const p = new DropPolicy(2)
      c.steps.forEach(([key, queue, want], i) => {
        if (i === c.resyncBefore) p.resync()
        expect(p.decide(key, queue), `step ${i}`).toBe(want)
      })
    })
  }

  it('never lets the queue grow past the limit on a long run of delta frames', () => {
    const p = new DropPolicy(2)
    let queue = 0
    let decoded = 0
    // A decoder that finishes one frame for every three that arrive.
    for (let i = 0; i < 300; i++) {
      const d = p.decide(i % 30 === 0, queue)
      if (d === 'flush') queue = 0
      if (d !== 'drop') {
        queue++
        decoded++
      }
      if (i % 3 === 0) queue = Math.max(0, queue - 1)
      expect(queue).toBeLessThanOrEqual(3)
    }
    expect(decoded).toBeGreaterThan(10)
    expect(decoded).toBeLessThan(300)
  })

  it('rejects a limit below one', () => {
    expect(() => new DropPolicy(0)).toThrow(/maxQueue/)
  })
})
