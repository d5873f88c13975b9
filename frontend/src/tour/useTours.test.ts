import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { computed, effectScope, ref, type EffectScope } from 'vue'
import { cameraKey, type Camera } from '../api'
import { loopbackForTests } from '../api/loopback'
import { i18n } from '../i18n'
import { camera as siteCamera } from '../sites/fixtures'
import { useWall } from '../wall/useWall'
import { useTours, type ToursOptions } from './useTours'

// The tours against a real HTTP server standing in for the backend, on a
// real wall with a camera list the test sets.
const backend = loopbackForTests('s3cret')
i18n.global.locale.value = 'en'
let scope: EffectScope
beforeEach(() => (scope = effectScope()))
afterEach(() => scope.stop())

const camera = (id: string) => siteCamera('s', id)

function feedOf(cameras: Camera[]): ToursOptions['feed'] {
  const byKey = computed<ReadonlyMap<string, Camera>>(() => new Map(cameras.map((c) => [cameraKey(c), c])))
  return { byKey, loaded: ref(true), label: (key) => (byKey.value.has(key) ? `s · ${byKey.value.get(key)!.name.en}` : key) }
}

function tours(cameras: Camera[]) {
  const said: string[] = []
  let chose = 0
  const api = backend.client()
  const { wall, t } = scope.run(() => {
    const wall = useWall()
    const t = useTours(api, wall, { feed: feedOf(cameras), layouts: () => [], say: (s) => said.push(s), choose: () => chose++ })
    return { wall, t }
  })!
  return { wall, t, said, chose: () => chose }
}

const rounds = { name: 'rounds', steps: [{ camera: 's/a', dwell_s: 30 }, { camera: 's/b', dwell_s: 30 }] }

describe('useTours', () => {
  it('shows a camera step alone on the wall, and gives the wall back when stopped', async () => {
    backend.route = () => ({ status: 200, body: { tours: [rounds] } })
    const s = tours([camera('a'), camera('b')])
    await s.t.load()
    s.t.start('rounds')
    expect(s.wall.tiles.value).toEqual(['s/a'])
    expect(s.wall.touring.value).toBe(true)
    expect(s.t.stepLabel.value).toBe('s · a')
    expect(s.said).toEqual([i18n.global.t('tours.started', { name: 'rounds' })])
    s.t.commands['tour.stop']!({} as never)
    expect(s.wall.touring.value).toBe(false)
  })

  it('says so when none of a tour’s cameras is there', async () => {
    backend.route = () => ({ status: 200, body: { tours: [rounds] } })
    const s = tours([camera('z')])
    await s.t.load()
    s.t.start('rounds')
    expect(s.t.state.value.status).toBe('stopped')
    expect(s.said).toEqual([i18n.global.t('tours.nothingToShow', { name: 'rounds' })])
  })

  it('asks which tour with Space when none runs', () => {
    const s = tours([])
    s.t.commands['tour.toggle']!({} as never)
    expect(s.chose()).toBe(1)
  })

  it('renames a tour: saved under the new name, the old one deleted, the list read again', async () => {
    backend.route = (r) => (r.method === 'GET' ? { status: 200, body: { tours: [rounds] } } : { status: 200, body: r.method === 'PUT' ? r.body : '' })
    const s = tours([camera('a')])
    await s.t.load()
    s.t.edit('rounds')
    let closed = 0
    await s.t.save({ name: 'night rounds', steps: [{ camera: 's/a', dwellS: 20 }] }, () => closed++)
    expect(backend.seen.map((r) => `${r.method} ${decodeURIComponent(r.url)}`)).toEqual([
      'GET /api/v1/tours',
      'PUT /api/v1/tours/night rounds',
      'DELETE /api/v1/tours/rounds',
      'GET /api/v1/tours',
    ])
    expect(closed).toBe(1)
    expect(s.t.saveError.value).toBe('')
  })

  it('keeps the editor open with the backend’s words when saving fails', async () => {
    backend.route = () => ({ status: 400, body: { error: { code: 'invalid_field', message: 'dwell too short' } } })
    const s = tours([])
    let closed = 0
    await s.t.save({ name: 'x', steps: [{ camera: 's/a', dwellS: 1 }] }, () => closed++)
    expect(closed).toBe(0)
    expect(s.t.saveError.value).toBe('That did not work: dwell too short')
    expect(s.t.saving.value).toBe(false)
  })

  it('marks tours unavailable on a backend without them', async () => {
    const s = tours([])
    await s.t.load()
    expect(s.t.available.value).toBe(false)
    expect(s.said).toEqual([])
  })
})
