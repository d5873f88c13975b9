import { describe, expect, it } from 'vitest'
import { parseFinding } from '../api/findings'
import type { Locale } from '../i18n'
import { findingTitle } from './text'

const wire = { id: 'f1', site: 'site-01', camera: 'doff1', deviation: 'wrong_order', deviation_text: '脱卸顺序错误' }

describe('findingTitle', () => {
  // A finding flagged in Chinese reads in English for an English reader, and
  // the other way round; free text and findings from before the titles as typed.
  it.each<[string, Record<string, unknown>, Locale, string]>([
    ['catalogue, read in English', { deviation_title: { 'zh-CN': '脱卸顺序错误', en: 'Wrong doffing order' } }, 'en', 'Wrong doffing order'],
    ['catalogue, read in Chinese', { deviation_text: 'Wrong doffing order', deviation_title: { 'zh-CN': '脱卸顺序错误', en: 'Wrong doffing order' } }, 'zh-CN', '脱卸顺序错误'],
    ['catalogue in Chinese only, read in English', { deviation_title: { 'zh-CN': '脱卸顺序错误' } }, 'en', '脱卸顺序错误'],
    ['free text', { deviation: undefined, deviation_text: 'door left open' }, 'zh-CN', 'door left open'],
    ['an older backend without titles', {}, 'en', '脱卸顺序错误'],
    ['an empty title', { deviation_title: { 'zh-CN': '', en: '' } }, 'en', '脱卸顺序错误'],
  ])('%s', (_, fields, locale, want) => {
    expect(findingTitle(parseFinding({ ...wire, ...fields }, 'test'), locale)).toBe(want)
  })
})
