import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { detectLocale, zoneName } from './index'
import { zoneOrder } from '../sites/tree'
import { actionMessage, bindings, sections } from '../keys/keymap'
import { dateTime, localName, siteTime } from './format'
import { locales, messages } from './messages'

function flatten(o: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'string') out.set(key, v)
    else if (v && typeof v === 'object') for (const [kk, vv] of flatten(v, key)) out.set(kk, vv)
    else throw new Error(`${key}: ${typeof v} is neither text nor a group`)
  }
  return out
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort()
const flat = Object.fromEntries(locales.map((l) => [l, flatten(messages[l])]))

describe('messages', () => {
  it('have exactly the same keys in every locale', () => {
    const zh = [...flat['zh-CN']!.keys()].sort()
    expect(zh.length).toBeGreaterThan(20)
    for (const l of locales) expect([...flat[l]!.keys()].sort(), l).toEqual(zh)
  })

  it('have no empty text', () => {
    for (const l of locales) for (const [k, v] of flat[l]!) expect(v.trim(), `${l} ${k}`).not.toBe('')
  })

  it('use the same placeholders in every locale', () => {
    for (const [k, v] of flat['zh-CN']!) {
      for (const l of locales) expect(placeholders(flat[l]!.get(k)!), `${l} ${k}`).toEqual(placeholders(v))
    }
  })

  it('all compile and render with vue-i18n', () => {
    for (const l of locales) {
      const i18n = createI18n({ legacy: false, locale: l, messages, missingWarn: false, fallbackWarn: false })
      for (const [k, v] of flat[l]!) {
        const params = Object.fromEntries(placeholders(v).map((p) => [p, `<${p}>`]))
        const out = i18n.global.t(k, params)
        expect(out, `${l} ${k}`).not.toBe(k)
        for (const p of placeholders(v)) expect(out, `${l} ${k}`).toContain(`<${p}>`)
        expect(out, `${l} ${k}`).not.toMatch(/[{}]/)
      }
    }
  })

  it('have every key the code asks for by name', () => {
    const src = join(__dirname, '..')
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => /\.(vue|ts)$/.test(f) && !f.includes('.test.'))
    const asked = new Set<string>()
    for (const f of files) {
      for (const m of readFileSync(join(src, f), 'utf8').matchAll(/\bt\('([a-zA-Z_.]+)'/g)) asked.add(m[1]!)
    }
    expect(asked.size).toBeGreaterThan(50)
    for (const key of asked) for (const l of locales) expect(flat[l]!.has(key), `${l} ${key}`).toBe(true)
  })

  it('keep the product name in the title of both languages', () => {
    for (const l of locales) expect(flat[l]!.get('app.title')).toBe('千里眼 Qianliyan')
  })
})

describe('detectLocale', () => {
  const cases: [string | undefined, string][] = [
    ['en', 'en'],
    ['en-US', 'en'],
    ['EN-gb', 'en'],
    ['zh-CN', 'zh-CN'],
    ['zh-TW', 'zh-CN'],
    ['de-DE', 'zh-CN'],
    ['', 'zh-CN'],
    [undefined, 'zh-CN'],
  ]
  for (const [lang, want] of cases) it(`${lang} → ${want}`, () => expect(detectLocale(lang)).toBe(want))
})

describe('the one time format', () => {
  // 2026-05-09 23:30:05 UTC is 07:30:05 on the 10th in Shanghai.
  const t = '2026-05-09T23:30:05Z'
  const cases: { name: string; at: string; tz: string; now: string; want: string; full: string }[] = [
    { name: 'same day at the site', at: t, tz: 'Asia/Shanghai', now: '2026-05-10T01:00:00Z', want: '07:30', full: '2026-05-10 07:30' },
    { name: 'different day at the site', at: t, tz: 'Asia/Shanghai', now: '2026-05-11T01:00:00Z', want: '2026-05-10 07:30', full: '2026-05-10 07:30' },
    { name: 'today in UTC, tomorrow at the site', at: t, tz: 'Asia/Shanghai', now: '2026-05-09T23:59:00Z', want: '07:30', full: '2026-05-10 07:30' },
    { name: 'another zone', at: t, tz: 'UTC', now: '2026-05-09T23:59:00Z', want: '23:30', full: '2026-05-09 23:30' },
    { name: 'midnight is 00, not 24', at: '2026-05-10T00:00:00Z', tz: 'UTC', now: '2026-05-10T00:00:09Z', want: '00:00', full: '2026-05-10 00:00' },
    { name: 'the shift start (was "08:00:00")', at: '2026-05-10T00:00:00Z', tz: 'Asia/Shanghai', now: '2026-05-10T03:00:00Z', want: '08:00', full: '2026-05-10 08:00' },
  ]
  for (const c of cases) {
    it(c.name, () => {
      expect(siteTime(new Date(c.at), c.tz, new Date(c.now))).toBe(c.want)
      expect(dateTime(new Date(c.at), c.tz)).toBe(c.full)
    })
  }

  it('falls back to the machine zone for an unknown zone name', () => {
    expect(siteTime(new Date(t), 'Mars/Olympus_Mons', new Date(t))).toMatch(/^\d\d:\d\d$/)
  })
})

describe('localName', () => {
  it('picks the locale and falls back to the other', () => {
    expect(localName({ 'zh-CN': '一脱间', en: 'Doffing room 1' }, 'en')).toBe('Doffing room 1')
    expect(localName({ 'zh-CN': '一脱间', en: 'Doffing room 1' }, 'zh-CN')).toBe('一脱间')
    expect(localName({ 'zh-CN': '一脱间', en: '' }, 'en')).toBe('一脱间')
    expect(localName({ 'zh-CN': '', en: 'Gate' }, 'zh-CN')).toBe('Gate')
  })
})

describe('names the view needs from the messages', () => {
  it('has both languages for every zone the tree orders, and for "other"', () => {
    for (const z of [...zoneOrder, 'other']) {
      const n = zoneName(z)
      expect(n['zh-CN'], z).not.toBe(z)
      expect(n.en, z).not.toBe(z)
      expect(n['zh-CN'], z).toMatch(/[\u4e00-\u9fff]/)
    }
  })

  it('names an unknown zone by its key', () => {
    expect(zoneName('rooftop')).toEqual({ 'zh-CN': 'rooftop', en: 'rooftop' })
  })

  it('describes every key binding and names every section', () => {
    for (const l of locales) {
      for (const b of bindings) expect(flat[l]!.has(actionMessage(b.action)), `${l} ${b.action}`).toBe(true)
      for (const sct of sections) expect(flat[l]!.has(`keys.sections.${sct}`), `${l} ${sct}`).toBe(true)
    }
  })

  // The bridge's reason codes (console/media) and the view's own (player/state, wall/badge).
  const reasons = ['no_video', 'connection_lost', 'relay_unreachable', 'error', 'camera_offline', 'session_expired', 'unknown_camera', 'unauthorized', 'forbidden', 'bridge_lost', 'no_frames']
  it('translates every reason a tile can show', () => {
    for (const l of locales) for (const r of reasons) expect(flat[l]!.has(`reason.${r}`), `${l} ${r}`).toBe(true)
  })

  it('has a word for every camera state the tree shows', () => {
    for (const l of locales) for (const st of ['online', 'stalled', 'offline']) expect(flat[l]!.has(`camera.${st}`), `${l} ${st}`).toBe(true)
  })
})
