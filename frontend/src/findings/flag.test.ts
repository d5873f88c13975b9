import { describe, expect, it } from 'vitest'
import { parseTemplate } from '../api/findings'
import { catalogue, draftFor, draftProblem, flagRequest, forStep, freeTextDeadlineS } from './flag'
import { doffing } from './fixtures'

const now = new Date('2026-11-24T21:00:00Z')
const other = parseTemplate(
  {
    id: 'waste',
    version: 1,
    title: { 'zh-CN': '医疗废物', en: 'Medical waste' },
    steps: [{ id: 'seal', text: { 'zh-CN': '封口', en: 'Seal' } }],
    deviations: [
      { id: 'touch-face', text: { 'zh-CN': '重复', en: 'duplicate' }, severity: 'minor', deadline_s: 1 },
      { id: 'unsealed', text: { 'zh-CN': '未封口', en: 'Not sealed' }, severity: 'major', deadline_s: 3600 },
    ],
  },
  'test',
)

describe('catalogue', () => {
  it('lists each deviation once, the open run template first', () => {
    expect(catalogue([doffing, other]).map((e) => `${e.template.id}/${e.deviation.id}`)).toEqual([
      'ppe-doffing/wrong-order',
      'ppe-doffing/hh-short',
      'ppe-doffing/touch-face',
      'waste/unsealed',
    ])
    expect(catalogue([doffing, other], 'waste').map((e) => e.deviation.id)).toEqual(['touch-face', 'unsealed', 'wrong-order', 'hh-short'])
    expect(catalogue([])).toEqual([])
  })

  it('puts the most specific template first when no run is open', () => {
    const broad = parseTemplate(
      {
        id: 'disinfection',
        version: 1,
        title: { 'zh-CN': '消毒', en: 'Disinfection' },
        zones: ['corridor', 'doffing_room_1', 'entrance'],
        steps: [{ id: 'apply', text: { 'zh-CN': '喷洒', en: 'Apply' } }],
        deviations: [{ id: 'cross-zone-tools', text: { 'zh-CN': '污染区工具用于清洁区', en: 'Tools across zones' }, severity: 'critical', deadline_s: 3600 }],
      },
      'test',
    )
    const everywhere = parseTemplate(
      {
        id: 'zones',
        version: 1,
        title: { 'zh-CN': '分区与通道', en: 'Zones and passages' },
        zones: ['*'],
        steps: [{ id: 'look', text: { 'zh-CN': '查看', en: 'Look' } }],
        deviations: [{ id: 'zone-breach', text: { 'zh-CN': '越区', en: 'Zone breach' }, severity: 'critical', deadline_s: 3600 }],
      },
      'test',
    )
    expect(catalogue([everywhere, broad, doffing]).map((e) => e.template.id)).toEqual([
      'ppe-doffing',
      'ppe-doffing',
      'ppe-doffing',
      'disinfection',
      'zones',
    ])
    expect(catalogue([everywhere, broad, doffing], 'zones')[0]?.template.id).toBe('zones')
  })
})

describe('forStep', () => {
  it('puts the deviations a step names first, in the order it names them', () => {
    const entries = catalogue([doffing])
    expect(forStep(entries, doffing.steps[0]!).map((e) => e.deviation.id)).toEqual(['wrong-order', 'hh-short', 'touch-face'])
    expect(forStep(entries, doffing.steps[1]!).map((e) => e.deviation.id)).toEqual(['touch-face', 'wrong-order', 'hh-short'])
    expect(forStep(entries, doffing.steps[2]!).map((e) => e.deviation.id)).toEqual(['wrong-order', 'hh-short', 'touch-face'])
  })
})

describe('draftFor', () => {
  const entries = catalogue([doffing])
  const cases = [
    { name: 'major, two days', entry: entries[0], severity: 'major', deadline: '2026-11-26T21:00:00.000Z' },
    { name: 'minor, a week', entry: entries[1], severity: 'minor', deadline: '2026-12-01T21:00:00.000Z' },
    { name: 'critical, a day', entry: entries[2], severity: 'critical', deadline: '2026-11-25T21:00:00.000Z' },
    { name: 'free text', entry: undefined, severity: 'major', deadline: new Date(now.getTime() + freeTextDeadlineS * 1000).toISOString() },
  ]
  for (const c of cases) {
    it(`presets ${c.name} from the catalogue`, () => {
      const d = draftFor(c.entry, now)
      expect(d.severity).toBe(c.severity)
      expect(d.deadline.toISOString()).toBe(c.deadline)
      expect(d.note).toBe('')
    })
  }
})

describe('draftProblem', () => {
  const entry = catalogue([doffing])[0]
  const cases = [
    { name: 'a catalogue entry', draft: draftFor(entry, now), want: '' },
    { name: 'free text without text', draft: draftFor(undefined, now), want: 'flag.needText' },
    { name: 'free text of spaces', draft: { ...draftFor(undefined, now), freeText: '   ' }, want: 'flag.needText' },
    { name: 'free text', draft: { ...draftFor(undefined, now), freeText: '未戴手套' }, want: '' },
    { name: 'a deadline already past', draft: { ...draftFor(entry, now), deadline: new Date(now.getTime() - 1) }, want: 'flag.pastDeadline' },
    { name: 'an unreadable deadline', draft: { ...draftFor(entry, now), deadline: new Date(NaN) }, want: 'flag.badDeadline' },
  ]
  for (const c of cases) it(c.name, () => expect(draftProblem(c.draft, now)).toBe(c.want))
})

describe('flagRequest', () => {
  const frame = { camera: 'site-01/doff1', stream: 'main' as const, ptsUs: 123456789, jpegBase64: 'AAAA', width: 640, height: 360 }

  it('files a catalogue deviation with its template and the frame', () => {
    const d = { ...draftFor(catalogue([doffing])[0], now), note: '  at the door ', step: 'gown' }
    expect(flagRequest(d, frame, '脱卸顺序错误')).toEqual({
      camera: 'site-01/doff1',
      stream: 'main',
      ptsUs: 123456789,
      templateId: 'ppe-doffing',
      templateVersion: 2,
      step: 'gown',
      deviation: 'wrong-order',
      deviationText: '脱卸顺序错误',
      severity: 'major',
      note: 'at the door',
      deadline: new Date('2026-11-26T21:00:00Z'),
      snapshot: 'AAAA',
      snapshotWidth: 640,
      snapshotHeight: 360,
    })
  })

  it('files free text without a catalogue id', () => {
    const r = flagRequest({ ...draftFor(undefined, now), freeText: ' 未戴手套 ' }, frame, 'ignored')
    expect(r.deviation).toBeUndefined()
    expect(r.templateId).toBeUndefined()
    expect(r.deviationText).toBe('未戴手套')
  })

  it('names the template of a checklist step marked with free text', () => {
    const r = flagRequest({ ...draftFor(undefined, now), freeText: '未戴手套', step: 'gown', template: doffing }, frame, '')
    expect([r.templateId, r.templateVersion, r.step, r.deviation]).toEqual(['ppe-doffing', 2, 'gown', undefined])
  })
})
