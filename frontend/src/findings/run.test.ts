import { describe, expect, it } from 'vitest'
import { parseRunUpdate } from '../api/findings'
import { parseRunRecord } from '../api/runs'
import { doffing, doffingWire } from './fixtures'
import { bySpecificity, ChecklistRun, timerText, whollyInside } from './run'

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

const update = (v: object) => parseRunUpdate(v, 'test')

describe('ChecklistRun', () => {
  it('takes a run up again with its running timer counting from when it started', () => {
    const c = clock(Date.parse('2026-12-02T01:00:30Z'))
    const run = new ChecklistRun('r1', doffing, c.now)
    const rec = parseRunRecord(
      { id: 'r1', camera: 's/cam', template: doffingWire, observations: [], findings: [], timers: [{ step: 'hh-gloves', started_at: '2026-12-02T01:00:10Z' }] },
      'test',
    )
    run.restore(rec)
    expect(run.running('hh-gloves')).toBe(true)
    expect(run.elapsedS('hh-gloves')).toBe(20)
    c.advance(5000)
    expect(run.stopTimer('hh-gloves')).toBe(25)
  })

  it('refuses a timer without its start', () => {
    expect(() => parseRunRecord({ id: 'r1', camera: 's/cam', template: doffingWire, observations: [], findings: [], timers: [{ step: 'hh-gloves' }] }, 'test')).toThrow(/timer 0/)
  })

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
    expect(run.hook()).toEqual({ runId: 'r9', templateId: 'ppe-doffing', ended: false, findings: [], observations: [{ step: 'goggles', mark: 'not_seen', deviation: undefined, durationS: undefined }], flags: [] })
  })
})

describe('what the panel shows of the run', () => {
  const flag = (step: string, deviation: string) => ({ step, deviation, reason: { 'zh-CN': '原因', en: 'reason' } })

  it('draws a step done but found wanting as done with a deviation, never a plain ✓', () => {
    const c = clock()
    const run = new ChecklistRun('r1', doffing, c.now)
    // The rub stopped at 9 s of 15, and the rules proposed a finding about it.
    run.startTimer('hh-gloves')
    c.advance(9_000)
    run.stopTimer('hh-gloves')
    run.apply(update({ observations: [{ step: 'hh-gloves', mark: 'done', duration_s: 9 }], flags: [flag('hh-gloves', 'hh-short')] }))
    expect(run.steps[0]!.mark).toBe('done')
    expect(run.shownMark('hh-gloves')).toBe('done_deviation')
    // Dismissed, the measured rub still falls short.
    run.dismiss('hh-gloves:hh-short')
    expect(run.shownMark('hh-gloves')).toBe('done_deviation')
  })

  it.each([
    { what: 'done and nothing found', obs: { step: 'goggles', mark: 'done' }, flags: [], dismissed: false, want: 'done' },
    { what: 'done out of order, proposed', obs: { step: 'goggles', mark: 'done' }, flags: [flag('goggles', 'wrong-order')], dismissed: false, want: 'done_deviation' },
    { what: 'done out of order, dismissed by the officer', obs: { step: 'goggles', mark: 'done' }, flags: [flag('goggles', 'wrong-order')], dismissed: true, want: 'done' },
    { what: 'a deviation marked', obs: { step: 'goggles', mark: 'deviation', deviation: 'wrong-order' }, flags: [], dismissed: false, want: 'deviation' },
    { what: 'not seen', obs: { step: 'goggles', mark: 'not_seen' }, flags: [], dismissed: false, want: 'not_seen' },
  ])('marks a step: $what', ({ obs, flags, dismissed, want }) => {
    const run = new ChecklistRun('r1', doffing)
    run.apply(update({ observations: [obs], flags }))
    if (dismissed) run.dismiss('goggles:wrong-order')
    expect(run.shownMark('goggles')).toBe(want)
  })

  it('takes a saved proposal off the panel when a new one comes', () => {
    const run = new ChecklistRun('r1', doffing)
    run.apply(update({ observations: [], flags: [flag('goggles', 'wrong-order')] }))
    run.pending!.state = 'confirmed'
    expect(run.shown.map((p) => p.key)).toEqual(['goggles:wrong-order'])
    run.apply(update({ observations: [], flags: [] }))
    expect(run.shown.map((p) => p.key)).toEqual(['goggles:wrong-order'])
    run.apply(update({ observations: [], flags: [flag('gown', 'wrong-order')] }))
    expect(run.shown.map((p) => [p.key, p.state])).toEqual([['gown:wrong-order', 'proposed']])
    // The record of what was filed stays.
    expect(run.hook().flags.map((f) => f.state)).toEqual(['confirmed', 'proposed'])
  })
})

describe('whollyInside', () => {
  const panel = { top: 100, bottom: 700, left: 900, right: 1280 }
  const screen = { top: 0, bottom: 800, left: 0, right: 1280 }
  it.each([
    { what: 'inside the panel and the window', box: { top: 200, bottom: 300, left: 910, right: 1270 }, want: true },
    { what: 'its foot below the panel’s fold', box: { top: 650, bottom: 750, left: 910, right: 1270 }, want: false },
    { what: 'scrolled above the panel', box: { top: 60, bottom: 160, left: 910, right: 1270 }, want: false },
    { what: 'below the window', box: { top: 700, bottom: 820, left: 910, right: 1270 }, want: false },
    { what: 'not laid out', box: { top: 0, bottom: 0, left: 0, right: 0 }, want: false },
    { what: 'on the edge, to the sub-pixel', box: { top: 100, bottom: 700.3, left: 900, right: 1280 }, want: true },
  ])('$what: $want', ({ box, want }) => {
    expect(whollyInside(box, [screen, panel])).toBe(want)
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
