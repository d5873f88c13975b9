import { describe, expect, it } from 'vitest'
import { parseRunUpdate } from '../api/findings'
import { doffing } from './fixtures'
import { bySpecificity, ChecklistRun, timerText } from './run'

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

const update = (v: object) => parseRunUpdate(v, 'test')

describe('ChecklistRun', () => {
  it('shows the marks the backend holds, in template order', () => {
    const run = new ChecklistRun('r1', doffing)
    run.apply(update({ observations: [{ step: 'gown', mark: 'deviation', deviation: 'wrong-order', at: '2026-11-24T20:00:00Z' }, { step: 'goggles', mark: 'done' }], flags: [] }))
    expect(run.steps.map((s) => [s.id, s.mark, s.deviation])).toEqual([
      ['hh-gloves', '', undefined],
      ['goggles', 'done', undefined],
      ['gown', 'deviation', 'wrong-order'],
    ])
    // A mark taken back disappears when the backend no longer lists it.
    run.apply(update({ observations: [{ step: 'goggles', mark: 'done' }], flags: [] }))
    expect(run.steps[2]!.mark).toBe('')
  })

  it('proposes each flag once, with the picture taken at the key', () => {
    const run = new ChecklistRun<string>('r1', doffing)
    const flag = { step: 'gown', deviation: 'wrong-order', reason: { 'zh-CN': '先于摘护目镜', en: 'before goggles' } }
    const added = run.apply(update({ observations: [{ step: 'gown', mark: 'done' }], flags: [flag] }), 'frame-1')
    expect(added.map((p) => [p.key, p.state, p.snapshot])).toEqual([['gown:wrong-order', 'proposed', 'frame-1']])
    expect(run.apply(update({ observations: [], flags: [flag] }), 'frame-2')).toEqual([])
    expect(run.pending?.snapshot).toBe('frame-1')
    run.dismiss('gown:wrong-order')
    expect(run.pending).toBeUndefined()
    expect(run.hook().flags).toEqual([{ step: 'gown', deviation: 'wrong-order', state: 'dismissed', findingId: undefined }])
  })

  it('times a step with the injected clock and knows when it was short', () => {
    const c = clock()
    const run = new ChecklistRun('r1', doffing, c.now)
    expect(run.elapsedS('hh-gloves')).toBe(0)
    run.startTimer('hh-gloves')
    expect(run.running('hh-gloves')).toBe(true)
    c.advance(12_400)
    expect(run.elapsedS('hh-gloves')).toBeCloseTo(12.4)
    expect(run.short('hh-gloves')).toBe(false) // still running
    expect(run.stopTimer('hh-gloves')).toBeCloseTo(12.4)
    c.advance(60_000)
    expect(run.elapsedS('hh-gloves')).toBeCloseTo(12.4)
    expect(run.short('hh-gloves')).toBe(true)
    // The backend's measurement wins over the view's.
    run.apply(update({ observations: [{ step: 'hh-gloves', mark: 'done', duration_s: 21.5 }], flags: [] }))
    expect(run.elapsedS('hh-gloves')).toBe(21.5)
    expect(run.short('hh-gloves')).toBe(false)
    expect(run.short('goggles')).toBe(false) // not a timed step
  })

  it('moves the cursor within the steps and on to the next unmarked one', () => {
    const run = new ChecklistRun('r1', doffing)
    run.move(-1)
    expect(run.cursor).toBe(0)
    run.move(5)
    expect(run.cursor).toBe(2)
    run.cursor = 0
    run.apply(update({ observations: [{ step: 'goggles', mark: 'done' }], flags: [] }))
    run.advance()
    expect(run.current?.id).toBe('gown')
  })

  it('keeps a free-text deviation the backend cannot hold until the step is marked again', () => {
    const run = new ChecklistRun('r1', doffing)
    run.markFreeText('gown', '未戴手套')
    run.apply(update({ observations: [{ step: 'goggles', mark: 'done' }], flags: [] }))
    expect([run.steps[2]!.mark, run.steps[2]!.freeText]).toEqual(['deviation', '未戴手套'])
    run.apply(update({ observations: [{ step: 'gown', mark: 'done' }], flags: [] }))
    expect([run.steps[2]!.mark, run.steps[2]!.freeText]).toEqual(['done', undefined])
  })

  it('refuses a step the template does not have', () => {
    expect(() => new ChecklistRun('r1', doffing).startTimer('nope')).toThrow(/no step nope/)
  })

  it('gives the test hook the run as the panel shows it', () => {
    const run = new ChecklistRun('r9', doffing)
    run.apply(update({ observations: [{ step: 'goggles', mark: 'not_seen' }], flags: [] }))
    expect(run.hook()).toEqual({ runId: 'r9', templateId: 'ppe-doffing', observations: [{ step: 'goggles', mark: 'not_seen', deviation: undefined, durationS: undefined }], flags: [] })
  })
})

describe('timerText', () => {
  const cases: [number, string][] = [
    [0, '0:00'],
    [9.9, '0:09'],
    [65, '1:05'],
    [600, '10:00'],
  ]
  for (const [s, want] of cases) it(`${s} s → ${want}`, () => expect(timerText(s)).toBe(want))
})

describe('bySpecificity', () => {
  it('puts the zone own checklist before wider ones, keeping order among equals', () => {
    const tpl = (id: string, zones: string[]) => ({ ...doffing, id, zones })
    const got = bySpecificity([tpl('all', ['*']), tpl('disinfection', ['corridor', 'doffing_room_1', 'entrance']), tpl('doffing', ['doffing_room_1', 'doffing_room_2']), tpl('other', ['a', 'b'])])
    expect(got.map((t) => t.id)).toEqual(['doffing', 'other', 'disinfection', 'all'])
  })
})
