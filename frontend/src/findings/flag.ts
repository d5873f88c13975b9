// The quick-flag picker's choices and defaults: a deviation from the
// catalogue brings its severity and deadline; free text gets the defaults
// below, and the officer may change any of them.
import type { ChecklistStep, Deviation, FlagRequest, Severity, Template } from '../api'
import { bySpecificity } from './run'

export const freeTextSeverity: Severity = 'major'
/** Two days, the catalogue's most common deadline. */
export const freeTextDeadlineS = 48 * 3600

export interface CatalogueEntry {
  deviation: Deviation
  template: Template
}

/**
 * Every deviation of the zone's templates, once each: the open run's
 * template first, then the most specific (a doffing room's doffing
 * deviations before the disinfection ones that every zone shares).
 */
export function catalogue(templates: readonly Template[], first?: string): CatalogueEntry[] {
  // The sort is stable: after the open run's template, specificity stands.
  const ordered = bySpecificity(templates).sort((a, b) => Number(b.id === first) - Number(a.id === first))
  const seen = new Set<string>()
  const out: CatalogueEntry[] = []
  for (const t of ordered) {
    for (const d of t.deviations) {
      if (seen.has(d.id)) continue
      seen.add(d.id)
      out.push({ deviation: d, template: t })
    }
  }
  return out
}

/** The entries for marking a step: those the step names first, the rest after. */
export function forStep(entries: readonly CatalogueEntry[], step: ChecklistStep): CatalogueEntry[] {
  const rank = (e: CatalogueEntry) => {
    const i = step.deviations.indexOf(e.deviation.id)
    return i < 0 ? Infinity : i
  }
  return [...entries].sort((a, b) => rank(a) - rank(b))
}

export interface FlagDraft {
  /** undefined: free text. */
  entry?: CatalogueEntry
  freeText: string
  severity: Severity
  deadline: Date
  note: string
  /** The checklist step being marked, and its template (a free-text deviation has no entry to name it). */
  step?: string
  template?: Template
}

/** The draft a choice starts with: the catalogue's severity and deadline from now. */
export function draftFor(entry: CatalogueEntry | undefined, now: Date): FlagDraft {
  const severity = entry?.deviation.severity ?? freeTextSeverity
  const seconds = entry && entry.deviation.deadlineS > 0 ? entry.deviation.deadlineS : freeTextDeadlineS
  return { entry, freeText: '', severity, deadline: new Date(now.getTime() + seconds * 1000), note: '' }
}

/** Why a draft cannot be saved yet (a message key), or '' when it can. */
export function draftProblem(d: FlagDraft, now: Date): string {
  if (!d.entry && !d.freeText.trim()) return 'flag.needText'
  if (Number.isNaN(d.deadline.getTime())) return 'flag.badDeadline'
  if (d.deadline.getTime() <= now.getTime()) return 'flag.pastDeadline'
  return ''
}

export interface Frame {
  camera: string
  stream: 'main' | 'sub'
  ptsUs?: number
  jpegBase64?: string
  width?: number
  height?: number
}

/** The request that files a draft with the frame taken when the key was pressed. */
export function flagRequest(d: FlagDraft, f: Frame, deviationText: string): FlagRequest {
  return {
    camera: f.camera,
    stream: f.stream,
    ptsUs: f.ptsUs,
    templateId: (d.entry?.template ?? d.template)?.id,
    templateVersion: (d.entry?.template ?? d.template)?.version,
    step: d.step,
    deviation: d.entry?.deviation.id,
    deviationText: d.entry ? deviationText : d.freeText.trim(),
    severity: d.severity,
    note: d.note.trim(),
    deadline: d.deadline,
    snapshot: f.jpegBase64,
    snapshotWidth: f.width,
    snapshotHeight: f.height,
  }
}
