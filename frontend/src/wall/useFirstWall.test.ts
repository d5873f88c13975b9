import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { effectScope, nextTick, ref, shallowRef, type EffectScope } from 'vue'
import type { Camera } from '../api'
import type { ToursState } from '../tour/useTours'
import { useFirstWall } from './useFirstWall'
import type { LayoutsState } from './useLayouts'
import { useWall } from './useWall'

let scope: EffectScope
// No wall kept from an earlier launch (node has no localStorage: useWall reads none).
beforeEach(() => (scope = effectScope()))
afterEach(() => scope.stop())

function camera(site: string, id: string): Camera {
  const name = { 'zh-CN': id, en: id }
  return { site, id, zone: 'doff', name, site_name: name, district: name, time_zone: 'Asia/Shanghai', online: true, state: 'online', streams: {} } as Camera
}

// Saved layouts and tours the backend takes its time over: they come when the test says.
function slowLists() {
  let answer = () => {}
  const came = new Promise<void>((r) => (answer = r))
  const layouts = { load: () => came, list: shallowRef([{ name: 'night', grid: 1, tiles: ['s/b'] }]) } as unknown as LayoutsState
  const tours = { load: () => came, start: () => {} } as unknown as ToursState
  return { layouts, tours, answer: () => answer() }
}

function setUp(query: string, camerasIn: boolean) {
  const lists = slowLists()
  const loaded = ref(camerasIn)
  const cameras = shallowRef(camerasIn ? [camera('s', 'a'), camera('s', 'b')] : [])
  const { wall, first } = scope.run(() => {
    const wall = useWall()
    const first = useFirstWall(wall, { feed: { loaded, cameras }, layouts: lists.layouts, tours: lists.tours, defaultCamera: 's/b', address: new URLSearchParams(query) })
    return { wall, first }
  })!
  return { wall, first, lists, loaded, cameras }
}

describe('useFirstWall', () => {
  it('puts the first wall up with the camera list, not after the saved layouts and tours', async () => {
    const s = setUp('grid=16', true)
    void s.first.start()
    await nextTick()
    expect(s.wall.tiles.value.slice(0, 2)).toEqual(['s/b', 's/a'])
    expect(s.wall.view.value.grid).toBe(16)
    s.lists.answer()
  })

  it('puts it up when the camera list comes after the start', async () => {
    const s = setUp('', false)
    void s.first.start()
    await nextTick()
    expect(s.wall.tiles.value.every((c) => c === null)).toBe(true)
    s.cameras.value = [camera('s', 'a')]
    s.loaded.value = true
    await nextTick()
    expect(s.wall.tiles.value[0]).toBe('s/a')
    s.lists.answer()
  })

  it('waits for the saved layouts when the address names one', async () => {
    const s = setUp('layout=night', true)
    const started = s.first.start()
    await nextTick()
    expect(s.wall.tiles.value.every((c) => c === null)).toBe(true)
    s.lists.answer()
    await started
    expect(s.wall.tiles.value).toEqual(['s/b'])
  })
})
