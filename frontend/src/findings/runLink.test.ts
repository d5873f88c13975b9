import { afterEach, describe, expect, it, vi } from 'vitest'
import { loopbackForTests, type Seen } from '../api/loopback'
import type { Finding, FlagRequest } from '../api'
import { doffing, doffingWire } from './fixtures'
import { ChecklistRun, openRuns } from './run'
import { fileOnOpenRun } from './runLink'

// The quick flag's finding joins the check going on on its camera, against
// a real HTTP server standing in for the backend.
const backend = loopbackForTests('s3cret')

const record = (id: string, camera: string, more: object = {}) => ({ id, camera, template: doffingWire, observations: [], officer: 'duty1', started_at: '2026-12-02T01:00:00Z', findings: [], ...more })

function answer(going: object[], linkStatus = 200) {
  return (s: Seen) => {
    if (s.url === '/api/v1/runs?open=1') return { status: 200, body: { runs: going } }
    const m = /^\/api\/v1\/runs\/([^/]+)\/findings$/.exec(s.url)
    if (m && s.method === 'POST') {
      if (linkStatus !== 200) return { status: linkStatus, body: { error: { code: 'internal', message: 'the store failed' } } }
      const { finding_id } = JSON.parse(s.body) as { finding_id: string }
      return { status: 200, body: record(m[1] ?? '', 's/cam', { findings: ['f-0', finding_id] }) }
    }
    return { status: 404, body: '' }
  }
}

const links = () => backend.seen.filter((s) => s.method === 'POST' && s.url.endsWith('/findings')).map((s) => `${s.url} ${s.body}`)
const req = (camera: string) => ({ camera }) as FlagRequest

afterEach(() => openRuns.byKey.clear())

describe('fileOnOpenRun', () => {
  const cases: { name: string; page?: { camera: string; ended?: boolean }; going: object[]; camera: string; want: string[] }[] = [
    { name: "this page's run on the camera", page: { camera: 's/cam' }, going: [], camera: 's/cam', want: ['/api/v1/runs/run-page/findings {"finding_id":"f-1"}'] },
    { name: "the backend's open run after a reload", going: [record('run-a', 's/other'), record('run-b', 's/cam')], camera: 's/cam', want: ['/api/v1/runs/run-b/findings {"finding_id":"f-1"}'] },
    { name: "an ended page run is not the camera's: the backend's is", page: { camera: 's/cam', ended: true }, going: [record('run-b', 's/cam')], camera: 's/cam', want: ['/api/v1/runs/run-b/findings {"finding_id":"f-1"}'] },
    { name: 'no check on the camera: nothing linked', page: { camera: 's/other' }, going: [record('run-a', 's/other'), record('run-c', 's/cam', { ended_at: '2026-12-02T02:00:00Z' })], camera: 's/cam', want: [] },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const api = backend.client()
      backend.route = answer(c.going)
      let pageRun: ChecklistRun | undefined
      if (c.page) {
        pageRun = new ChecklistRun('run-page', doffing)
        if (c.page.ended) pageRun.endedAt = new Date()
        openRuns.byKey.set(`${c.page.camera}|${doffing.id}`, pageRun)
      }
      const failed = vi.fn()
      const file = fileOnOpenRun(api, () => Promise.resolve({ id: 'f-1' } as Finding), failed)
      expect((await file(req(c.camera))).id).toBe('f-1')
      // The link follows the filing; with nothing to link the backend's list is all it asks.
      await vi.waitFor(() => expect(backend.seen.length).toBeGreaterThan(0))
      if (c.want.length) await vi.waitFor(() => expect(links()).toEqual(c.want))
      else await vi.waitFor(() => expect(backend.seen.map((s) => s.url)).toContain('/api/v1/runs?open=1'))
      expect(links()).toEqual(c.want)
      expect(failed).not.toHaveBeenCalled()
      if (c.page && !c.page.ended && c.page.camera === c.camera) await vi.waitFor(() => expect(pageRun!.findings).toEqual(['f-0', 'f-1']))
    })
  }

  it('a failed link leaves the finding filed and says so', async () => {
    const api = backend.client()
    backend.route = answer([record('run-b', 's/cam')], 500)
    const failed = vi.fn()
    const file = fileOnOpenRun(api, () => Promise.resolve({ id: 'f-1' } as Finding), failed)
    expect((await file(req('s/cam'))).id).toBe('f-1')
    await vi.waitFor(() => expect(failed).toHaveBeenCalledOnce())
  })
})
