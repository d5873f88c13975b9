import { describe, expect, it } from 'vitest'
import { DropPolicy, type Decision } from './policy'

// A step is a unit arriving ([keyframe, decodeQueueSize, expected decision])
// or something happening to the decoder.
type Step = [key: boolean, queue: number, want: Decision] | 'output' | 'resync' | 'configured'

function run(steps: Step[]): void {
  const p = new DropPolicy(2, 8)
  steps.forEach((s, i) => {
    if (s === 'output') p.decoded()
    else if (s === 'resync') p.resync()
    else if (s === 'configured') p.configured()
    else expect(p.decide(s[0], s[1]), `step ${i}`).toBe(s[2])
  })
}

describe('DropPolicy', () => {
  const cases: { name: string; steps: Step[] }[] = [
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
      steps: [[true, 0, 'decode'], 'output', [false, 1, 'decode'], [false, 0, 'decode'], [false, 1, 'decode']],
    },
    {
      name: 'lets a starting decoder queue a few frames',
      steps: [[true, 0, 'decode'], [false, 1, 'decode'], [false, 4, 'decode'], [false, 7, 'decode'], 'output', [false, 3, 'drop']],
    },
    {
      name: 'skips a starting decoder that never catches up',
      steps: [[true, 0, 'decode'], [false, 8, 'drop'], [false, 0, 'drop'], [true, 9, 'flush'], [false, 7, 'decode']],
    },
    {
      name: 'skips to the next keyframe once the queue reaches the limit',
      steps: [
        [true, 0, 'decode'],
        'output',
        [false, 2, 'drop'],
        // The queue drained, but these frames refer to the skipped one.
        [false, 0, 'drop'],
        [false, 0, 'drop'],
        [true, 0, 'decode'],
        [false, 0, 'decode'],
      ],
    },
    {
      name: 'flushes a stale queue at a keyframe, and lets the restarted decoder warm up',
      steps: [[true, 0, 'decode'], 'output', [false, 2, 'drop'], [true, 3, 'flush'], [false, 3, 'decode'], 'output', [false, 2, 'drop']],
    },
    {
      name: 'keyframe at the limit decodes without flushing',
      steps: [[true, 0, 'decode'], 'output', [true, 2, 'decode'], [false, 1, 'decode']],
    },
    {
      name: 'resync waits for the next keyframe with a warm decoder',
      steps: [[true, 0, 'decode'], 'output', [false, 0, 'decode'], 'resync', [false, 0, 'drop'], [true, 0, 'decode'], [false, 2, 'drop']],
    },
    {
      name: 'reconfiguring waits for a keyframe and allows warm-up again',
      steps: [[true, 0, 'decode'], 'output', 'configured', [false, 0, 'drop'], [true, 0, 'decode'], [false, 5, 'decode']],
    },
  ]
  for (const c of cases) it(c.name, () => run(c.steps))

  it('keeps a slow decoder from drifting behind on a long stream', () => {
    const p = new DropPolicy(2, 8)
    let queue = 0
    let decoded = 0
    // A decoder that finishes one frame for every three that arrive; GOP of 30.
    for (let i = 0; i < 300; i++) {
      const d = p.decide(i % 30 === 0, queue)
      if (d === 'flush') queue = 0
      if (d !== 'drop') {
        queue++
        decoded++
      }
      if (i % 3 === 0 && queue > 0) {
        queue--
        p.decoded()
      }
      expect(queue, `unit ${i}`).toBeLessThanOrEqual(i < 30 ? 9 : 3)
    }
    expect(decoded).toBeGreaterThan(10)
    expect(decoded).toBeLessThan(300)
  })

  it('rejects impossible limits', () => {
    expect(() => new DropPolicy(0)).toThrow(/maxQueue/)
    expect(() => new DropPolicy(4, 2)).toThrow(/startupQueue/)
  })
})
