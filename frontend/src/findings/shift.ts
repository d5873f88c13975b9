// Duty shifts in the site's time zone: 08:00–20:00 (day) and 20:00–08:00
// (night) by default. The findings panel lists this shift's first.
import { dateTime, pad2, wallClock, type WallClock } from '../i18n/format'

export interface Shift {
  kind: 'day' | 'night'
  start: Date
  end: Date
  /** The site-local date the shift began on, "YYYY-MM-DD". */
  date: string
}

export interface ShiftHours {
  /** Site-local hour the day shift begins (8). */
  dayStart: number
  /** Site-local hour the night shift begins (20). */
  nightStart: number
}

export const defaultShiftHours: ShiftHours = { dayStart: 8, nightStart: 20 }

/** The instant a site-local wall-clock time names (the earlier one at a DST fold). */
export function fromWall(w: WallClock, timeZone: string): Date {
  const asUTC = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second)
  let t = asUTC
  // Two rounds settle the offset, DST included.
  for (let i = 0; i < 2; i++) {
    const seen = wallClock(new Date(t), timeZone)
    const seenUTC = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second)
    t += asUTC - seenUTC
  }
  return new Date(t)
}

function shiftAt(w: WallClock, hour: number, timeZone: string, dayOffset: number): Date {
  const base = new Date(Date.UTC(w.year, w.month - 1, w.day + dayOffset))
  return fromWall({ year: base.getUTCFullYear(), month: base.getUTCMonth() + 1, day: base.getUTCDate(), hour, minute: 0, second: 0 }, timeZone)
}

/** The shift an instant falls in, at a site in timeZone. */
export function shiftOf(d: Date, timeZone: string, hours: ShiftHours = defaultShiftHours): Shift {
  const w = wallClock(d, timeZone)
  const { dayStart, nightStart } = hours
  if (w.hour >= dayStart && w.hour < nightStart) {
    return { kind: 'day', start: shiftAt(w, dayStart, timeZone, 0), end: shiftAt(w, nightStart, timeZone, 0), date: `${w.year}-${pad2(w.month)}-${pad2(w.day)}` }
  }
  // Night: began this evening, or yesterday evening when before the day shift.
  const back = w.hour < dayStart ? -1 : 0
  const start = shiftAt(w, nightStart, timeZone, back)
  const sw = wallClock(start, timeZone)
  return { kind: 'night', start, end: shiftAt(w, dayStart, timeZone, back + 1), date: `${sw.year}-${pad2(sw.month)}-${pad2(sw.day)}` }
}

export interface ShiftGroup<T> {
  shift: Shift
  current: boolean
  items: T[]
}

/**
 * Groups items by the shift they fall in, this shift first, then the
 * earlier ones newest first; items newest first within a group. Items
 * without a time go with this shift.
 */
export function groupByShift<T>(items: readonly T[], at: (x: T) => Date | undefined, timeZone: string, now: Date, hours: ShiftHours = defaultShiftHours): ShiftGroup<T>[] {
  const current = shiftOf(now, timeZone, hours)
  const groups = new Map<number, ShiftGroup<T>>()
  groups.set(current.start.getTime(), { shift: current, current: true, items: [] })
  for (const x of items) {
    const t = at(x)
    const s = t ? shiftOf(t, timeZone, hours) : current
    let g = groups.get(s.start.getTime())
    if (!g) {
      g = { shift: s, current: false, items: [] }
      groups.set(s.start.getTime(), g)
    }
    g.items.push(x)
  }
  const time = (x: T) => at(x)?.getTime() ?? Infinity
  const out = [...groups.values()]
  for (const g of out) g.items.sort((a, b) => time(b) - time(a))
  return out.sort((a, b) => Number(b.current) - Number(a.current) || b.shift.start.getTime() - a.shift.start.getTime())
}

/** A deadline as its field shows it, at the site: "2026-11-24 21:30" (i18n/format dateTime). */
export function toWallInput(d: Date, timeZone: string): string {
  return dateTime(d, timeZone)
}

/**
 * The instant a deadline field's "YYYY-MM-DD HH:MM" names at the site
 * (a "T" for the space, and seconds, are taken too); undefined when it
 * names none, as "2026-02-30 10:00" does.
 */
export function fromWallInput(s: string, timeZone: string): Date | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim())
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number]
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return undefined
  return fromWall({ year, month, day, hour, minute, second }, timeZone)
}
