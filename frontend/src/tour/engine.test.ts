import { describe, expect, it } from 'vitest'
import type { Tour, TourStep } from '../api'
import { defaultResumeAfterMs, TourEngine, type Clock, type TourState } from './engine'

// A clock that moves only when told, firing due timers in order.
class ManualClock implements Clock {
  private t = 0
  private seq = 0
  private timers = new Map<number, { at: number; fn: () => void }>()

  now(): number {
    return this.t
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.timers.set(id, { at: this.t + ms, fn })
    return id
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number)
  }
  advance(ms: number): void {
    const end = this.t + ms
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e
      if (!next) break
      this.timers.delete(next[0])
      this.t = next[1].at
      next[1].fn()
    }
    this.t = end
  }
  get pending(): number {
    return this.timers.size
  }
}

const tour: Tour = {
  name: 'night',
  steps: [
    { camera: 'site-01/doff1', dwellS: 15 },
    { layout: 'four', dwellS: 30 },
    { camera: 'site-02/waste', dwellS: 10 },
  ],
}

function label(s: TourStep): string {
  return 'camera' in s ? s.camera : `layout:${s.layout}`
}

function setup(opts: { cannotShow?: string[]; resumeAfterMs?: number } = {}) {
  const clock = new ManualClock()
  const shown: string[] = []
  const states: TourState[] = []
  const engine = new TourEngine({
    clock,
    resumeAfterMs: opts.resumeAfterMs ?? 20_000,
    show: (s) => {
      if (opts.cannotShow?.includes(label(s))) return false
      shown.push(label(s))
      return true
    },
    changed: (s) => states.push(s),
  })
  return { clock, shown, states, engine }
}

describe('TourEngine dwell', () => {
  it('shows each step for its dwell time, round and round', () => {
    const { clock, shown, engine } = setup()
    expect(engine.start(tour)).toBe(true)
    expect(shown).toEqual(['site-01/doff1'])
    clock.advance(14_999)
    expect(shown).toHaveLength(1)
    clock.advance(1)
    expect(shown).toEqual(['site-01/doff1', 'layout:four'])
    clock.advance(30_000)
    expect(shown.at(-1)).toBe('site-02/waste')
    clock.advance(10_000)
    expect(shown.at(-1)).toBe('site-01/doff1')
    expect(engine.state).toMatchObject({ tour: 'night', index: 0, status: 'playing', advances: 4, dwellMs: 15_000, remainingMs: 15_000 })
  })

  it('reports the time left in the step', () => {
    const { clock, engine } = setup()
    engine.start(tour, 1)
    clock.advance(12_000)
    expect(engine.state).toMatchObject({ index: 1, remainingMs: 18_000, dwellMs: 30_000 })
  })

  it('gives a too-short dwell one second', () => {
    const { clock, shown, engine } = setup()
    engine.start({ name: 'fast', steps: [{ camera: 'a/b', dwellS: 0.01 }, { camera: 'c/d', dwellS: 0.01 }] })
    clock.advance(999)
    expect(shown).toEqual(['a/b'])
    clock.advance(1)
    expect(shown).toEqual(['a/b', 'c/d'])
  })

  it('tells its listener of each step, not of each tick', () => {
    const { clock, states, engine } = setup()
    engine.start(tour)
    clock.advance(15_000 + 30_000)
    expect(states.map((s) => s.index)).toEqual([0, 1, 2])
  })
})

describe('TourEngine controls', () => {
  it('pauses and plays on with the time that was left', () => {
    const { clock, shown, engine } = setup()
    engine.start(tour)
    clock.advance(10_000)
    engine.pause()
    expect(engine.state).toMatchObject({ status: 'paused', pausedBy: 'user', remainingMs: 5000 })
    clock.advance(60 * 60_000)
    expect(shown).toHaveLength(1)
    engine.play()
    clock.advance(4999)
    expect(shown).toHaveLength(1)
    clock.advance(1)
    expect(shown.at(-1)).toBe('layout:four')
  })

  it('toggles', () => {
    const { engine } = setup()
    engine.start(tour)
    engine.toggle()
    expect(engine.state.status).toBe('paused')
    engine.toggle()
    expect(engine.state.status).toBe('playing')
  })

  it('steps with next and previous, wrapping, each with a fresh dwell', () => {
    const { clock, shown, engine } = setup()
    engine.start(tour)
    clock.advance(14_000)
    engine.next()
    expect(engine.state).toMatchObject({ index: 1, remainingMs: 30_000 })
    engine.next()
    engine.next()
    expect(engine.state.index).toBe(0)
    engine.previous()
    expect(engine.state.index).toBe(2)
    expect(shown).toEqual(['site-01/doff1', 'layout:four', 'site-02/waste', 'site-01/doff1', 'site-02/waste'])
    clock.advance(9999)
    expect(engine.state.index).toBe(2)
    clock.advance(1)
    expect(engine.state.index).toBe(0)
  })

  it('steps while paused and stays paused', () => {
    const { clock, engine } = setup()
    engine.start(tour)
    engine.pause()
    engine.next()
    expect(engine.state).toMatchObject({ index: 1, status: 'paused', remainingMs: 30_000 })
    clock.advance(60_000)
    expect(engine.state.index).toBe(1)
  })

  it('stops, leaving no timer behind', () => {
    const { clock, engine } = setup()
    engine.start(tour)
    engine.interact()
    engine.stop()
    expect(engine.state).toMatchObject({ tour: '', index: -1, status: 'stopped' })
    expect(clock.pending).toBe(0)
    engine.next()
    engine.play()
    expect(engine.state.status).toBe('stopped')
  })

  it('starts over when started again', () => {
    const { engine } = setup()
    engine.start(tour, 2)
    engine.pause()
    engine.start({ name: 'other', steps: [{ camera: 'x/y', dwellS: 5 }] })
    expect(engine.state).toMatchObject({ tour: 'other', index: 0, status: 'playing', advances: 1 })
  })
})

describe('TourEngine and the officer at work', () => {
  it('pauses on interaction and resumes by itself after a quiet spell', () => {
    const { clock, shown, engine } = setup({ resumeAfterMs: 20_000 })
    engine.start(tour)
    clock.advance(5000)
    engine.interact()
    expect(engine.state).toMatchObject({ status: 'paused', pausedBy: 'interaction', remainingMs: 10_000, resumesAt: 25_000 })
    clock.advance(19_999)
    expect(engine.state.status).toBe('paused')
    clock.advance(1)
    expect(engine.state).toMatchObject({ status: 'playing', index: 0 })
    clock.advance(10_000)
    expect(shown).toEqual(['site-01/doff1', 'layout:four'])
  })

  it('waits for the last of several interactions', () => {
    const { clock, engine } = setup({ resumeAfterMs: 20_000 })
    engine.start(tour)
    engine.interact()
    clock.advance(15_000)
    engine.interact()
    clock.advance(15_000)
    expect(engine.state.status).toBe('paused')
    clock.advance(5000)
    expect(engine.state.status).toBe('playing')
  })

  it('stays paused while held (a tile in focus view) and resumes after release', () => {
    const { clock, engine } = setup({ resumeAfterMs: 20_000 })
    engine.start(tour)
    engine.hold()
    clock.advance(10 * 60_000)
    expect(engine.state).toMatchObject({ status: 'paused', pausedBy: 'interaction', resumesAt: undefined })
    engine.interact()
    clock.advance(60_000)
    expect(engine.state.status).toBe('paused')
    engine.release()
    clock.advance(20_000)
    expect(engine.state.status).toBe('playing')
  })

  it('does not resume by itself what the officer paused', () => {
    const { clock, engine } = setup({ resumeAfterMs: 20_000 })
    engine.start(tour)
    engine.pause()
    engine.interact()
    clock.advance(60_000)
    expect(engine.state).toMatchObject({ status: 'paused', pausedBy: 'user' })
  })

  it('lets the officer’s pause override an interaction pause', () => {
    const { clock, engine } = setup({ resumeAfterMs: 20_000 })
    engine.start(tour)
    engine.interact()
    engine.pause()
    clock.advance(60_000)
    expect(engine.state).toMatchObject({ status: 'paused', pausedBy: 'user' })
  })

  it('plays at once when told to, even while held', () => {
    const { engine } = setup()
    engine.start(tour)
    engine.hold()
    engine.play()
    expect(engine.state.status).toBe('playing')
    engine.release()
    expect(engine.state.status).toBe('playing')
  })

  it('resumes after 20 s by default', () => {
    const clock = new ManualClock()
    const engine = new TourEngine({ clock, show: () => true })
    engine.start(tour)
    clock.advance(1000)
    engine.interact()
    expect(engine.state.resumesAt).toBe(1000 + defaultResumeAfterMs)
    expect(defaultResumeAfterMs).toBe(20_000)
  })

  it('ignores interaction while stopped', () => {
    const { clock, engine, states } = setup()
    engine.interact()
    engine.hold()
    engine.release()
    expect(states).toEqual([])
    expect(clock.pending).toBe(0)
  })
})

describe('TourEngine with steps it cannot show', () => {
  it('skips them, mixed camera and layout steps alike', () => {
    const { clock, shown, engine } = setup({ cannotShow: ['layout:four'] })
    engine.start(tour)
    clock.advance(15_000)
    expect(shown).toEqual(['site-01/doff1', 'site-02/waste'])
    expect(engine.state.index).toBe(2)
    engine.previous()
    expect(engine.state.index).toBe(0)
  })

  it('starts at the first step it can show', () => {
    const { shown, engine } = setup({ cannotShow: ['site-01/doff1'] })
    engine.start(tour)
    expect(shown).toEqual(['layout:four'])
  })

  it('stops when it can show nothing, and says why', () => {
    const { engine, states } = setup({ cannotShow: ['site-01/doff1', 'layout:four', 'site-02/waste'] })
    expect(engine.start(tour)).toBe(false)
    expect(engine.state).toMatchObject({ status: 'stopped', stoppedBecause: 'nothing_to_show' })
    expect(states.at(-1)).toMatchObject({ status: 'stopped', stoppedBecause: 'nothing_to_show' })
    expect(new TourEngine({ show: () => true }).start({ name: 'empty', steps: [] })).toBe(false)
  })
})
