import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { effectScope, type EffectScope } from 'vue'
import { loopbackForTests } from '../api/loopback'
import { i18n } from '../i18n'
import { filledWall } from './layout'
import { useLayouts } from './useLayouts'
import { useWall } from './useWall'

// The saved layouts against a real HTTP server standing in for the backend.
const backend = loopbackForTests('s3cret')
i18n.global.locale.value = 'en'
let scope: EffectScope
beforeEach(() => (scope = effectScope()))
afterEach(() => scope.stop())

function layouts() {
  const said: string[] = []
  let tourStops = 0
  const api = backend.client()
  const { wall, l } = scope.run(() => {
    const wall = useWall()
    wall.setOwn(filledWall(4, ['s/a', 's/b']))
    return { wall, l: useLayouts(api, wall, { say: (s) => said.push(s), stopTour: () => tourStops++ }) }
  })!
  return { wall, l, said, tourStops: () => tourStops }
}

const night = { name: 'night', grid: 1, tiles: ['s/b'] }

describe('useLayouts', () => {
  it('saves the wall as it is under a name', async () => {
    backend.route = (r) => (r.method === 'PUT' ? { status: 200, body: r.body } : { status: 200, body: { layouts: [night] } })
    const s = layouts()
    let closed = 0
    await s.l.save('day', () => closed++)
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ name: 'day', grid: 4, tiles: ['s/a', 's/b'] })
    expect(s.wall.layoutName.value).toBe('day')
    expect(closed).toBe(1)
    expect(s.said).toEqual([i18n.global.t('layouts.saved', { name: 'day' })])
    expect(s.l.names.value).toEqual(['night'])
  })

  it('restores a saved layout, ending the tour', async () => {
    backend.route = () => ({ status: 200, body: { layouts: [night] } })
    const s = layouts()
    await s.l.load()
    expect(s.l.restore('gone')).toBe(false)
    expect(s.l.restore('night')).toBe(true)
    expect(s.wall.tiles.value).toEqual(['s/b'])
    expect(s.tourStops()).toBe(1)
    expect(s.l.items.value).toEqual([{ id: 'night', label: 'night', detail: i18n.global.t('layouts.detail', { grid: 1, cameras: 1 }), current: true }])
  })

  it('forgets the name of the layout it deleted', async () => {
    backend.route = (r) => (r.method === 'DELETE' ? { status: 204 } : { status: 200, body: { layouts: [] } })
    const s = layouts()
    s.wall.layoutName.value = 'night'
    await s.l.remove('night')
    expect(s.wall.layoutName.value).toBe('')
    expect(s.said).toEqual([i18n.global.t('layouts.deleted', { name: 'night' })])
  })

  it('marks layouts unavailable on a backend without them', async () => {
    const s = layouts()
    await s.l.load()
    expect(s.l.available.value).toBe(false)
  })
})
