// The checklist and findings shapes of the console backend (docs/PROTOCOLS.md,
// "Round 3 additions"), and the checks that turn its JSON into them.
import type { LocalizedName } from './types'
import { ContractError, isObject, parseName, str, time } from './parse'

export type Severity = 'critical' | 'major' | 'minor'
export const severities: readonly Severity[] = ['critical', 'major', 'minor']

export type Mark = 'done' | 'deviation' | 'not_seen' | ''

/** A deviation in a template's catalogue: what a finding is about. */
export interface Deviation {
  id: string
  text: LocalizedName
  severity: Severity
  /** How long the site has to put it right. */
  deadlineS: number
}

export interface ChecklistStep {
  id: string
  text: LocalizedName
  /** A timed step (the hand rub): shorter than this is a deviation. */
  minDurationS?: number
  /** The catalogue entries this step names (out of order, too short, missed). */
  deviations: string[]
}

export interface Template {
  id: string
  version: number
  title: LocalizedName
  zones: string[]
  steps: ChecklistStep[]
  deviations: Deviation[]
}

export interface Observation {
  step: string
  mark: Mark
  deviation?: string
  /** A deviation in the officer's own words, the run's record of it. */
  deviationText?: string
  at?: Date
  durationS?: number
}

/** A deviation the run raised by itself (out of order, timed too short). */
export interface RunFlag {
  step: string
  deviation: string
  reason: LocalizedName
}

export interface RunState {
  id: string
  template: Template
  observations: Observation[]
}

export interface RunUpdate {
  observations: Observation[]
  flags: RunFlag[]
  durationS?: number
}

export type EvidenceState = 'recording' | 'complete' | 'incomplete'

export interface Evidence {
  state: EvidenceState | string
  file?: string
  width?: number
  height?: number
  durationMs?: number
}

export type ForwardState = 'local' | 'forwarded' | 'failing'

export interface Finding {
  id: string
  site: string
  /** "SITE/CAMERA", like every camera in the view. */
  camera: string
  zone: string
  templateId?: string
  step?: string
  deviation?: string
  deviationText: string
  /** The catalogue's words for the deviation in each language; absent for free text (findings/text.ts findingTitle). */
  deviationTitle?: LocalizedName
  severity: Severity | string
  note: string
  observer: string
  observedAt?: Date
  flaggedAt?: Date
  deadline?: Date
  status: string
  statusNote?: string
  revision: number
  /** The backend's last change of the finding: for a rectified one, the site's report. */
  updatedAt?: Date
  snapshot?: Evidence
  clip?: Evidence
  /**
   * retrying: the backend retries by itself (the relay unreachable); otherwise a failure was a refusal, which retryFinding sends again.
   * waitingFor: the relay the finding was flagged under, when the console is on another one (or none): it goes there only (docs/PROTOCOLS.md, round 5).
   */
  forward?: Forward
  /** console: flagged on this console; relay: another console's, kept from the relay (issue 11). */
  origin?: string
  /** The site's photos of its rectification, as the relay lists them. */
  photos?: RelayFile[]
  /** The snapshots officers re-checked the finding on, with their verify or reopen. */
  rechecks?: RecheckFile[]
  /** The whole history: GET /api/v1/findings/{id} only. */
  events?: FindingEvent[]
}

/** An evidence file the relay lists; `file` is served by the console backend (evidenceURL). */
export interface RelayFile {
  name: string
  file: string
  addedAt?: Date
}

/** A re-check's evidence: its snapshot (file, '' when the view had no picture) and the clip around it. */
export interface RecheckFile {
  file: string
  actor: string
  action: string
  at?: Date
  /** Recording, then complete or incomplete as a finding's clip; absent when none was recorded. */
  clip?: Evidence
}

/** One change of a finding: the console's own and the relay's (the site's, other officers'). */
export interface FindingEvent {
  at?: Date
  actor: string
  action: string
  note?: string
}

/** How current the relay's findings in the list are (GET /api/v1/findings, "relay"). */
export interface Freshness {
  relay: string
  asOf?: Date
  reachable: boolean
}

export function parseFreshness(v: unknown): Freshness | undefined {
  if (!isObject(v) || !isObject(v.relay)) return undefined
  const r = v.relay
  return { relay: typeof r.relay === 'string' ? r.relay : '', asOf: time(r.as_of), reachable: r.reachable === true }
}

/** A verify's or reopen's body: the note, a reopen's deadline, and the frame re-checked on. */
export interface RecheckShot {
  /** Base64 JPEG, without the data: prefix. */
  jpegBase64: string
  width: number
  height: number
  /** The frame's camera ("SITE/CAMERA"), stream and presentation time: the backend records the clip around it, as a flag's. */
  camera?: string
  stream?: 'main' | 'sub'
  ptsUs?: number
}

export function recheckJSON(note: string, deadline?: Date, shot?: RecheckShot): Record<string, unknown> {
  const out: Record<string, unknown> = { note }
  if (deadline) out.deadline = deadline.toISOString()
  if (shot?.jpegBase64) {
    out.snapshot = shot.jpegBase64
    out.snapshot_width = shot.width
    out.snapshot_height = shot.height
  }
  if (shot?.camera && typeof shot.ptsUs === 'number') {
    out.camera = shot.camera
    out.stream = shot.stream ?? 'main'
    out.pts_us = Math.max(0, Math.round(shot.ptsUs))
  }
  return out
}

export interface Forward {
  state: ForwardState | string
  error?: string
  retrying?: boolean
  waitingFor?: string
}

/**
 * What a finding's forward state reads as: the key under findings.forward
 * (the detail) and findings.forwardBadge (the list), with its parameters.
 * Waiting for its own relay says which, whatever the state.
 */
export function forwardMessage(fw: Forward | undefined): { key: string; params: Record<string, string> } | undefined {
  if (!fw) return undefined
  if (fw.waitingFor) return { key: 'waiting', params: { relay: fw.waitingFor } }
  if (fw.state === 'local' || fw.state === 'forwarded' || fw.state === 'failing') return { key: fw.state, params: { error: fw.error ?? '' } }
  return undefined
}

/** What the view sends to flag: the frame on screen and what is wrong with it. */
export interface FlagRequest {
  camera: string
  stream: 'main' | 'sub'
  ptsUs?: number
  templateId?: string
  templateVersion?: number
  step?: string
  deviation?: string
  deviationText?: string
  /** A checklist rule's words in each language, when the catalogue has no entry for it. */
  deviationTitle?: LocalizedName
  severity?: Severity
  note?: string
  deadline?: Date
  /** Base64 JPEG, without the data: prefix. */
  snapshot?: string
  snapshotWidth?: number
  snapshotHeight?: number
}

export interface FindingEdit {
  note?: string
  severity?: Severity
  deadline?: Date
}

export function flagJSON(f: FlagRequest): Record<string, unknown> {
  const out: Record<string, unknown> = { camera: f.camera, stream: f.stream }
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== '') out[k] = v
  }
  put('pts_us', f.ptsUs)
  put('template_id', f.templateId)
  put('template_version', f.templateVersion)
  put('step', f.step)
  put('deviation', f.deviation)
  put('deviation_text', f.deviationText)
  if (f.deviationTitle) out.deviation_title = { 'zh-CN': f.deviationTitle['zh-CN'], en: f.deviationTitle.en }
  put('severity', f.severity)
  put('note', f.note)
  put('deadline', f.deadline?.toISOString())
  put('snapshot', f.snapshot)
  put('snapshot_width', f.snapshotWidth)
  put('snapshot_height', f.snapshotHeight)
  return out
}

/** Which findings GET /api/v1/findings lists: with a filter, every age (docs/PROTOCOLS.md, round 5). */
export interface FindingsQuery {
  since?: Date
  statuses?: string[]
  overdue?: boolean
}

export function findingsPath(q: FindingsQuery = {}): string {
  const params = new URLSearchParams()
  if (q.since) params.set('since', q.since.toISOString())
  if (q.statuses?.length) params.set('status', q.statuses.join(','))
  if (q.overdue !== undefined) params.set('overdue', q.overdue ? '1' : '0')
  const s = params.toString()
  return s ? `/api/v1/findings?${s}` : '/api/v1/findings'
}

/** The `findings` view event: the ids of findings to read again. */
export function parseFindingsEvent(v: unknown, where: string): string[] {
  if (!isObject(v) || !Array.isArray(v.ids)) throw new ContractError(where, 'no "ids" list')
  return v.ids.filter((id): id is string => typeof id === 'string' && id !== '')
}

export function editJSON(e: FindingEdit): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (e.note !== undefined) out.note = e.note
  if (e.severity !== undefined) out.severity = e.severity
  if (e.deadline !== undefined) out.deadline = e.deadline.toISOString()
  return out
}

export function parseTemplates(v: unknown, where: string): Template[] {
  if (!isObject(v) || !Array.isArray(v.templates)) throw new ContractError(where, 'no "templates" list')
  return v.templates.map((t, i) => parseTemplate(t, `${where}: template ${i}`))
}

export function parseTemplate(v: unknown, where: string): Template {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  if (!Array.isArray(v.steps)) throw new ContractError(where, '"steps" is not a list')
  const deviations = Array.isArray(v.deviations) ? v.deviations : []
  return {
    id: str(v.id, where, 'id'),
    version: typeof v.version === 'number' ? v.version : 0,
    title: parseName(v.title, where, 'title'),
    zones: Array.isArray(v.zones) ? v.zones.filter((z): z is string => typeof z === 'string') : [],
    steps: v.steps.map((s, i) => {
      const at = `${where}: step ${i}`
      if (!isObject(s)) throw new ContractError(at, 'not an object')
      const named = [s.order_deviation, s.short_deviation, s.missed_deviation].filter((d): d is string => typeof d === 'string' && d !== '')
      const step: ChecklistStep = { id: str(s.id, at, 'id'), text: parseName(s.text, at, 'text'), deviations: [...new Set(named)] }
      if (typeof s.min_duration_s === 'number' && s.min_duration_s > 0) step.minDurationS = s.min_duration_s
      return step
    }),
    deviations: deviations.map((d, i) => {
      const at = `${where}: deviation ${i}`
      if (!isObject(d)) throw new ContractError(at, 'not an object')
      const severity = severities.includes(d.severity as Severity) ? (d.severity as Severity) : 'major'
      return { id: str(d.id, at, 'id'), text: parseName(d.text, at, 'text'), severity, deadlineS: typeof d.deadline_s === 'number' ? d.deadline_s : 0 }
    }),
  }
}

export function parseRun(v: unknown, where: string): RunState {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  return { id: str(v.id, where, 'id'), template: parseTemplate(v.template, `${where}: template`), observations: parseObservations(v.observations, where) }
}

export function parseRunUpdate(v: unknown, where: string): RunUpdate {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const flags = Array.isArray(v.flags) ? v.flags : []
  const u: RunUpdate = {
    observations: parseObservations(v.observations, where),
    flags: flags.map((f, i) => {
      const at = `${where}: flag ${i}`
      if (!isObject(f)) throw new ContractError(at, 'not an object')
      return { step: str(f.step, at, 'step'), deviation: str(f.deviation, at, 'deviation'), reason: isObject(f.reason) ? parseName(f.reason, at, 'reason') : { 'zh-CN': '', en: '' } }
    }),
  }
  if (typeof v.duration_s === 'number') u.durationS = v.duration_s
  return u
}

function parseObservations(v: unknown, where: string): Observation[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new ContractError(where, '"observations" is not a list')
  return v.map((o, i) => {
    const at = `${where}: observation ${i}`
    if (!isObject(o)) throw new ContractError(at, 'not an object')
    const obs: Observation = { step: str(o.step, at, 'step'), mark: (typeof o.mark === 'string' ? o.mark : '') as Mark }
    if (typeof o.deviation === 'string' && o.deviation) obs.deviation = o.deviation
    if (typeof o.deviation_text === 'string' && o.deviation_text) obs.deviationText = o.deviation_text
    const t = time(o.at)
    if (t) obs.at = t
    if (typeof o.duration_s === 'number') obs.durationS = o.duration_s
    return obs
  })
}

export function parseFindings(v: unknown, where: string): Finding[] {
  if (!isObject(v) || !Array.isArray(v.findings)) throw new ContractError(where, 'no "findings" list')
  return v.findings.map((f, i) => parseFinding(f, `${where}: finding ${i}`))
}

export function parseFinding(v: unknown, where: string): Finding {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const site = typeof v.site === 'string' ? v.site : ''
  const camera = str(v.camera, where, 'camera')
  const f: Finding = {
    id: str(v.id, where, 'id'),
    site,
    // The view keys cameras "SITE/CAMERA"; the store keeps the two apart.
    camera: camera.includes('/') || !site ? camera : `${site}/${camera}`,
    zone: typeof v.zone === 'string' ? v.zone : '',
    deviationText: typeof v.deviation_text === 'string' ? v.deviation_text : '',
    severity: typeof v.severity === 'string' ? v.severity : '',
    note: typeof v.note === 'string' ? v.note : '',
    observer: typeof v.observer === 'string' ? v.observer : '',
    observedAt: time(v.observed_at),
    flaggedAt: time(v.flagged_at),
    deadline: time(v.deadline),
    status: typeof v.status === 'string' ? v.status : '',
    revision: typeof v.revision === 'number' ? v.revision : 0,
    updatedAt: time(v.updated_at),
  }
  if (typeof v.template_id === 'string' && v.template_id) f.templateId = v.template_id
  if (typeof v.step === 'string' && v.step) f.step = v.step
  if (typeof v.deviation === 'string' && v.deviation) f.deviation = v.deviation
  if (isObject(v.deviation_title) && (v.deviation_title['zh-CN'] || v.deviation_title.en)) f.deviationTitle = parseName(v.deviation_title, where, 'deviation_title')
  if (typeof v.status_note === 'string' && v.status_note) f.statusNote = v.status_note
  const snap = evidence(v.snapshot)
  if (snap) f.snapshot = snap
  const clip = evidence(v.clip)
  if (clip) f.clip = clip
  if (typeof v.origin === 'string' && v.origin) f.origin = v.origin
  if (Array.isArray(v.photos)) {
    f.photos = v.photos.filter(isObject).map((p) => ({ name: typeof p.name === 'string' ? p.name : '', file: typeof p.file === 'string' ? p.file : '', addedAt: time(p.added_at) }))
  }
  if (Array.isArray(v.rechecks)) {
    f.rechecks = v.rechecks
      .filter(isObject)
      .map((r) => {
        const rc: RecheckFile = { file: typeof r.file === 'string' ? r.file : '', actor: typeof r.actor === 'string' ? r.actor : '', action: typeof r.action === 'string' ? r.action : '', at: time(r.at) }
        const c = evidence(r.clip)
        if (c) rc.clip = c
        return rc
      })
  }
  if (Array.isArray(v.events)) {
    f.events = v.events.filter(isObject).map((e) => {
      const ev: FindingEvent = { at: time(e.at), actor: typeof e.actor === 'string' ? e.actor : '', action: typeof e.action === 'string' ? e.action : '' }
      const d = e.detail
      const note = isObject(d) ? (typeof d.note === 'string' ? d.note : typeof d.reason === 'string' ? d.reason : '') : ''
      if (note) ev.note = note
      return ev
    })
  }
  if (isObject(v.forward) && typeof v.forward.state === 'string') {
    f.forward = { state: v.forward.state }
    if (typeof v.forward.error === 'string' && v.forward.error) f.forward.error = v.forward.error
    if (v.forward.retrying === true) f.forward.retrying = true
    if (typeof v.forward.waiting_for === 'string' && v.forward.waiting_for) f.forward.waitingFor = v.forward.waiting_for
  }
  return f
}

function evidence(v: unknown): Evidence | undefined {
  if (!isObject(v)) return undefined
  const e: Evidence = { state: typeof v.state === 'string' ? v.state : '' }
  if (typeof v.file === 'string' && v.file) e.file = v.file
  if (typeof v.width === 'number') e.width = v.width
  if (typeof v.height === 'number') e.height = v.height
  if (typeof v.duration_ms === 'number') e.durationMs = v.duration_ms
  return e
}

