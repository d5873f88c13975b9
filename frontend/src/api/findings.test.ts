import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { ApiClient, ApiError } from './client'
import { forwardMessage, parseFinding } from './findings'
import { loopbackForTests } from './loopback'
import { messages } from '../i18n/messages'

// A real HTTP server standing in for the console backend's checklist and
// findings API (docs/PROTOCOLS.md, round 3).
const secret = 's3cret'

const backend = loopbackForTests(secret)
const client = backend.client

const template = {
  id: 'ppe-doffing',
  version: 1,
  title: { 'zh-CN': '防护用具脱卸', en: 'PPE doffing' },
  activity: 'ppe_doffing',
  zones: ['doffing_room_1'],
  steps: [
    { id: 'hh-gloves', text: { 'zh-CN': '手卫生', en: 'Hand hygiene' }, min_duration_s: 15, short_deviation: 'short_hand_rub', order_deviation: 'missed_hand_hygiene', before: ['goggles'] },
    { id: 'goggles', text: { 'zh-CN': '摘护目镜', en: 'Goggles' } },
  ],
  deviations: [{ id: 'missed_hand_hygiene', text: { 'zh-CN': '漏做手卫生', en: 'Missed hand hygiene' }, severity: 'major', deadline_s: 172800 }],
  source: 'embedded',
}

const finding = {
  id: 'f1',
  site: 'site-01',
  camera: 'doff1',
  zone: 'doffing_room_1',
  template_id: 'ppe-doffing',
  template_version: 1,
  step: 'goggles',
  deviation: 'missed_hand_hygiene',
  deviation_text: '漏做手卫生',
  severity: 'major',
  note: '',
  observer: 'duty',
  observed_at: '2026-11-24T19:00:00Z',
  flagged_at: '2026-11-24T19:00:01Z',
  deadline: '2026-11-26T19:00:01Z',
  status: 'open',
  revision: 1,
  updated_at: '2026-11-24T19:00:01Z',
  snapshot: { kind: 'snapshot', state: 'complete', file: 'abc.jpg', bytes: 100, width: 640, height: 360, duration_ms: 0 },
  clip: { kind: 'clip', state: 'recording', bytes: 0, duration_ms: 0 },
  forward: { state: 'local' },
}

describe('checklists and runs', () => {
  it('reads the zone templates with step deviations and durations in seconds', async () => {
    backend.route = () => ({ status: 200, body: { templates: [template], problems: [] } })
    const [t] = await client().checklists('doffing_room_1')
    expect(backend.seen[0]!.url).toBe('/api/v1/checklists?zone=doffing_room_1')
    expect(t!.steps[0]).toEqual({ id: 'hh-gloves', text: template.steps[0]!.text, minDurationS: 15, deviations: ['missed_hand_hygiene', 'short_hand_rub'] })
    expect(t!.deviations[0]).toMatchObject({ id: 'missed_hand_hygiene', severity: 'major', deadlineS: 172800 })
  })

  it('starts a run, marks a step and reads the flags', async () => {
    backend.route = (s) =>
      s.url === '/api/v1/runs'
        ? { status: 201, body: { id: 'run-1', camera: 'site-01/doff1', template, observations: [] } }
        : { status: 200, body: { observations: [{ step: 'goggles', mark: 'done', at: '2026-11-24T19:00:00Z' }], flags: [{ step: 'goggles', deviation: 'missed_hand_hygiene', reason: { 'zh-CN': '顺序', en: 'order' } }] } }
    const run = await client().startRun('ppe-doffing', 'site-01/doff1')
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ template_id: 'ppe-doffing', template_version: 0, camera: 'site-01/doff1' })
    const u = await client().mark(run.id, 'goggles', 'done')
    expect(backend.seen[1]).toMatchObject({ method: 'POST', url: '/api/v1/runs/run-1/marks' })
    expect(JSON.parse(backend.seen[1]!.body)).toEqual({ step: 'goggles', mark: 'done' })
    expect(u.flags).toEqual([{ step: 'goggles', deviation: 'missed_hand_hygiene', reason: { 'zh-CN': '顺序', en: 'order' } }])
    expect(u.observations[0]!.at).toEqual(new Date('2026-11-24T19:00:00Z'))
  })

  it('refuses a run answer that breaks the contract', async () => {
    backend.route = () => ({ status: 200, body: { observations: 'none', flags: [] } })
    const err = await client().mark('run-1', 'goggles', 'done').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).message).toMatch(/"observations" is not a list/)
  })
})

describe('findings', () => {
  it('flags with the snapshot, PTS and deadline as the contract spells them', async () => {
    backend.route = () => ({ status: 201, body: finding })
    const f = await client().flag({
      camera: 'site-01/doff1',
      stream: 'main',
      ptsUs: 123456789,
      templateId: 'ppe-doffing',
      templateVersion: 1,
      step: 'goggles',
      deviation: 'missed_hand_hygiene',
      deviationText: '漏做手卫生',
      severity: 'major',
      note: '',
      deadline: new Date('2026-11-26T19:00:00Z'),
      snapshot: 'AAAA',
      snapshotWidth: 640,
      snapshotHeight: 360,
    })
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({
      camera: 'site-01/doff1',
      stream: 'main',
      pts_us: 123456789,
      template_id: 'ppe-doffing',
      template_version: 1,
      step: 'goggles',
      deviation: 'missed_hand_hygiene',
      deviation_text: '漏做手卫生',
      severity: 'major',
      deadline: '2026-11-26T19:00:00.000Z',
      snapshot: 'AAAA',
      snapshot_width: 640,
      snapshot_height: 360,
    })
    // The view keys cameras SITE/CAMERA everywhere.
    expect(f).toMatchObject({ id: 'f1', camera: 'site-01/doff1', clip: { state: 'recording' }, snapshot: { file: 'abc.jpg', width: 640 }, forward: { state: 'local' } })
  })

  it('says 409 forwarded in the backend words', async () => {
    backend.route = () => ({ status: 409, body: { error: { code: 'forwarded', message: 'the site has this finding already' } } })
    const err = await client().editFinding('f1', { note: 'x' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 409, code: 'forwarded', detail: 'the site has this finding already' })
    expect(backend.seen[0]).toMatchObject({ method: 'PATCH', url: '/api/v1/findings/f1' })
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ note: 'x' })
  })

  it('withdraws with a reason and lists since a time', async () => {
    backend.route = (s) => (s.method === 'POST' ? { status: 200, body: { ...finding, status: 'withdrawn', status_note: 'twice' } } : { status: 200, body: { findings: [finding] } })
    expect(await client().withdrawFinding('f1', 'twice')).toMatchObject({ status: 'withdrawn', statusNote: 'twice' })
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ reason: 'twice' })
    const list = await client().findings(new Date('2026-11-24T07:00:00Z'))
    expect(backend.seen[1]!.url).toBe('/api/v1/findings?since=2026-11-24T07%3A00%3A00.000Z')
    expect(list.map((f) => f.id)).toEqual(['f1'])
  })

  it('lists the re-check queue and the overdue ones by filter', async () => {
    backend.route = () => ({ status: 200, body: { findings: [{ ...finding, status: 'rectified', status_note: 'fixed' }] } })
    const list = await client().findings({ statuses: ['rectified'] })
    await client().findings({ overdue: true })
    await client().findings({ statuses: ['rectified', 'reopened'], overdue: false, since: new Date('2026-11-24T07:00:00Z') })
    expect(backend.seen.map((x) => x.url)).toEqual([
      '/api/v1/findings?status=rectified',
      '/api/v1/findings?overdue=1',
      '/api/v1/findings?since=2026-11-24T07%3A00%3A00.000Z&status=rectified%2Creopened&overdue=0',
    ])
    expect(list[0]).toMatchObject({ status: 'rectified', statusNote: 'fixed', updatedAt: new Date('2026-11-24T19:00:01Z') })
  })

  it('verifies, reopens with a deadline and retries as the contract spells them', async () => {
    backend.route = (s) =>
      s.url.endsWith('/verify')
        ? { status: 200, body: { ...finding, status: 'verified' } }
        : s.url.endsWith('/reopen')
          ? { status: 200, body: { ...finding, status: 'reopened', deadline: '2026-11-28T19:00:00Z' } }
          : { status: 200, body: { ...finding, forward: { state: 'failing', error: 'relay unreachable (retrying)', retrying: true } } }
    expect(await client().verifyFinding('f1', 'backend.seen fixed')).toMatchObject({ status: 'verified' })
    const r = await client().reopenFinding('f1', 'still wrong', new Date('2026-11-28T19:00:00Z'))
    expect(r).toMatchObject({ status: 'reopened', deadline: new Date('2026-11-28T19:00:00Z') })
    expect(await client().retryFinding('f1')).toMatchObject({ forward: { state: 'failing', retrying: true } })
    expect(backend.seen.map((x) => `${x.method} ${x.url} ${x.body}`)).toEqual([
      'POST /api/v1/findings/f1/verify {"note":"backend.seen fixed"}',
      'POST /api/v1/findings/f1/reopen {"note":"still wrong","deadline":"2026-11-28T19:00:00.000Z"}',
      'POST /api/v1/findings/f1/retry {}',
    ])
  })

  it('sends the frame re-checked on with a verify or reopen, and reads the shared record back (issue 11)', async () => {
    const shared = {
      ...finding,
      origin: 'relay',
      observer: 'li',
      photos: [{ name: 'photo-1', file: 'aa.png', added_at: '2026-11-28T10:00:00Z' }],
      rechecks: [{ file: 'bb.jpg', actor: 'wang', action: 'verify', at: '2026-11-28T11:00:00Z', clip: { kind: 'recheck_clip', state: 'complete', file: 'cc.mp4', duration_ms: 3000 } }],
      events: [{ at: '2026-11-28T10:00:00Z', actor: 'mgr1', action: 'rectify', detail: { note: '已整改' } }],
    }
    backend.route = (s) => (s.url.startsWith('/api/v1/findings?') ? { status: 200, body: { findings: [shared], relay: { relay: 'http://r', as_of: '2026-11-28T11:05:00Z', reachable: false } } } : { status: 200, body: shared })
    const shot = { jpegBase64: '/9j/AA==', width: 320, height: 180 }
    const f = await client().verifyFinding('f1', 'ok', shot)
    await client().reopenFinding('f1', 'no', new Date('2026-11-28T19:00:00Z'), shot)
    // The frame's camera, stream and PTS go along: the backend records the clip around it.
    await client().verifyFinding('f1', 'ok', { ...shot, camera: 'site-01/doff1', stream: 'main', ptsUs: 1_500_000 })
    expect(backend.seen.map((x) => x.body)).toEqual([
      '{"note":"ok","snapshot":"/9j/AA==","snapshot_width":320,"snapshot_height":180}',
      '{"note":"no","deadline":"2026-11-28T19:00:00.000Z","snapshot":"/9j/AA==","snapshot_width":320,"snapshot_height":180}',
      '{"note":"ok","snapshot":"/9j/AA==","snapshot_width":320,"snapshot_height":180,"camera":"site-01/doff1","stream":"main","pts_us":1500000}',
    ])
    expect(f).toMatchObject({
      origin: 'relay',
      observer: 'li',
      photos: [{ name: 'photo-1', file: 'aa.png' }],
      rechecks: [{ file: 'bb.jpg', actor: 'wang', action: 'verify', clip: { state: 'complete', file: 'cc.mp4', durationMs: 3000 } }],
    })
    expect(f.events).toEqual([{ at: new Date('2026-11-28T10:00:00Z'), actor: 'mgr1', action: 'rectify', note: '已整改' }])
    const page = await client().findingsPage({ since: new Date('2026-11-27T00:00:00Z') })
    expect(page.findings).toHaveLength(1)
    expect(page.freshness).toEqual({ relay: 'http://r', asOf: new Date('2026-11-28T11:05:00Z'), reachable: false })
  })

  it('says 409 nothing_failing and bad_transition in the backend words', async () => {
    backend.route = (s) =>
      s.url.endsWith('/retry')
        ? { status: 409, body: { error: { code: 'nothing_failing', message: 'no change of f1 was refused' } } }
        : { status: 409, body: { error: { code: 'bad_transition', message: 'the finding is open' } } }
    expect(await client().retryFinding('f1').catch((e: unknown) => e)).toMatchObject({ status: 409, code: 'nothing_failing' })
    expect(await client().verifyFinding('f1', 'x').catch((e: unknown) => e)).toMatchObject({ status: 409, code: 'bad_transition', detail: 'the finding is open' })
  })

  it('puts the secret in evidence URLs, which <img> and <video> cannot send as a header', () => {
    expect(client().evidenceURL('abc.jpg')).toBe(`${backend.base}/api/v1/evidence/abc.jpg?token=${secret}`)
    expect(new ApiClient({}).evidenceURL('a b.mp4')).toBe('/api/v1/evidence/a%20b.mp4')
  })
})

describe('a finding waiting for its own relay', () => {
  const waiting = { ...finding, forward: { state: 'local', waiting_for: 'https://relay-a.example:8443' } }

  it('reads waiting_for', () => {
    expect(parseFinding(waiting, 'finding').forward).toEqual({ state: 'local', waitingFor: 'https://relay-a.example:8443' })
    expect(parseFinding(finding, 'finding').forward).toEqual({ state: 'local' })
  })

  it.each([
    ['zh-CN', '等待转发至 https://relay-a.example:8443', '本地', '尚未发送到现场'],
    ['en', 'Waits for https://relay-a.example:8443', 'Local', 'Not yet sent to the site'],
  ] as const)('says which relay in %s, in the list badge and the detail', (locale, waits, localBadge, localLine) => {
    const i18n = createI18n({ legacy: false, locale, messages })
    const text = (group: 'forward' | 'forwardBadge', f: unknown) => {
      const m = forwardMessage(parseFinding(f, 'finding').forward)!
      return i18n.global.t(`findings.${group}.${m.key}`, m.params)
    }
    expect(text('forwardBadge', waiting)).toBe(waits)
    expect(text('forward', waiting)).toBe(waits)
    // Not waiting for another relay: as before.
    expect(text('forwardBadge', finding)).toBe(localBadge)
    expect(text('forward', finding)).toBe(localLine)
    const refused = { ...finding, forward: { state: 'failing', error: 'unknown site' } }
    expect(text('forward', refused)).toContain('unknown site')
  })
})
