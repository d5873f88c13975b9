// A template as the backend sends it, parsed: the doffing checklist, cut down.
import { parseTemplate } from '../api/findings'

export const doffing = parseTemplate(
  {
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
  },
  'fixture',
)
