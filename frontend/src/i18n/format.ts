import type { Camera, LocalizedName } from '../api'
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

/** A site's wall-clock reading of an instant, field by field. */
export interface WallClock {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

/** The wall clock at the site when d happened. */
export function wallClock(d: Date, timeZone: string): WallClock {
  const p: Record<string, number> = {}
  for (const x of formatter(timeZone).formatToParts(d)) if (x.type !== 'literal') p[x.type] = Number(x.value)
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour!, minute: p.minute!, second: p.second! }
}

export const pad2 = (n: number) => String(n).padStart(2, '0')

/**
 * Wall-clock time at the site: "HH:MM:SS", with "YYYY-MM-DD " before it
 * when that is not today at the site. The same digits in both languages.
 */
export function siteTime(d: Date, timeZone: string, now: Date = new Date()): string {
  const w = wallClock(d, timeZone)
  const time = `${pad2(w.hour)}:${pad2(w.minute)}:${pad2(w.second)}`
  const today = wallClock(now, timeZone)
  if (w.year === today.year && w.month === today.month && w.day === today.day) return time
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)} ${time}`
}

/** "Site · camera" in the locale, or the camera's key when the list does not have it. */
export function cameraLabel(c: Camera | undefined, key: string, locale: Locale): string {
  return c ? `${localName(c.site_name, locale)} · ${localName(c.name, locale)}` : key
}
