import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, type EffectScope } from 'vue'
import { loopbackForTests, notFound, type Answer, type Seen } from '../api/loopback'
import { useShift } from './useShift'

// useShift against a real HTTP server standing in for the console backend.
const backend = loopbackForTests('s3cret')
let scope: EffectScope
beforeEach(() => (scope = effectScope()))
afterEach(() => scope.stop())

const day = { id: 'day-2026-12-02', name: { 'zh-CN': '白班', en: 'Day shift' }, start: '2026-12-02T00:00:00Z', end: '2026-12-02T12:00:00Z' }
const night = { id: 'night-2026-12-02', name: { 'zh-CN': '夜班', en: 'Night shift' }, start: '2026-12-02T12:00:00Z', end: '2026-12-03T00:00:00Z' }
const duty = (user: string) => ({ user, role: 'duty', since: '2026-12-02T12:05:00Z', by: 'sign_in' })
const shiftNow = (you: string, ...others: string[]) => ({
  now: '2026-12-02T12:05:00Z',
  shift: night,
  next: day,
  left_seconds: 3 * 3600 + 12 * 60 + 30,
  on_duty: [you, ...others].map(duty),
  you: duty(you),
})
const handover = (id: string, by: string, receipts: { by: string; at: string }[] = []) => ({
  id,
  shift: day,
  by,
  at: '2026-12-02T11:55:00Z',
  duty_since: '2026-12-02T00:01:00Z',
  note: `note of ${by}`,
  checklist: [],
  receipts,
})
const view = (received: boolean, ...handovers: ReturnType<typeof handover>[]) => ({
  now: '2026-12-02T12:05:00Z',
  shift: day,
  handovers,
  flagged: [],
  awaiting_recheck: [],
  overdue: [],
  cameras: [],
  underwatched: [],
  received,
})
const draft = {
  shift: night,
  checklist: ['flagged_open', 'awaiting_recheck', 'overdue', 'cameras_down', 'underwatched'].map((key, i) => ({ key, count: i, refs: [], checked: false })),
}

function memoryStorage() {
  const m = new Map<string, string>()
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m }
}

function routes(r: Record<string, (s: Seen) => Answer>) {
  backend.route = (s) => (r[`${s.method} ${s.url}`] ?? (() => notFound))(s)
}

describe('useShift', () => {
  it('shows the shift, who else is on duty and the time left, counted down by its own clock', async () => {
    let t = 1_000_000
    routes({ 'GET /api/v1/shift': () => ({ status: 200, body: shiftNow('li', 'wang') }), 'GET /api/v1/handover/current': () => ({ status: 200, body: view(true) }) })
    const s = scope.run(() => useShift(backend.client(), { user: 'li', now: () => t, storage: memoryStorage(), tickMs: 10, refreshMs: 3600_000 }))!
    await s.start()
    expect(s.shift.value?.shift.name.en).toBe('Night shift')
    expect(s.colleagues.value).toEqual(['wang'])
    expect(s.leftSeconds.value).toBe(11550)
    expect(s.screenOpen.value).toBe(false)
    t += 61_000
    await vi.waitFor(() => expect(s.leftSeconds.value).toBe(11550 - 61))
    s.stop()
    await s.loadShift() // answered the same: the count restarts from the relay's
    expect(s.leftSeconds.value).toBe(11550)
  })

  it('opens the handover screen for another officer\'s unconfirmed handover and records receipt of each', async () => {
    routes({
      'GET /api/v1/shift': () => ({ status: 200, body: shiftNow('wang') }),
      'GET /api/v1/handover/current': () => ({ status: 200, body: view(false, handover('h-1', 'li'), handover('h-2', 'zhao')) }),
      'POST /api/v1/handover/h-1/receipt': () => ({ status: 200, body: handover('h-1', 'li', [{ by: 'wang', at: '2026-12-02T12:06:00Z' }]) }),
      'POST /api/v1/handover/h-2/receipt': () => ({ status: 200, body: handover('h-2', 'zhao', [{ by: 'wang', at: '2026-12-02T12:06:00Z' }]) }),
    })
    const s = scope.run(() => useShift(backend.client(), { user: 'wang', storage: memoryStorage() }))!
    await s.start()
    s.stop()
    expect(s.screenOpen.value).toBe(true)
    expect(s.pending.value.map((h) => h.id)).toEqual(['h-1', 'h-2'])

    s.later()
    expect(s.screenOpen.value).toBe(false)
    expect(s.deferred.value).toBe(true)
    await s.loadHandover()
    expect(s.screenOpen.value).toBe(false) // put off: the banner, not the screen again

    backend.route = ((prev) => (x: Seen) => (x.url === '/api/v1/handover/current' && backend.seen.some((y) => y.url.endsWith('/receipt')) ? { status: 200, body: view(true) } : prev(x)))(backend.route)
    expect(await s.confirm()).toBe(true)
    expect(backend.seen.filter((x) => x.method === 'POST').map((x) => x.url)).toEqual(['/api/v1/handover/h-1/receipt', '/api/v1/handover/h-2/receipt'])
    expect(s.screenOpen.value).toBe(false)
    expect(s.deferred.value).toBe(false)
  })

  it('does not show an officer their own handover, nor one of a shift before the last', async () => {
    const old = { ...view(false, handover('h-0', 'zhao')), shift: { ...day, start: '2026-12-01T00:00:00Z', end: '2026-12-01T12:00:00Z' } }
    for (const [user, v] of [['li', view(false, handover('h-1', 'li'))], ['wang', old]] as const) {
      routes({ 'GET /api/v1/shift': () => ({ status: 200, body: shiftNow(user) }), 'GET /api/v1/handover/current': () => ({ status: 200, body: v }) })
      const s = scope.run(() => useShift(backend.client(), { user, storage: memoryStorage() }))!
      await s.start()
      s.stop()
      expect(s.screenOpen.value, user).toBe(false)
    }
  })

  it('keeps the note and its id when the relay cannot be reached, and hands over once with the same id after', async () => {
    let relayUp = false
    const bodies: { id: string; note: string; checklist: { key: string; checked: boolean }[] }[] = []
    routes({
      'GET /api/v1/shift': () => ({ status: 200, body: shiftNow('li') }),
      'GET /api/v1/handover/draft': () => ({ status: 200, body: draft }),
      'POST /api/v1/handover': (x) => {
        bodies.push(JSON.parse(x.body))
        return relayUp
          ? { status: 201, body: handover(bodies.at(-1)!.id, 'li') }
          : { status: 503, body: { error: { code: 'relay_unreachable', message: 'the relay cannot be reached now' } } }
      },
    })
    const storage = memoryStorage()
    const s = scope.run(() => useShift(backend.client(), { user: 'li', storage }))!
    await s.openDialog()
    expect(s.draft.value?.checklist).toHaveLength(5)
    s.note.value = '二号脱卸间摄像头离线'
    s.toggle(s.draft.value!.checklist[3]!)
    expect(await s.submit()).toBe(false)
    expect(s.sendError.value?.code).toBe('relay_unreachable')
    expect(s.dialogOpen.value).toBe(true)
    expect(s.note.value).toBe('二号脱卸间摄像头离线')

    // The view reloaded meanwhile: a new composable finds the note and id.
    scope.stop()
    scope = effectScope()
    const again = scope.run(() => useShift(backend.client(), { user: 'li', storage }))!
    await again.openDialog()
    expect(again.note.value).toBe('二号脱卸间摄像头离线')
    relayUp = true
    expect(await again.submit()).toBe(true)
    expect(again.dialogOpen.value).toBe(false)
    expect(bodies).toHaveLength(2)
    expect(bodies[1]).toEqual(bodies[0])
    expect(bodies[1]!.checklist.find((c) => c.key === 'cameras_down')?.checked).toBe(true)
    expect(storage.m.size).toBe(0)
  })
})
