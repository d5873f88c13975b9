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
      return formatter(machineZone())
    }
    formatters.set(timeZone, f)
  }
  return f
}

/**
 * Makes the machine zone's formatter now. The first Intl.DateTimeFormat
 * with a time zone loads the zone data, 60–130 ms of the main thread
 * (later ones take a fraction of a millisecond); done while the page waits
 * anyway, it is not part of the console's first render, which the wall's
 * cold start waits for.
 */
export function loadTimeZones(): void {
  formatter(machineZone())
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
 * The console's one way of writing a time, in both languages:
 * "2026-12-03 10:58" (24 h, no seconds), read on the clock of the place it
 * is about (docs/PROTOCOLS.md, "Times in the view"). A site's times
 * (deadlines, what was seen, a camera's state) are in the site's zone, from
 * the relay's catalogue; the officer's own (their sign-in) in the zone of
 * the sites they watch.
 */
export function dateTime(d: Date, timeZone: string): string {
  const w = wallClock(d, timeZone)
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)} ${pad2(w.hour)}:${pad2(w.minute)}`
}

/**
 * dateTime without the date when it is today there ("10:58"): the short
 * form of the same, for lines about now (a camera's state, this shift).
 */
export function siteTime(d: Date, timeZone: string, now: Date = new Date()): string {
  const full = dateTime(d, timeZone)
  return full.slice(0, 10) === dateTime(now, timeZone).slice(0, 10) ? full.slice(11) : full
}

/** The zone of the machine the view runs on: the officer's own when nothing says better. */
export function machineZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** "Site · camera" in the locale, or the camera's key when the list does not have it. */
export function cameraLabel(c: Camera | undefined, key: string, locale: Locale): string {
  return c ? `${localName(c.site_name, locale)} · ${localName(c.name, locale)}` : key
}
