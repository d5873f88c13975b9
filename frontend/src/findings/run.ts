// The checklist run as the officer sees it: each step's mark, its timer, and
// the findings the backend's order rules propose. The rules themselves run
// in Go (checklist.Run); this only keeps what the answers said.
import type { ChecklistStep, Mark, Observation, RunFlag, RunRecord, RunUpdate, Template } from '../api'
import { localName } from '../i18n/format'
import type { Locale } from '../i18n/messages'

/** Milliseconds since some fixed point; injected so tests can move time. */
export type Clock = () => number

export interface StepView {
  id: string
  step: ChecklistStep
  mark: Mark
  deviation?: string
  /** Set while the officer's timer for this step runs (clock ms). */
  timerStartedAt?: number
  /** The duration the backend measured, once stopped. */
  durationS?: number
  /** A deviation in the officer's own words: the backend's run knows only catalogue ones. */
  freeText?: string
}

export type ProposalState = 'proposed' | 'saving' | 'confirmed' | 'dismissed'

/** A flag from the run, waiting for the officer to confirm or dismiss it. */
export interface Proposal<S = unknown> {
  key: string
  flag: RunFlag
  state: ProposalState
  /** The picture on screen when the mark that raised it was made. */
  snapshot?: S
  findingId?: string
  error?: string
  /** A confirmed one a newer proposal took the place of: no longer shown. */
  cleared?: boolean
}

/**
 * How a step's mark is drawn. A step done but found wanting (a rub stopped
 * short of its minimum, or a proposed finding about it not dismissed) is
 * done with a deviation: never a plain green ✓.
 */
export type ShownMark = Mark | 'done_deviation'

/** A box on screen, as getBoundingClientRect gives it. */
export interface Box {
  top: number
  bottom: number
  left: number
  right: number
}

/**
 * Whether a box is wholly inside each box that clips it (the scrolling
 * panel, the window): a proposal is confirmed by key only when all of it,
 * down to its key hint, is on screen. An empty box (not laid out) is not.
 */
export function whollyInside(box: Box, clips: readonly Box[]): boolean {
  if (box.bottom <= box.top || box.right <= box.left) return false
  // Half a pixel for sub-pixel layout.
  const e = 0.5
  return clips.every((c) => box.top >= c.top - e && box.bottom <= c.bottom + e && box.left >= c.left - e && box.right <= c.right + e)
}

export class ChecklistRun<S = unknown> {
  readonly steps: StepView[]
  proposals: Proposal<S>[] = []
  cursor = 0
  /** Set once the officer ended the check: it takes no more marks. */
  endedAt?: Date
  /** The findings recorded as this run's. */
  findings: string[] = []

  constructor(
    readonly id: string,
    readonly template: Template,
    private readonly clock: Clock = Date.now,
  ) {
    this.steps = template.steps.map((s) => ({ id: s.id, step: s, mark: '' as Mark }))
  }

  /** Every step has a mark: the check can be ended. */
  get complete(): boolean {
    return this.steps.length > 0 && this.steps.every((s) => s.mark)
  }

  /**
   * Takes a run as the backend keeps it: marks, durations, words, running
   * timers and findings as they were, the cursor on the first step
   * without a mark.
   */
  restore(rec: RunRecord): void {
    this.observe(rec.observations)
    // A timer running when the page went away runs on from when it started.
    for (const t of rec.timers) {
      const s = this.steps.find((x) => x.id === t.step)
      if (s && !s.mark) s.timerStartedAt = t.startedAt.getTime()
    }
    this.findings = [...rec.findings]
    this.endedAt = rec.endedAt
    const next = this.steps.findIndex((s) => !s.mark)
    this.cursor = next < 0 ? Math.max(0, this.steps.length - 1) : next
  }

  get current(): StepView | undefined {
    return this.steps[this.cursor]
  }

  move(by: number): void {
    if (this.steps.length === 0) return
    this.cursor = Math.min(this.steps.length - 1, Math.max(0, this.cursor + by))
  }

  /** Moves to the first step after the cursor that has no mark yet, if any. */
  advance(): void {
    for (let i = this.cursor + 1; i < this.steps.length; i++) {
      if (!this.steps[i]!.mark) {
        this.cursor = i
        return
      }
    }
  }

  /**
   * Takes the backend's answer: marks as it holds them now, and new flags as
   * proposals carrying the picture taken when the officer pressed the key.
   * A flag already proposed (same step and deviation) is not proposed again.
   */
  apply(u: RunUpdate, snapshot?: S): Proposal<S>[] {
    this.observe(u.observations)
    const added: Proposal<S>[] = []
    for (const f of u.flags) {
      const key = `${f.step}:${f.deviation}`
      if (this.proposals.some((p) => p.key === key)) continue
      const p: Proposal<S> = { key, flag: f, state: 'proposed', snapshot }
      this.proposals.push(p)
      added.push(p)
    }
    // A new proposal takes the place of the saved ones: an old "saved"
    // box left above it would push the new one down and out of sight.
    if (added.length) for (const p of this.proposals) if (p.state === 'confirmed') p.cleared = true
    return added
  }

  /** The proposals on screen: neither dismissed nor replaced by a newer one. */
  get shown(): Proposal<S>[] {
    return this.proposals.filter((p) => p.state !== 'dismissed' && !p.cleared)
  }

  /** The step's mark as drawn (see ShownMark). */
  shownMark(step: string): ShownMark {
    const s = this.find(step)
    if (s.mark !== 'done') return s.mark
    const flagged = this.proposals.some((p) => p.flag.step === step && p.state !== 'dismissed')
    return flagged || this.short(step) ? 'done_deviation' : 'done'
  }

  observe(obs: Observation[]): void {
    const byStep = new Map(obs.map((o) => [o.step, o]))
    for (const s of this.steps) {
      const o = byStep.get(s.id)
      if (o) s.freeText = o.deviationText
      else if (s.freeText) continue
      s.mark = o?.mark ?? ''
      s.deviation = o?.deviation
      if (o?.durationS !== undefined) s.durationS = o.durationS
    }
  }

  /** Marks a deviation the catalogue has no entry for; the finding carries the words. */
  markFreeText(step: string, text: string): void {
    const s = this.find(step)
    s.mark = 'deviation'
    s.deviation = undefined
    s.freeText = text
  }

  startTimer(step: string): void {
    const s = this.find(step)
    s.timerStartedAt = this.clock()
    s.durationS = undefined
  }

  /** Stops the local timer; the backend's measured duration comes with apply(). */
  stopTimer(step: string): number {
    const s = this.find(step)
    const elapsed = this.elapsedS(step)
    s.timerStartedAt = undefined
    s.durationS = elapsed
    return elapsed
  }

  running(step: string): boolean {
    return this.find(step).timerStartedAt !== undefined
  }

  /** Seconds on the step's timer now: running, stopped, or 0 when never started. */
  elapsedS(step: string): number {
    const s = this.find(step)
    if (s.timerStartedAt !== undefined) return Math.max(0, (this.clock() - s.timerStartedAt) / 1000)
    return s.durationS ?? 0
  }

  /** A timed step stopped short of its minimum. */
  short(step: string): boolean {
    const s = this.find(step)
    const min = s.step.minDurationS
    return min !== undefined && s.timerStartedAt === undefined && s.durationS !== undefined && s.durationS < min
  }

  /** The first proposal the officer has not answered yet. */
  get pending(): Proposal<S> | undefined {
    return this.proposals.find((p) => p.state === 'proposed')
  }

  dismiss(key: string): void {
    const p = this.proposals.find((x) => x.key === key)
    if (p && p.state === 'proposed') p.state = 'dismissed'
  }

  /** The hook the end-to-end test reads: window.__qly.checklist. */
  hook(): { runId: string; templateId: string; ended: boolean; findings: string[]; observations: { step: string; mark: Mark; deviation?: string; durationS?: number }[]; flags: { step: string; deviation: string; state: ProposalState; findingId?: string }[] } {
    return {
      runId: this.id,
      templateId: this.template.id,
      ended: this.endedAt !== undefined,
      findings: [...this.findings],
      observations: this.steps.filter((s) => s.mark).map((s) => ({ step: s.id, mark: s.mark, deviation: s.deviation ?? s.freeText, durationS: s.durationS })),
      flags: this.proposals.map((p) => ({ step: p.flag.step, deviation: p.flag.deviation, state: p.state, findingId: p.findingId })),
    }
  }

  private find(step: string): StepView {
    const s = this.steps.find((x) => x.id === step)
    if (!s) throw new Error(`template ${this.template.id} has no step ${step}`)
    return s
  }
}

/** A step of the template in words, or its id when the template has no such step. */
export function stepName(template: Template, id: string, locale: Locale): string {
  const s = template.steps.find((x) => x.id === id)
  return s ? localName(s.text, locale) : id
}

/** A deviation of the template in words, or its id. */
export function deviationName(template: Template, id: string | undefined, locale: Locale): string {
  const d = template.deviations.find((x) => x.id === id)
  return d ? localName(d.text, locale) : (id ?? '')
}

/** "1:05" for a timer. */
export function timerText(seconds: number): string {
  const s = Math.floor(seconds)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/**
 * The templates for a zone, the most specific first: the doffing checklist
 * of a doffing room before the disinfection one that covers many zones, and
 * before one for every zone ("*").
 */
export function bySpecificity(templates: readonly Template[]): Template[] {
  const breadth = (t: Template) => (t.zones.includes('*') || t.zones.length === 0 ? Infinity : t.zones.length)
  return [...templates].sort((a, b) => breadth(a) - breadth(b))
}

/**
 * The run to go on with on a camera: the one going on there with the
 * template, the newest if the backend has more than one.
 */
export function openRunFor(runs: readonly RunRecord[], camera: string, templateId: string): RunRecord | undefined {
  return runs.filter((r) => r.camera === camera && r.template.id === templateId && !r.endedAt).at(-1)
}

/** The template of the newest run going on on a camera, if any. */
export function openTemplateOn(runs: readonly RunRecord[], camera: string): string | undefined {
  return runs.filter((r) => r.camera === camera && !r.endedAt).at(-1)?.template.id
}

export interface OpenRuns<S> {
  /** By "SITE/CAMERA|TEMPLATE". */
  byKey: Map<string, ChecklistRun<S>>
  /** The template last used on each camera. */
  lastTemplate: Map<string, string>
}

/**
 * The runs of this page: closing the checklist and opening it again on the
 * same camera and template goes on where the officer was.
 */
export const openRuns: OpenRuns<unknown> = { byKey: new Map(), lastTemplate: new Map() }
