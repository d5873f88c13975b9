import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { effectScope, nextTick, ref, type EffectScope } from 'vue'
import type { Coverage, Moment, Watching } from '../api/coverage'
import { siteRows, useCoverage, type CoverageApi } from './useCoverage'

let scope: EffectScope
beforeEach(() => (scope = effectScope()))
afterEach(() => scope.stop())

const at = '2026-12-02T03:00:00Z'
const zone = (met: boolean) => ({ zone: 'doffing_room_1', watched_seconds: 0, last_watched: null, since_seconds: null, policy: { max_gap_seconds: 3600, min_per_shift_seconds: 600, once_per_shift: false }, met, unwatched: !met })
const coverage: Coverage = {
  from: '2026-12-02T00:00:00Z',
  to: '2026-12-02T12:00:00Z',
  at,
  sites: [
    { site: 'site-01', watched_seconds: 60, last_watched: '2026-12-02T02:50:00Z', policy_met: true, unwatched: false, zones: [zone(true)], cameras: [], moments: [] },
    { site: 'site-02', watched_seconds: 0, last_watched: null, policy_met: false, unwatched: true, zones: [zone(false)], cameras: [], moments: [] },
    { site: 'site-03', watched_seconds: 60, last_watched: '2026-12-02T01:30:00Z', policy_met: false, unwatched: true, zones: [zone(false)], cameras: [], moments: [] },
  ],
}
const moment = (state: string): Moment => ({ id: 'm1', name: { 'zh-CN': '送餐', en: 'Meal delivery' }, site: 'site-02', zones: ['meal_area'], cameras: ['meal'], at, window_seconds: 1800, state })

describe('siteRows', () => {
  it('orders the sites least recently watched first, coloured by the time since', () => {
    const rows = siteRows(coverage, [], Date.parse(at))
    expect(rows.map((r) => `${r.site}:${r.tone}:${r.sinceS}:${r.met}/${r.asked}`)).toEqual(['site-02:never:null:0/1', 'site-03:stale:5400:0/1', 'site-01:fresh:600:1/1'])
  })

  it('counts a site on this screen as watched now, at once, whatever the relay last said', () => {
    const rows = siteRows(coverage, [{ camera: 'site-03/doff1', mode: 'tile' }], Date.parse(at))
    const r = rows.find((x) => x.site === 'site-03')!
    expect([r.tone, r.sinceS, r.unwatched]).toEqual(['now', 0, false])
  })
})

describe('the key-moment prompt', () => {
  function rig(state: string) {
    const dueSeen: Moment[] = []
    const visible = ref<Watching[]>([])
    const api: CoverageApi = {
      coverage: async () => coverage,
      unwatched: async () => ({ at, zones: [] }),
      moments: async () => ({ now: at, moments: [moment(state)] }),
    }
    const c = scope.run(() => useCoverage({ api, visible, due: (m) => dueSeen.push(m), pollMs: 60_000 }))!
    return { c, dueSeen, visible }
  }

  it('prompts once for a moment due, until one of its cameras is on screen', async () => {
    const r = rig('due')
    await r.c.refresh()
    await r.c.refresh()
    expect(r.dueSeen.map((m) => m.id)).toEqual(['m1'])
    expect(r.c.dueMoment.value?.id).toBe('m1')
    r.visible.value = [{ camera: 'site-02/meal', mode: 'focus' }]
    await nextTick()
    expect(r.c.dueMoment.value).toBeUndefined()
  })

  it('does not prompt for a moment upcoming or watched, and not again once dismissed', async () => {
    for (const s of ['upcoming', 'watched']) {
      const r = rig(s)
      await r.c.refresh()
      expect([s, r.dueSeen.length, r.c.dueMoment.value]).toEqual([s, 0, undefined])
    }
    const r = rig('due')
    await r.c.refresh()
    r.c.dismiss('m1')
    expect(r.c.dueMoment.value).toBeUndefined()
  })
})
