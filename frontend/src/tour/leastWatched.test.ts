import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { computed, effectScope, nextTick, ref, type EffectScope } from 'vue'
import { cameraKey, type Camera } from '../api'
import { loopbackForTests } from '../api/loopback'
import { camera as siteCamera } from '../sites/fixtures'
import { useWall } from '../wall/useWall'
import { leastWatchedName, planLeastWatched, useLeastWatched, withMomentFirst } from './leastWatched'
import { useTours } from './useTours'

const backend = loopbackForTests('s3cret')

describe('planLeastWatched', () => {
  const last: Record<string, number> = { 'a/1': 300, 'a/2': 100, 'b/1': 200 }
  const cams = ['a/1', 'a/2', 'b/1', 'c/1']
  const order = (first?: string) => planLeastWatched(cams, (c) => last[c], 20, first).steps.map((s) => ('camera' in s ? s.camera : ''))

  it('puts the never-watched first, then the longest ago', () => {
    expect(order()).toEqual(['c/1', 'a/2', 'b/1', 'a/1'])
  })

  it('re-planned, keeps the camera on screen first and orders the rest by what was seen since', () => {
    last['c/1'] = 400 // the tour just showed it
    last['a/2'] = 500
    expect(order('c/1')).toEqual(['c/1', 'b/1', 'a/1', 'a/2'])
  })
})

describe('withMomentFirst', () => {
  it('shows the moment cameras next, then the rest of the tour from where it was', () => {
    const tour = { name: 't', steps: ['x/1', 'x/2', 'x/3', 'x/4'].map((camera) => ({ camera, dwellS: 10 })) }
    const next = withMomentFirst(tour, 1, ['x/4', 'm/1'], 30)
    expect(next.steps.map((s) => ('camera' in s ? `${s.camera}:${s.dwellS}` : ''))).toEqual(['x/4:30', 'm/1:30', 'x/3:10', 'x/1:10', 'x/2:10'])
  })
})

describe('useLeastWatched on the tours', () => {
  let scope: EffectScope
  beforeEach(() => {
    scope = effectScope()
    vi.useFakeTimers()
  })
  afterEach(() => {
    scope.stop()
    vi.useRealTimers()
  })

  function rig(last: Record<string, number>) {
    const cams = ['a', 'b', 'c', 'd'].map((id) => siteCamera('s', id))
    const byKey = computed<ReadonlyMap<string, Camera>>(() => new Map(cams.map((c) => [cameraKey(c), c])))
    return scope.run(() => {
      const wall = useWall()
      const tours = useTours(backend.client(), wall, { feed: { byKey, loaded: ref(true), label: (k) => k }, layouts: () => [], say: () => undefined, choose: () => undefined })
      const least = useLeastWatched(tours, { cameras: () => cams.map(cameraKey), lastWatched: (c) => last[c], dwellS: 20 })
      return { wall, tours, least }
    })!
  }

  it('re-plans at every step from what was watched meanwhile', async () => {
    const last: Record<string, number> = { 's/a': 100, 's/c': 50, 's/d': 200 }
    const r = rig(last)
    r.least.start()
    expect(r.wall.tiles.value).toEqual(['s/b']) // never watched
    last['s/b'] = 900 // on screen
    last['s/a'] = 1000 // another officer looked at it meanwhile
    vi.advanceTimersByTime(20_000)
    await nextTick() // the re-plan follows the step
    expect(r.wall.tiles.value).toEqual(['s/c'])
    vi.advanceTimersByTime(20_000)
    await nextTick()
    // Planned at the start, a came next; re-planned, d (200) is older than b and a.
    expect(r.wall.tiles.value).toEqual(['s/d'])
    expect(r.tours.state.value.tour).toBe(leastWatchedName)
  })

  it('jumps a running tour to a key moment’s cameras, then carries on', () => {
    const r = rig({ 's/a': 100, 's/b': 300, 's/c': 200, 's/d': 400 })
    expect(r.least.jumpTo(['s/d'])).toBe(false) // no tour runs
    r.least.start()
    expect(r.wall.tiles.value).toEqual(['s/a'])
    expect(r.least.jumpTo(['s/d'])).toBe(true)
    expect(r.wall.tiles.value).toEqual(['s/d'])
  })
})
