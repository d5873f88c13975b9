import { describe, expect, it } from 'vitest'
import { resolve } from './keymap'
import { escTarget, regionOf, type ElementLike, type Region } from './region'
import { runAction } from './useKeyboard'

// An element inside the given ancestors, innermost first: each a selector it matches and its data-region.
function inside(...ancestors: { matches: string[]; region?: string }[]): ElementLike {
  return {
    closest(selector) {
      const wanted = selector.split(',').map((s) => s.trim())
      const a = ancestors.find((x) => x.matches.some((m) => wanted.includes(m)))
      return a ? { getAttribute: (n) => (n === 'data-region' ? (a.region ?? null) : null) } : null
    },
  }
}

describe('regionOf', () => {
  it.each<{ name: string; el: ElementLike | null; region: Region }>([
    { name: 'nothing focused: the window, so the wall', el: null, region: 'wall' },
    { name: 'the findings list', el: inside({ matches: ['[data-region]'], region: 'findings' }), region: 'findings' },
    { name: 'the filter box in the camera list', el: inside({ matches: ['[data-region]'], region: 'tree' }), region: 'tree' },
    { name: 'a field in a dialog over the panel', el: inside({ matches: ['[aria-modal="true"]', '[role="dialog"]'] }, { matches: ['[data-region]'], region: 'findings' }), region: 'dialog' },
    { name: 'a toolbar button, in no region: its keys reach the window', el: inside(), region: 'wall' },
    { name: 'an unknown region name', el: inside({ matches: ['[data-region]'], region: 'sidebar' }), region: 'wall' },
  ])('$name', ({ el, region }) => {
    expect(regionOf(el)).toBe(region)
  })
})

describe('escTarget: Esc walks back one level', () => {
  it.each<{ from: Region; openedFrom?: Region; findings: boolean; checklist: boolean; to: Region }>([
    // A finding opened from the list goes back to the list, not the wall.
    { from: 'dialog', openedFrom: 'findings', findings: true, checklist: false, to: 'findings' },
    { from: 'dialog', openedFrom: 'tree', findings: false, checklist: false, to: 'tree' },
    { from: 'dialog', openedFrom: 'checklist', findings: false, checklist: true, to: 'checklist' },
    { from: 'dialog', openedFrom: 'wall', findings: true, checklist: true, to: 'wall' },
    // The region it came from has gone: the work still beside the wall, else the wall.
    { from: 'dialog', openedFrom: 'findings', findings: false, checklist: true, to: 'checklist' },
    { from: 'dialog', openedFrom: 'checklist', findings: false, checklist: false, to: 'wall' },
    { from: 'dialog', findings: true, checklist: false, to: 'wall' },
    // A panel or the list: the wall, the next level back.
    { from: 'findings', findings: true, checklist: true, to: 'wall' },
    { from: 'tree', findings: false, checklist: false, to: 'wall' },
    { from: 'checklist', findings: true, checklist: true, to: 'wall' },
  ])('from $from (opened from $openedFrom) to $to', ({ from, openedFrom, findings, checklist, to }) => {
    expect(escTarget(from, openedFrom, { findings, checklist })).toBe(to)
  })
})

describe('keys of a region', () => {
  it.each([
    // The list has the keys: Enter opens the chosen finding, Esc leaves the list.
    { scope: 'findings', key: 'Enter', action: 'findings.show' },
    { scope: 'findings', key: 'Escape', action: 'findings.close' },
    { scope: 'wall', key: 'Enter', action: 'tile.focus' },
    { scope: 'tree', key: 'Enter', action: 'tree.assign' },
    { scope: 'checklist', key: 'Escape', action: 'checklist.close' },
    // The wall's keys reach the window from the list and the checklist.
    { scope: 'findings', key: 'F11', action: 'window.fullscreen' },
    { scope: 'checklist', key: 'w', action: 'wall.second' },
    // A dialog takes only its own keys.
    { scope: 'finding', key: 'F11', action: undefined },
  ] as const)('$key in $scope: $action', ({ scope, key, action }) => {
    expect(resolve(scope, { key })?.action).toBe(action)
  })
})

describe('runAction', () => {
  it('runs an action as its key would, with the key that names it', () => {
    const ran: string[] = []
    runAction({ 'grid.more': (r) => ran.push(`${r.action}:${r.key}`), 'flag.open': (r) => ran.push(`${r.action}:${r.key}`) }, 'grid.more')
    runAction({ 'flag.open': (r) => ran.push(`${r.action}:${r.key}`) }, 'flag.open')
    // An action nothing does does nothing.
    runAction({}, 'help')
    expect(ran).toEqual(['grid.more:=', 'flag.open:f'])
  })
})
