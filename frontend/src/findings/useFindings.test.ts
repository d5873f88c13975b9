import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, ref, type EffectScope } from 'vue'
import type { FlagRequest } from '../api'
import { loopbackForTests, type Answer, type Seen } from '../api/loopback'
import { i18n } from '../i18n'
import type { LiveStatus } from '../sites/useCameras'
import { findingWire } from './fixtures'
import { useFindings } from './useFindings'

// useFindings against a real HTTP server standing in for the backend.
const backend = loopbackForTests('s3cret')
i18n.global.locale.value = 'en'
let scope: EffectScope
let said: string[]
beforeEach(() => {
  said = []
  scope = effectScope()
})
afterEach(() => scope.stop())

const live = ref<LiveStatus>('open')
function findings(pollMs?: number) {
  const api = backend.client()
  return scope.run(() => useFindings(api, { timeZone: ref('Asia/Shanghai'), live, say: (s) => said.push(s), pollMs }))!
}

const list = (...fs: Record<string, unknown>[]): Answer => ({ status: 200, body: { findings: fs } })
const query = (s: Seen) => new URL(s.url, 'http://x').searchParams

/** The three lists the panel reads, by the query that asks for each. */
function lists(recent: Answer, queue: Answer, overdue: Answer) {
  return (s: Seen): Answer => {
    const q = query(s)
    if (q.get('status') === 'rectified') return queue
    if (q.get('overdue') === '1') return overdue
    return recent
  }
}

describe('useFindings', () => {
  it('reads the last hours, the re-check queue and the overdue ones, each finding once', async () => {
    backend.route = lists(
      list(findingWire({ id: 'a' }), findingWire({ id: 'b', status: 'acknowledged' })),
      list(findingWire({ id: 'b', status: 'rectified', updated_at: '2026-11-24T20:00:00Z' }), findingWire({ id: 'old', status: 'rectified' })),
      list(findingWire({ id: 'late', flagged_at: '2026-11-24T10:00:00Z', deadline: '2026-11-20T00:00:00Z' })),
    )
    const f = findings()
    await f.load()
    // The queue first; then by shift, newest first. Of two copies, the last
    // hours' wins: b is no longer rectified, so not in the queue.
    expect(f.shown.value.map((x) => `${x.id}:${x.status}`)).toEqual(['old:rectified', 'b:acknowledged', 'a:open', 'late:open'])
    expect(f.error.value).toBe('')
    expect(f.loading.value).toBe(false)
  })

  it('keeps how current the relay’s findings are, for the panel to mark the last known list (issue 11)', async () => {
    const recent: Answer = { status: 200, body: { findings: [findingWire({ id: 'a', origin: 'relay' })], relay: { relay: 'http://r', as_of: '2026-11-24T20:00:00Z', reachable: false } } }
    backend.route = lists(recent, list(), list())
    const f = findings()
    await f.load()
    expect(f.freshness.value).toEqual({ relay: 'http://r', asOf: new Date('2026-11-24T20:00:00Z'), reachable: false })
    expect(f.list.value[0]?.origin).toBe('relay')
    // The relay's feed back: an event with no ids reads the lists whole.
    backend.route = lists(list(findingWire({ id: 'a', origin: 'relay' })), list(), list())
    await f.changed([])
    expect(f.freshness.value).toBeUndefined()
  })

  it('still lists the last hours from a backend without the status and overdue filters', async () => {
    backend.route = lists(list(findingWire({ id: 'a' })), { status: 400, body: { error: { code: 'bad_query', message: 'status?' } } }, { status: 400, body: '' })
    const f = findings()
    await f.load()
    expect(f.list.value.map((x) => x.id)).toEqual(['a'])
    expect(f.error.value).toBe('')
  })

  it('says nothing for a backend without findings, and the backend’s words for a failure', async () => {
    const f = findings()
    await f.load()
    expect(f.error.value).toBe('')
    backend.route = () => ({ status: 500, body: { error: { code: 'internal', message: 'disk full' } } })
    await f.load()
    expect(f.error.value).toBe('That did not work: disk full')
  })

  it('keeps the newer list when an older, slower answer comes last', async () => {
    let release: (a: Answer) => void = () => {}
    const slow = new Promise<Answer>((resolve) => (release = resolve))
    backend.route = (s) => (query(s).has('since') && backend.seen.length <= 3 ? slow : list(findingWire({ id: 'new' })))
    const f = findings()
    const first = f.load()
    await vi.waitFor(() => expect(backend.seen.length).toBe(3), { timeout: 60_000 })
    await f.load()
    release(list(findingWire({ id: 'old' })))
    await first
    expect(f.list.value.map((x) => x.id)).toEqual(['new'])
  })

  it('reads again the findings an event names, and upserts them', async () => {
    backend.route = lists(list(findingWire({ id: 'a' })), list(), list())
    const f = findings()
    await f.load()
    backend.route = (s) => (s.url === '/api/v1/findings/a' ? { status: 200, body: findingWire({ id: 'a', status: 'rectified' }) } : { status: 200, body: findingWire({ id: 'z' }) })
    await f.changed(['a', 'z'])
    expect(f.list.value.map((x) => `${x.id}:${x.status}`).sort()).toEqual(['a:rectified', 'z:open'])
  })

  it('files a finding only when the backend has it, and says why it did not', async () => {
    const f = findings()
    const request: FlagRequest = { camera: 'site-01/doff1', stream: 'main', deviationText: 'x', severity: 'major', note: '', deadline: new Date('2030-01-01T00:00:00Z') }
    backend.route = () => ({ status: 409, body: { error: { code: 'camera_not_pulled', message: 'not pulled' } } })
    await expect(f.file(request)).rejects.toThrow(i18n.global.t('flag.notPulled'))
    expect(f.list.value).toEqual([])
    backend.route = () => ({ status: 201, body: findingWire({ id: 'new', deviation_text: 'Gloves torn' }) })
    expect((await f.file(request)).id).toBe('new')
    expect(f.list.value.map((x) => x.id)).toEqual(['new'])
    expect(said).toEqual([i18n.global.t('flag.saved', { text: 'Gloves torn' })])
  })

  it('reads again while a clip is still recording', async () => {
    let reads = 0
    backend.route = (s) => {
      if (query(s).has('since')) reads++
      return lists(list(findingWire({ id: 'a', clip: { kind: 'clip', state: reads > 1 ? 'complete' : 'recording' } })), list(), list())(s)
    }
    const f = findings(20)
    f.start()
    await vi.waitFor(() => expect(f.list.value[0]?.clip?.state).toBe('complete'), { timeout: 60_000 })
  })

  it('opens one finding, for withdrawal or not', async () => {
    backend.route = lists(list(findingWire({ id: 'a' })), list(), list())
    const f = findings()
    await f.load()
    f.show('a', true)
    expect(f.detail.value?.id).toBe('a')
    expect(f.withdrawing.value).toBe(true)
    f.show('gone')
    expect(f.detail.value).toBeUndefined()
  })
})
