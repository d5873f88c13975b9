import type { LocalizedName } from '../api'
import type { Locale } from './messages'

/** The name in the locale, or in the other one when it has none. */
export function localName(n: LocalizedName, locale: Locale): string {
  return (locale === 'en' ? n.en || n['zh-CN'] : n['zh-CN'] || n.en) ?? ''
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      })
    } catch {
      // An unknown zone name from the backend: fall back to the machine's.
      return formatter(Intl.DateTimeFormat().resolvedOptions().timeZone)
    }
    formatters.set(timeZone, f)
  }
  return f
}

function parts(d: Date, timeZone: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of formatter(timeZone).formatToParts(d)) out[p.type] = p.value
  return out
}

/**
 * Wall-clock time at the site: "HH:MM:SS", with "YYYY-MM-DD " before it
 * when that is not today at the site. The same digits in both languages.
 */
export function siteTime(d: Date, timeZone: string, now: Date = new Date()): string {
  const p = parts(d, timeZone)
  const time = `${p.hour}:${p.minute}:${p.second}`
  const today = parts(now, timeZone)
  if (p.year === today.year && p.month === today.month && p.day === today.day) return time
  return `${p.year}-${p.month}-${p.day} ${time}`
}
