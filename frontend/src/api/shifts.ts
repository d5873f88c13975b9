// The duty room's shift and handover as the console passes them on from the
// relay (relay/wire/shifts.go; docs/PROTOCOLS.md, issue 11.3). Times are
// RFC 3339 strings, the relay's clock.
import { ContractError } from './parse'
import type { LocalizedName } from './types'

export interface Shift {
  id: string
  name: LocalizedName
  start: string
  end: string
}

export interface Duty {
  user: string
  role: string
  since: string
  by: 'sign_in' | 'explicit' | 'receipt' | string
}

export interface ShiftNow {
  now: string
  shift: Shift
  next: Shift
  left_seconds: number
  on_duty: Duty[]
  you?: Duty
}

/** The checklist's keys, always in this order. */
export const handoverItems = ['flagged_open', 'awaiting_recheck', 'overdue', 'cameras_down', 'underwatched'] as const
export type HandoverItemKey = (typeof handoverItems)[number]

export interface ChecklistItem {
  key: HandoverItemKey
  count: number
  refs: string[]
  checked: boolean
}

export interface HandoverDraft {
  shift: Shift
  checklist: ChecklistItem[]
}

export interface HandoverRequest {
  id: string
  note: string
  checklist: { key: string; checked: boolean }[]
}

export interface Receipt {
  by: string
  at: string
}

export interface Handover {
  id: string
  shift: Shift
  by: string
  at: string
  duty_since: string
  note: string
  checklist: ChecklistItem[]
  receipts: Receipt[]
}

/** The part of a relay finding the handover screen shows. */
export interface HandoverFinding {
  id: string
  site: string
  camera: string
  deviation_text: string
  severity: string
  status: string
  deadline: string
  observer: string
  overdue: boolean
}

export interface CameraDown {
  site: string
  camera: string
  status: 'online' | 'stalled' | 'offline' | string
  since: string
  down_seconds: number
}

export interface SiteShortfall {
  site: string
  watched_seconds: number
  policy_met: boolean | null
}

export interface HandoverView {
  now: string
  shift: Shift | null
  handovers: Handover[]
  flagged: HandoverFinding[]
  awaiting_recheck: HandoverFinding[]
  overdue: HandoverFinding[]
  cameras: CameraDown[]
  underwatched: SiteShortfall[]
  received: boolean
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ContractError(what, 'not an object')
  return v as Record<string, unknown>
}

function has(o: Record<string, unknown>, what: string, ...fields: string[]): void {
  for (const f of fields) if (o[f] === undefined) throw new ContractError(what, `no ${f}`)
}

export function parseShiftNow(v: unknown, what: string): ShiftNow {
  const o = object(v, what)
  has(o, what, 'now', 'shift', 'left_seconds', 'on_duty')
  has(object(o.shift, `${what}.shift`), `${what}.shift`, 'id', 'name', 'start', 'end')
  return o as unknown as ShiftNow
}

export function parseDraft(v: unknown, what: string): HandoverDraft {
  const o = object(v, what)
  has(o, what, 'shift', 'checklist')
  return o as unknown as HandoverDraft
}

export function parseHandover(v: unknown, what: string): Handover {
  const o = object(v, what)
  has(o, what, 'id', 'by', 'at', 'note', 'receipts')
  return o as unknown as Handover
}

export function parseHandoverView(v: unknown, what: string): HandoverView {
  const o = object(v, what)
  has(o, what, 'now', 'handovers', 'flagged', 'awaiting_recheck', 'overdue', 'cameras', 'underwatched', 'received')
  return o as unknown as HandoverView
}
