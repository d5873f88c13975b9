import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick, ref, type EffectScope } from 'vue'
import type { Watching } from '../api/coverage'
import { useWatch, visibleSet, type Screen } from './useWatch'

// The browser's screen stands in here as state the test sets (vitest runs
// in node, with no document); e2e/coverage_test.go drives the real one in
// Chromium.
function fakeScreen() {
  const s = { hidden: false, covered: false, out: new Set<number>(), fns: new Set<() => void>() }
  const screen: Screen = {
    hidden: () => s.hidden,
    covered: () => s.covered,
    outOfView: () => s.out,
    subscribe: (fn) => (s.fns.add(fn), () => s.fns.delete(fn)),
  }
  const set = (patch: Partial<Pick<typeof s, 'hidden' | 'covered' | 'out'>>) => {
    Object.assign(s, patch)
    s.fns.forEach((fn) => fn())
  }
  return { screen, set }
}

let scope: EffectScope
beforeEach(() => {
  scope = effectScope()
  vi.useFakeTimers()
})
afterEach(() => {
  scope.stop()
  vi.useRealTimers()
})

function rig() {
  const tiles = ref<(string | null)[]>(['s1/doff1', 's1/doff2', null, 's2/gate'])
  const focused = ref<number | null>(null)
  const puts: Watching[][] = []
  const { screen, set } = fakeScreen()
  const w = scope.run(() => useWatch({ tiles, focused, screen, put: async (v) => void puts.push(v), heartbeatMs: 15_000 }))!
  const last = () => puts[puts.length - 1]!.map((x) => `${x.camera}:${x.mode}`)
  return { tiles, focused, puts, set, w, last }
}

describe('useWatch', () => {
  it('tells the backend every camera in a tile at once, and only the enlarged one in focus view', async () => {
    const r = rig()
    expect(r.last()).toEqual(['s1/doff1:tile', 's1/doff2:tile', 's2/gate:tile'])
    r.focused.value = 1
    await nextTick()
    expect(r.last()).toEqual(['s1/doff2:focus'])
  })

  it('closes every watch while a dialog covers the wall, and opens them again after', async () => {
    const r = rig()
    r.set({ covered: true })
    await nextTick()
    expect(r.last()).toEqual([])
    r.set({ covered: false })
    await nextTick()
    expect(r.last()).toEqual(['s1/doff1:tile', 's1/doff2:tile', 's2/gate:tile'])
  })

  it('closes every watch while the window is hidden or minimised', async () => {
    const r = rig()
    r.set({ hidden: true })
    await nextTick()
    expect(r.last()).toEqual([])
    expect(r.w.visible.value).toEqual([])
  })

  it('leaves out a tile scrolled out of sight', async () => {
    const r = rig()
    r.set({ out: new Set([1]) })
    await nextTick()
    expect(r.last()).toEqual(['s1/doff1:tile', 's2/gate:tile'])
  })

  it('says nothing new for a change that shows the same, and repeats it as a heartbeat', async () => {
    const r = rig()
    const n = r.puts.length
    r.tiles.value = ['s1/doff2', 's1/doff1', null, 's2/gate', 's1/doff1']
    await nextTick()
    expect(r.puts.length).toBe(n)
    vi.advanceTimersByTime(15_000)
    expect(r.puts.length).toBe(n + 1)
    expect(r.last()).toEqual(['s1/doff1:tile', 's1/doff2:tile', 's2/gate:tile'])
  })

  it('tells the backend nothing is on screen when the console closes', () => {
    const r = rig()
    scope.stop()
    expect(r.last()).toEqual([])
  })
})

describe('visibleSet', () => {
  it('counts a camera in two tiles once', () => {
    expect(visibleSet(['a/1', 'a/1'], null, false, false, new Set())).toEqual([{ camera: 'a/1', mode: 'tile' }])
  })
})
