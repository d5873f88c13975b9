// Checklists and findings as the backend sends them, for the tests: the
// doffing checklist (cut down, and parsed), a checklist for every zone, a finding.
import { parseTemplate } from '../api/findings'

export const doffingWire = {
  id: 'ppe-doffing',
  version: 2,
  title: { 'zh-CN': '脱卸防护用品', en: 'Doffing PPE' },
  zones: ['doffing_room_1'],
  steps: [
    { id: 'hh-gloves', text: { 'zh-CN': '手卫生', en: 'Hand hygiene' }, min_duration_s: 20, short_deviation: 'hh-short', order_deviation: 'wrong-order' },
    { id: 'goggles', text: { 'zh-CN': '摘护目镜', en: 'Remove goggles' }, missed_deviation: 'touch-face' },
    { id: 'gown', text: { 'zh-CN': '脱防护服', en: 'Remove the gown' } },
  ],
  deviations: [
    { id: 'wrong-order', text: { 'zh-CN': '脱卸顺序错误', en: 'Doffed out of order' }, severity: 'major', deadline_s: 172800 },
    { id: 'hh-short', text: { 'zh-CN': '手卫生时间不足', en: 'Hand rub too short' }, severity: 'minor', deadline_s: 604800 },
    { id: 'touch-face', text: { 'zh-CN': '污染手触碰面部', en: 'Contaminated hands touched the face' }, severity: 'critical', deadline_s: 86400 },
  ],
}

export const doffing = parseTemplate(doffingWire, 'fixture')

/** The disinfection checklist that covers every zone: less specific than the doffing one. */
export const disinfectionWire = {
  id: 'disinfection',
  version: 1,
  title: { 'zh-CN': '环境消毒', en: 'Disinfection' },
  zones: ['*'],
  steps: [{ id: 'wipe', text: { 'zh-CN': '擦拭', en: 'Wipe the surfaces' } }],
  deviations: [{ id: 'missed-wipe', text: { 'zh-CN': '漏擦', en: 'Surfaces not wiped' }, severity: 'minor', deadline_s: 86400 }],
}

/** A finding as the backend sends it. */
export function findingWire(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'f1',
    site: 'site-01',
    camera: 'doff1',
    zone: 'doffing_room_1',
    template_id: 'ppe-doffing',
    template_version: 2,
    step: 'goggles',
    deviation: 'touch-face',
    deviation_text: '污染手触碰面部',
    severity: 'critical',
    note: '',
    observer: 'duty',
    observed_at: '2026-11-24T19:00:00Z',
    flagged_at: '2026-11-24T19:00:01Z',
    deadline: '2026-11-25T19:00:01Z',
    status: 'open',
    revision: 1,
    updated_at: '2026-11-24T19:00:01Z',
    forward: { state: 'local' },
    ...over,
  }
}
