import { describe, expect, it } from 'vitest'
import { ApiError } from './client'
import { loopbackForTests } from './loopback'

// The run calls of issue 11.2 against a real HTTP server answering the
// shapes docs/PROTOCOLS.md records for the console backend.
const backend = loopbackForTests('s3cret')
const client = backend.client

const template = {
  id: 'ppe-doffing',
  version: 1,
  title: { 'zh-CN': '防护用具脱卸', en: 'PPE doffing' },
  activity: 'ppe_doffing',
  zones: ['doffing_room_1'],
  steps: [
    { id: 'hh-gloves', text: { 'zh-CN': '手卫生', en: 'Hand hygiene' }, min_duration_s: 15 },
    { id: 'goggles', text: { 'zh-CN': '摘护目镜', en: 'Goggles' } },
  ],
  deviations: [],
}

const run = {
  id: 'run-7',
  camera: 'site-01/doff1',
  template,
  observations: [
    { step: 'hh-gloves', mark: 'done', at: '2026-12-02T01:05:00Z', duration_s: 18.2 },
    { step: 'goggles', mark: 'deviation', deviation_text: '护目镜掉地', at: '2026-12-02T01:06:00Z' },
  ],
  officer: 'duty1',
  started_at: '2026-12-02T01:00:00Z',
  findings: ['f-3'],
}

describe('runs as records', () => {
  it('lists the runs going on, with their marks, words and findings', async () => {
    backend.route = () => ({ status: 200, body: { runs: [run] } })
    const [r] = await client().openRuns()
    expect(backend.seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/runs?open=1' })
    expect(r).toMatchObject({ id: 'run-7', camera: 'site-01/doff1', officer: 'duty1', startedAt: new Date('2026-12-02T01:00:00Z'), findings: ['f-3'] })
    expect(r!.endedAt).toBeUndefined()
    expect(r!.observations).toEqual([
      { step: 'hh-gloves', mark: 'done', at: new Date('2026-12-02T01:05:00Z'), durationS: 18.2 },
      { step: 'goggles', mark: 'deviation', deviationText: '护目镜掉地', at: new Date('2026-12-02T01:06:00Z') },
    ])
  })

  it('ends a run, reads one, and links a finding to it', async () => {
    backend.route = (s) => ({ status: 200, body: { ...run, ended_at: s.url.endsWith('/end') ? '2026-12-02T01:30:00Z' : undefined, findings: s.url.endsWith('/findings') ? ['f-3', 'f-4'] : ['f-3'] } })
    expect((await client().endRun('run-7')).endedAt).toEqual(new Date('2026-12-02T01:30:00Z'))
    expect(backend.seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/runs/run-7/end' })
    expect((await client().run('run-7')).id).toBe('run-7')
    expect(backend.seen[1]).toMatchObject({ method: 'GET', url: '/api/v1/runs/run-7' })
    expect((await client().linkRunFinding('run-7', 'f-4')).findings).toEqual(['f-3', 'f-4'])
    expect(backend.seen[2]).toMatchObject({ method: 'POST', url: '/api/v1/runs/run-7/findings' })
    expect(JSON.parse(backend.seen[2]!.body)).toEqual({ finding_id: 'f-4' })
  })

  it('sends a deviation in the officer\'s words as deviation_text on the mark', async () => {
    backend.route = () => ({ status: 200, body: { observations: [run.observations[1]], flags: [] } })
    const u = await client().mark('run-7', 'goggles', 'deviation', '', '护目镜掉地')
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ step: 'goggles', mark: 'deviation', deviation_text: '护目镜掉地' })
    expect(u.observations[0]!.deviationText).toBe('护目镜掉地')
  })

  it.each([
    { name: 'no runs list', body: { items: [] }, want: /"runs" is not a list/ },
    { name: 'findings not a list', body: { runs: [{ ...run, findings: 'f-3' }] }, want: /"findings" is not a list/ },
    { name: 'run without camera', body: { runs: [{ ...run, camera: undefined }] }, want: /camera/ },
  ])('refuses an answer that breaks the contract: $name', async ({ body, want }) => {
    backend.route = () => ({ status: 200, body })
    const err = await client().openRuns().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).message).toMatch(want)
  })

  it('says 409 run_ended in the backend\'s words', async () => {
    backend.route = () => ({ status: 409, body: { error: { code: 'run_ended', message: 'the run has ended' } } })
    const err = await client().linkRunFinding('run-7', 'f-5').catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 409, code: 'run_ended' })
  })
})
