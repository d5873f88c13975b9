// The supervisors' review of the relay's findings, as the console backend
// passes it on (relay/wire/review.go; docs/PROTOCOLS.md, "Issue 13:
// review"). A review item is the relay's finding with where it is and what
// supervisors did with it; it is read into the view's Finding so that the
// console's evidence and history components show it as they show any.
import type { Finding, FindingEvent, RecheckFile } from './findings'
import { parseFinding } from './findings'
import { ContractError, isObject, parseName, time } from './parse'
import type { LocalizedName } from './types'

export const outcomeKinds = ['notice_issued', 'rectify_order', 'suspend_order', 'case_filed'] as const
export type OutcomeKind = (typeof outcomeKinds)[number]

export interface Outcome {
  kind: OutcomeKind | string
  docNumber: string
  note: string
  by: string
  at?: Date
}

export interface ReviewMark {
  reviewed: boolean
  reviewedBy: string
  reviewedAt?: Date
  comments: number
}

export interface ReviewComment {
  id: string
  by: string
  at?: Date
  text: string
}

export interface RunObservationView {
  step: string
  mark: string
  deviation: string
  deviationText: string
  at?: Date
  durationMs: number
  flagged: boolean
}

export interface ReviewRun {
  id: string
  templateId: string
  activity: string
  officer: string
  startedAt?: Date
  endedAt?: Date
  observations: RunObservationView[]
  stepsObserved: number
  stepsCorrect: number
}

export interface ReviewItem {
  /** The finding as the view's components show it; evidence files named by the relay (snapshot, clip, photo-N, recheck-N). */
  finding: Finding
  siteName?: LocalizedName
  district?: LocalizedName
  siteType: string
  overdue: boolean
  review: ReviewMark
  outcomes: Outcome[]
  repeat: boolean
  runId: string
  /** The site's clock, when the relay says it. */
  timeZone: string
}

export interface ReviewDetail extends ReviewItem {
  comments: ReviewComment[]
  run?: ReviewRun
}

export interface ReviewPage {
  items: ReviewItem[]
  total: number
  next: string
}

export interface FacetName {
  key: string
  name: LocalizedName
}

export interface Facets {
  districts: FacetName[]
  sites: { id: string; name: LocalizedName; district: string; siteType: string }[]
  siteTypes: string[]
  templates: { id: string; title: LocalizedName }[]
  deviations: { template: string; id: string; title: LocalizedName }[]
  officers: string[]
  severities: string[]
  statuses: string[]
  outcomes: string[]
}

const s = (v: unknown): string => (typeof v === 'string' ? v : '')
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

function nameOrUndefined(v: unknown, where: string, field: string): LocalizedName | undefined {
  return isObject(v) && (v['zh-CN'] || v.en) ? parseName(v, where, field) : undefined
}

/** A name that may be missing: the key stands in for it. */
function nameOr(v: unknown, key: string): LocalizedName {
  return isObject(v) && (v['zh-CN'] || v.en) ? { 'zh-CN': s(v['zh-CN']) || s(v.en), en: s(v.en) || s(v['zh-CN']) } : { 'zh-CN': key, en: key }
}

/** The words an event of the relay's history carries, whatever its kind. */
function eventNote(d: unknown): string {
  if (!isObject(d)) return ''
  if (typeof d.doc_number === 'string' && d.doc_number) return [s(d.kind), d.doc_number, s(d.note)].filter(Boolean).join(' ')
  return s(d.note) || s(d.reason) || s(d.text)
}

function outcome(v: unknown): Outcome | undefined {
  if (!isObject(v)) return undefined
  return { kind: s(v.kind), docNumber: s(v.doc_number), note: s(v.note), by: s(v.by), at: time(v.at) }
}

export function parseReviewItem(v: unknown, where: string): ReviewItem {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const id = s(v.id)
  // The relay's evidence, named as its evidence address names it.
  const ev = isObject(v.evidence) ? v.evidence : {}
  const flat: Record<string, unknown> = { ...v }
  if (isObject(ev.snapshot)) flat.snapshot = { state: 'complete', file: s(ev.snapshot.name) || 'snapshot' }
  if (isObject(ev.clip)) flat.clip = { state: 'complete', file: s(ev.clip.name) || 'clip' }
  flat.photos = (Array.isArray(ev.photos) ? ev.photos : []).filter(isObject).map((p) => ({ name: s(p.name), file: s(p.name), added_at: p.added_at }))
  delete flat.events
  const finding = parseFinding(flat, where)
  const events: FindingEvent[] = []
  const byCursor = new Map<number, { actor: string; action: string; at?: Date }>()
  if (Array.isArray(v.events)) {
    for (const e of v.events.filter(isObject)) {
      const fe: FindingEvent = { at: time(e.at), actor: s(e.actor), action: s(e.action) }
      const note = eventNote(e.detail)
      if (note) fe.note = note
      events.push(fe)
      byCursor.set(n(e.cursor), fe)
    }
    finding.events = events
  }
  // A re-check's snapshot recheck-N and clip recheck_clip-N go together, with the history entry N.
  const rechecks = new Map<string, RecheckFile>()
  const recheckOf = (cursor: string, added: unknown): RecheckFile => {
    let rc = rechecks.get(cursor)
    if (!rc) {
      const by = byCursor.get(Number(cursor))
      rc = { file: '', actor: by?.actor ?? '', action: by?.action ?? '', at: by?.at ?? time(added) }
      rechecks.set(cursor, rc)
    }
    return rc
  }
  for (const r of (Array.isArray(ev.rechecks) ? ev.rechecks : []).filter(isObject)) {
    const name = s(r.name)
    recheckOf(name.replace(/^recheck-/, ''), r.added_at).file = name
  }
  for (const r of (Array.isArray(ev.recheck_clips) ? ev.recheck_clips : []).filter(isObject)) {
    const name = s(r.name)
    recheckOf(name.replace(/^recheck_clip-/, ''), r.added_at).clip = { state: 'complete', file: name }
  }
  finding.rechecks = [...rechecks.values()]
  const rv = isObject(v.review) ? v.review : {}
  return {
    finding: { ...finding, id: id || finding.id },
    siteName: nameOrUndefined(v.site_name, where, 'site_name'),
    district: nameOrUndefined(v.district, where, 'district'),
    siteType: s(v.site_type),
    overdue: v.overdue === true,
    review: { reviewed: rv.reviewed === true, reviewedBy: s(rv.reviewed_by), reviewedAt: time(rv.reviewed_at), comments: n(rv.comments) },
    outcomes: (Array.isArray(v.outcomes) ? v.outcomes : []).map(outcome).filter((o): o is Outcome => !!o),
    repeat: v.repeat === true,
    runId: s(v.run_id),
    timeZone: s(v.time_zone),
  }
}

export function parseReviewPage(v: unknown, where: string): ReviewPage {
  if (!isObject(v) || !Array.isArray(v.items)) throw new ContractError(where, 'no "items" list')
  if (typeof v.total !== 'number') throw new ContractError(where, '"total" is not a number')
  return { items: v.items.map((x, i) => parseReviewItem(x, `${where}: item ${i}`)), total: v.total, next: s(v.next) }
}

function parseRun(v: unknown): ReviewRun | undefined {
  if (!isObject(v) || !s(v.id)) return undefined
  return {
    id: s(v.id),
    templateId: s(v.template_id),
    activity: s(v.activity),
    officer: s(v.officer),
    startedAt: time(v.started_at),
    endedAt: time(v.ended_at),
    observations: (Array.isArray(v.observations) ? v.observations : []).filter(isObject).map((o) => ({
      step: s(o.step),
      mark: s(o.mark),
      deviation: s(o.deviation),
      deviationText: s(o.deviation_text),
      at: time(o.at),
      durationMs: n(o.duration_ms),
      flagged: o.flagged === true,
    })),
    stepsObserved: n(v.steps_observed),
    stepsCorrect: n(v.steps_correct),
  }
}

export function parseReviewDetail(v: unknown, where: string): ReviewDetail {
  const item = parseReviewItem(v, where)
  const o = v as Record<string, unknown>
  if (!item.finding.events) item.finding.events = []
  return {
    ...item,
    comments: (Array.isArray(o.comments) ? o.comments : []).filter(isObject).map((c) => ({ id: String(c.id ?? ''), by: s(c.by), at: time(c.at), text: s(c.text) })),
    run: parseRun(o.run),
  }
}

export function parseFacets(v: unknown, where: string): Facets {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const list = (x: unknown) => (Array.isArray(x) ? x.filter(isObject) : [])
  return {
    districts: list(v.districts).map((d) => ({ key: s(d.key), name: nameOr(d.name, s(d.key)) })),
    sites: list(v.sites).map((x) => ({ id: s(x.id), name: nameOr(x.name, s(x.id)), district: s(x.district), siteType: s(x.site_type) })),
    siteTypes: strings(v.site_types),
    templates: list(v.templates).map((x) => ({ id: s(x.id), title: nameOr(x.title, s(x.id)) })),
    deviations: list(v.deviations).map((x) => ({ template: s(x.template), id: s(x.id), title: nameOr(x.title, s(x.id)) })),
    officers: strings(v.officers),
    severities: strings(v.severities),
    statuses: strings(v.statuses),
    outcomes: strings(v.outcomes),
  }
}

export interface OutcomeRequest {
  kind: OutcomeKind
  docNumber: string
  note: string
}

export function outcomeJSON(o: OutcomeRequest): Record<string, string> {
  return { kind: o.kind, doc_number: o.docNumber, note: o.note }
}
