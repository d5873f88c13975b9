import { describe, expect, it } from 'vitest'
import type { Action } from './keymap'
import { panelKeys, windowKey, type KeyEventLike, type Modal } from './useKeyboard'

// A key as the handlers see it, recording what they did with it.
function press(key: string, more: Partial<KeyEventLike> = {}) {
  return { key, target: null, defaultPrevented: false, prevented: 0, stopped: 0, preventDefault() { this.prevented++ }, stopPropagation() { this.stopped++ }, ...more }
}

function recorder() {
  const ran: Action[] = []
  const command = (a: Action) => () => void ran.push(a)
  return { ran, command }
}

describe('windowKey', () => {
  it.each([
    { key: 'f', ran: ['flag.open'], prevented: 1 },
    { key: '7', ran: ['tile.number'], prevented: 1 },
    // Bound, but nothing here does it: still the console's key.
    { key: 'r', ran: [], prevented: 1 },
    // Not a key of the wall: the browser's.
    { key: 'q', ran: [], prevented: 0 },
    { key: 'f', ctrlKey: true, ran: [], prevented: 0 },
  ])('runs the wall’s command for $key', ({ key, ran, prevented, ctrlKey }) => {
    const r = recorder()
    const e = press(key, { ctrlKey })
    windowKey(e, { scope: 'wall', commands: { 'flag.open': r.command('flag.open'), 'tile.number': r.command('tile.number') }, modal: () => undefined })
    expect(r.ran).toEqual(ran)
    expect(e.prevented).toBe(prevented)
  })

  it('leaves a key another handler took', () => {
    const r = recorder()
    windowKey(press('f', { defaultPrevented: true }), { scope: 'wall', commands: { 'flag.open': r.command('flag.open') }, modal: () => undefined })
    expect(r.ran).toEqual([])
  })

  it.each([
    { key: 'Escape', closes: 1 },
    { key: '?', closes: 1 },
    { key: 'f', closes: 0 },
  ])('hears only the keys that close an open modal: $key', ({ key, closes }) => {
    const r = recorder()
    let closed = 0
    const modal: Modal = { closeKeys: ['Escape', '?'], close: () => closed++ }
    const e = press(key)
    windowKey(e, { scope: 'wall', commands: { 'flag.open': r.command('flag.open'), help: r.command('help') }, modal: () => modal })
    expect(closed).toBe(closes)
    expect(e.prevented).toBe(closes)
    expect(r.ran).toEqual([])
  })
})

describe('panelKeys', () => {
  it.each([
    // The checklist's own key: done there, no further.
    { key: 'd', ran: ['step.done'], stopped: 1 },
    // A wall key falls through to the window.
    { key: 'f', ran: [], stopped: 0 },
  ])('keeps the panel’s own keys: $key', ({ key, ran, stopped }) => {
    const r = recorder()
    const e = press(key)
    panelKeys('checklist', { 'step.done': r.command('step.done') })(e)
    expect(r.ran).toEqual(ran)
    expect(e.stopped).toBe(stopped)
    expect(e.prevented).toBe(stopped)
  })
})
