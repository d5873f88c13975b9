import { describe, expect, it } from 'vitest'
import { parseTour } from '../api/parse'
import type { Locale } from '../i18n'
import { tourName, tourNameOf } from './name'

const builtIn = { name: 'doffing-and-waste', title: { 'zh-CN': '脱卸间与医废点', en: 'Doffing rooms and waste' }, steps: [{ camera: 'site-01/doff1', dwell_s: 15 }] }
const mine = { name: '夜班巡视', steps: [{ camera: 'site-01/doff1', dwell_s: 15 }] }

describe('tourName', () => {
  // A built-in tour reads in the reader's language, never as its key; one
  // the officer named reads as they typed it.
  it.each<[string, unknown, Locale, string]>([
    ['built-in, Chinese', builtIn, 'zh-CN', '脱卸间与医废点'],
    ['built-in, English', builtIn, 'en', 'Doffing rooms and waste'],
    ['named by the officer', mine, 'en', '夜班巡视'],
  ])('%s', (_, wire, locale, want) => {
    expect(tourName(parseTour(wire, 'test'), locale)).toBe(want)
  })

  it('names a tour the list does not have by its key', () => {
    const list = [parseTour(builtIn, 'test')]
    expect(tourNameOf(list, 'doffing-and-waste', 'zh-CN')).toBe('脱卸间与医废点')
    expect(tourNameOf(list, 'gone', 'zh-CN')).toBe('gone')
  })
})
