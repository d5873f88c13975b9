import { describe, expect, it } from 'vitest'
import { outcomeJSON, parseFacets, parseReviewDetail, parseReviewPage } from './review'

// A review item as relay/api writes it (relay/wire/review.go).
const item = {
  id: 'f-1',
  site: 'site-07',
  camera: 'doff1',
  zone: 'doffing_room_1',
  template_id: 'doffing',
  template_version: 1,
  step: 'hand_hygiene_1',
  deviation: 'skipped_hand_hygiene',
  deviation_text: '',
  deviation_title: { 'zh-CN': '未做手卫生', en: 'Hand hygiene skipped' },
  severity: 'major',
  note: '第二步后未洗手',
  observer: 'duty1',
  observed_at: '2026-11-30T02:10:00Z',
  flagged_at: '2026-11-30T02:10:05Z',
  deadline: '2026-12-01T02:10:00Z',
  status: 'rectified',
  overdue: true,
  created_at: '2026-11-30T02:10:06Z',
  updated_at: '2026-11-30T09:00:00Z',
  evidence: {
    snapshot: { name: 'snapshot', sha256: 'aa', bytes: 10, content_type: 'image/jpeg', url: '/api/v1/evidence/f-1/snapshot', added_at: '2026-11-30T02:10:06Z' },
    clip: { name: 'clip', sha256: 'bb', bytes: 10, content_type: 'video/mp4', url: '/api/v1/evidence/f-1/clip', added_at: '2026-11-30T02:10:20Z' },
    photos: [{ name: 'photo-1', sha256: 'cc', bytes: 10, content_type: 'image/jpeg', url: '', added_at: '2026-11-30T09:00:00Z' }],
    rechecks: [{ name: 'recheck-42', sha256: 'dd', bytes: 10, content_type: 'image/jpeg', url: '', added_at: '2026-11-30T10:00:00Z' }],
    recheck_clips: [{ name: 'recheck_clip-42', sha256: 'ee', bytes: 10, content_type: 'video/mp4', url: '', added_at: '2026-11-30T10:00:05Z' }],
  },
  site_name: { 'zh-CN': '七号隔离点', en: 'Site 7' },
  district: { 'zh-CN': '浦东新区', en: 'Pudong' },
  site_type: 'hotel',
  review: { reviewed: true, reviewed_by: 'sup', reviewed_at: '2026-11-30T11:00:00Z', comments: 1 },
  outcomes: [{ kind: 'rectify_order', doc_number: '沪卫监〔2026〕12号', note: '', by: 'sup', at: '2026-11-30T11:05:00Z' }],
  repeat: true,
  run_id: 'run-9',
}

describe('the review API in the view', () => {
  it('reads a page: the finding as the console shows one, its evidence by the relay’s names, and the review', () => {
    const page = parseReviewPage({ items: [item], total: 1234, next: 'abc' }, 'GET /api/v1/review/findings')
    expect(page.total).toBe(1234)
    expect(page.next).toBe('abc')
    const x = page.items[0]!
    expect(x.finding.id).toBe('f-1')
    expect(x.finding.camera).toBe('site-07/doff1')
    expect(x.finding.snapshot).toEqual({ state: 'complete', file: 'snapshot' })
    expect(x.finding.clip).toEqual({ state: 'complete', file: 'clip' })
    expect(x.finding.photos?.map((p) => p.file)).toEqual(['photo-1'])
    expect(x.finding.deviationTitle?.en).toBe('Hand hygiene skipped')
    expect(x.overdue).toBe(true)
    expect(x.review).toMatchObject({ reviewed: true, reviewedBy: 'sup', comments: 1 })
    expect(x.outcomes[0]).toMatchObject({ kind: 'rectify_order', docNumber: '沪卫监〔2026〕12号', by: 'sup' })
    expect(x.siteName?.['zh-CN']).toBe('七号隔离点')
    expect(x.repeat).toBe(true)
    expect(x.runId).toBe('run-9')
  })

  it('reads a detail: the history with what each event says, the re-checks named by their event, comments and the run', () => {
    const d = parseReviewDetail(
      {
        ...item,
        events: [
          { cursor: 40, at: '2026-11-30T09:00:00Z', actor: 'manager-07', role: 'site_manager', action: 'rectify', detail: { note: '已培训' } },
          { cursor: 42, at: '2026-11-30T10:00:00Z', actor: 'duty2', role: 'duty', action: 'verify', detail: { note: 'ok' } },
          { cursor: 43, at: '2026-11-30T11:05:00Z', actor: 'sup', role: 'supervisor', action: 'outcome', detail: { kind: 'rectify_order', doc_number: 'D-1' } },
          { cursor: 44, at: '2026-11-30T11:06:00Z', actor: 'sup', role: 'supervisor', action: 'commented', detail: { text: '跟进' } },
        ],
        comments: [{ id: 7, by: 'sup', at: '2026-11-30T11:06:00Z', text: '跟进' }],
        run: {
          id: 'run-9',
          template_id: 'doffing',
          activity: 'doffing',
          officer: 'duty1',
          started_at: '2026-11-30T02:00:00Z',
          observations: [{ step: 'gloves', mark: 'done', at: '2026-11-30T02:01:00Z', flagged: false }, { step: 'hand_hygiene_1', mark: 'deviation', deviation: 'skipped_hand_hygiene', flagged: true }],
          findings: ['f-1'],
          steps_observed: 2,
          steps_correct: 1,
        },
      },
      'GET /api/v1/review/findings/f-1',
    )
    expect(d.finding.events?.map((e) => [e.action, e.note])).toEqual([
      ['rectify', '已培训'],
      ['verify', 'ok'],
      ['outcome', 'rectify_order D-1'],
      ['commented', '跟进'],
    ])
    // The re-check's snapshot and its clip together, with its verify.
    expect(d.finding.rechecks).toEqual([{ file: 'recheck-42', actor: 'duty2', action: 'verify', at: new Date('2026-11-30T10:00:00Z'), clip: { state: 'complete', file: 'recheck_clip-42' } }])
    expect(d.comments).toEqual([{ id: '7', by: 'sup', at: new Date('2026-11-30T11:06:00Z'), text: '跟进' }])
    expect(d.run?.observations.map((o) => [o.step, o.mark, o.flagged])).toEqual([
      ['gloves', 'done', false],
      ['hand_hygiene_1', 'deviation', true],
    ])
    expect(d.run?.stepsCorrect).toBe(1)
  })

  it('refuses a page without items or total, and a detail without its camera', () => {
    expect(() => parseReviewPage({ total: 1 }, 'p')).toThrow(/items/)
    expect(() => parseReviewPage({ items: [] }, 'p')).toThrow(/total/)
    expect(() => parseReviewDetail({ id: 'x' }, 'd')).toThrow(/camera/)
  })

  it('reads the facets, names missing words by their keys, and writes an outcome as the relay reads it', () => {
    const f = parseFacets(
      { districts: [{ key: '浦东新区', name: { 'zh-CN': '浦东新区', en: 'Pudong' } }], sites: [{ id: 'site-07', name: { 'zh-CN': '七号', en: '' }, district: '浦东新区', site_type: 'hotel' }], site_types: ['hotel'], officers: ['duty1'], deviations: [{ template: 'doffing', id: 'x' }] },
      'facets',
    )
    expect(f.sites[0]).toEqual({ id: 'site-07', name: { 'zh-CN': '七号', en: '七号' }, district: '浦东新区', siteType: 'hotel' })
    expect(f.deviations[0]!.title).toEqual({ 'zh-CN': 'x', en: 'x' })
    expect(f.templates).toEqual([])
    expect(outcomeJSON({ kind: 'case_filed', docNumber: 'A-1', note: '' })).toEqual({ kind: 'case_filed', doc_number: 'A-1', note: '' })
  })
})
