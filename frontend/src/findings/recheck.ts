// The re-check loop (回头看) without Vue: which findings await the officer's
// re-check and in what order, how their deadlines read, what a reopening
// needs, and how the backend's `findings` events turn into re-reads.
import type { Finding, Severity } from '../api'
import { fromWallInput, groupByShift, type ShiftGroup } from './shift'

/** Statuses after which a finding asks nothing more of anyone. */
const closed = new Set(['verified', 'withdrawn'])

/** Deadline passed and not closed: derived, as at the relay, never stored. */
export function isOverdue(f: Finding, now: Date): boolean {
  return !!f.deadline && f.deadline.getTime() < now.getTime() && !closed.has(f.status)
}

/** What the officer may do with a finding in its state: the one place the dialog, its keys and the re-check bar ask. */
export interface FindingActions {
  /** Change note, severity and deadline. */
  edit: boolean
  /** The finding is open but the site has it: the edit is refused, and the dialog says why. */
  editRefused: boolean
  withdraw: boolean
  verify: boolean
  reopen: boolean
  /** Send again a change the relay refused. */
  retry: boolean
}

/**
 * The relay's state machine (relay/findings/machine.go) as the officer
 * meets it: an edit only of an open finding, and only while the site does
 * not have it (the console's own rule: what the site has read stays as it
 * read it); a withdrawal until the finding is closed; verify and reopen
 * only of a rectified one.
 */
export function findingActions(f: Finding): FindingActions {
  const atSite = f.forward?.state === 'forwarded'
  const isOpen = f.status === 'open'
  const rectified = f.status === 'rectified'
  return {
    edit: isOpen && !atSite,
    editRefused: isOpen && atSite,
    withdraw: !closed.has(f.status),
    verify: rectified,
    reopen: rectified,
    retry: f.forward?.state === 'failing' && !f.forward.retrying,
  }
}

/** Since when a rectified finding has waited: the site's report, as the backend last changed it. */
export function waitingSince(f: Finding): Date | undefined {
  return f.updatedAt ?? f.flaggedAt ?? f.observedAt
}

/**
 * The findings the site reported rectified, whatever their age: the one
 * that has waited longest first, so nothing sits at the bottom all night.
 */
export function recheckQueue(findings: readonly Finding[]): Finding[] {
  const at = (f: Finding) => waitingSince(f)?.getTime() ?? 0
  return findings.filter((f) => f.status === 'rectified').sort((a, b) => at(a) - at(b) || a.id.localeCompare(b.id))
}

/** A span of time cut to what a tired eye needs: days and hours, or hours and minutes, or minutes. */
export interface Span {
  days: number
  hours: number
  minutes: number
}

export function span(ms: number): Span {
  const minutes = Math.floor(Math.abs(ms) / 60_000)
  return { days: Math.floor(minutes / 1440), hours: Math.floor((minutes % 1440) / 60), minutes: minutes % 60 }
}

const units = {
  'zh-CN': { d: ' 天', h: ' 小时', m: ' 分钟', sep: ' ', under: '不到 1 分钟' },
  en: { d: ' d', h: ' h', m: ' min', sep: ' ', under: 'under a minute' },
} as const

/** "2 天 3 小时" / "2 d 3 h"; the two largest units that are not zero. */
export function spanText(ms: number, locale: 'zh-CN' | 'en'): string {
  const s = span(ms)
  const u = units[locale]
  if (s.days > 0) return s.hours > 0 ? `${s.days}${u.d}${u.sep}${s.hours}${u.h}` : `${s.days}${u.d}`
  if (s.hours > 0) return s.minutes > 0 ? `${s.hours}${u.h}${u.sep}${s.minutes}${u.m}` : `${s.hours}${u.h}`
  if (s.minutes > 0) return `${s.minutes}${u.m}`
  return u.under
}

/** Where a finding stands against its deadline: the message key and its span. */
export type Due = { kind: 'none' } | { kind: 'closed' } | { kind: 'left' | 'overdue'; ms: number }

export function due(f: Finding, now: Date): Due {
  if (!f.deadline) return { kind: 'none' }
  if (closed.has(f.status)) return { kind: 'closed' }
  const ms = f.deadline.getTime() - now.getTime()
  return ms < 0 ? { kind: 'overdue', ms: -ms } : { kind: 'left', ms }
}

/**
 * How long a reopened finding gives the site, by severity. The domain notes
 * suggest critical: re-check within the shift or 24 h; major: 24–48 h;
 * minor: 3–7 days. A reopening is a second chance, so the short end for
 * minor; the officer can change it.
 */
export const reopenHours: Record<Severity, number> = { critical: 24, major: 48, minor: 72 }

export function reopenDeadline(severity: string, now: Date): Date {
  const h = reopenHours[severity as Severity] ?? reopenHours.major
  return new Date(now.getTime() + h * 3600_000)
}

/** The reopen form as typed: the note and the deadline at the site ("YYYY-MM-DD HH:MM"). */
export interface ReopenForm {
  note: string
  deadline: string
}

export type ReopenProblem = 'needNote' | 'badDeadline' | 'pastDeadline'

/** The request to send, or what is wrong with the form (a message key under recheck.*). */
export function checkReopen(form: ReopenForm, timeZone: string, now: Date): { note: string; deadline: Date } | { problem: ReopenProblem; field: 'note' | 'deadline' } {
  const note = form.note.trim()
  if (!note) return { problem: 'needNote', field: 'note' }
  const deadline = fromWallInput(form.deadline, timeZone)
  if (!deadline) return { problem: 'badDeadline', field: 'deadline' }
  if (deadline.getTime() <= now.getTime()) return { problem: 'pastDeadline', field: 'deadline' }
  return { note, deadline }
}

/**
 * Findings by id from several lists (the last hours, the re-check queue,
 * the overdue ones): each once, the later list's copy winning when two
 * disagree, since it was read later.
 */
export function mergeFindings(...lists: (readonly Finding[])[]): Finding[] {
  const byId = new Map<string, Finding>()
  for (const list of lists) for (const f of list) byId.set(f.id, f)
  return [...byId.values()]
}

/** The list with f in its place (or added first). */
export function withFinding(list: readonly Finding[], f: Finding): Finding[] {
  const i = list.findIndex((x) => x.id === f.id)
  return i < 0 ? [f, ...list] : list.map((x) => (x.id === f.id ? f : x))
}

export interface RefresherOptions {
  /** Reads one finding again; rejects with status 404 for one that is gone. */
  read(id: string): Promise<Finding>
  /** Hands over each finding read. */
  apply(f: Finding): void
  /** Reads every list again: too many ids at once, or the stream reconnected. */
  reloadAll(): void
  /** More ids than this in one burst re-read everything instead (20). */
  maxIds?: number
}

/**
 * Turns the backend's `findings` events into re-reads: ids arriving while
 * a read is under way are gathered and read once after it, so a burst of
 * events (a backlog draining) does not become a burst of requests.
 */
export class FindingsRefresher {
  private pending = new Set<string>()
  private running: Promise<void> | undefined
  private readonly maxIds: number

  constructor(private readonly opts: RefresherOptions) {
    this.maxIds = opts.maxIds ?? 20
  }

  /** Some findings changed; resolves once they (and any that came meanwhile) are read. */
  changed(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.pending.add(id)
    if (!this.running) {
      this.running = this.drain().finally(() => (this.running = undefined))
    }
    return this.running
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const ids = [...this.pending]
      this.pending.clear()
      if (ids.length > this.maxIds) {
        this.opts.reloadAll()
        continue
      }
      const read = await Promise.allSettled(ids.map((id) => this.opts.read(id)))
      for (const r of read) {
        // A finding that cannot be read now is read with the next list.
        if (r.status === 'fulfilled') this.opts.apply(r.value)
      }
    }
  }
}

/**
 * The findings panel from top to bottom: the re-check queue, then the
 * other findings by duty shift (this shift first). A rectified finding is
 * only in the queue, so each finding is listed once and the arrow keys
 * walk `order`.
 */
export function panelSections(findings: readonly Finding[], timeZone: string, now: Date): { queue: Finding[]; groups: ShiftGroup<Finding>[]; order: Finding[] } {
  const queue = recheckQueue(findings)
  const rest = findings.filter((f) => f.status !== 'rectified')
  const groups = groupByShift(rest, (f) => f.flaggedAt ?? f.observedAt, timeZone, now)
  return { queue, groups, order: [...queue, ...groups.flatMap((g) => g.items)] }
}
