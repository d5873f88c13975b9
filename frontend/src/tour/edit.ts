// Making and changing tours: the rules the backend enforces, checked before
// sending so the editor can point at the step that is wrong.
import { isCameraKey, type Tour, type TourStep } from '../api'
import { nameProblem, type NameProblem } from '../wall/layout'

/** The backend's bounds on a step's dwell, in seconds. */
export const minDwellS = 3
export const maxDwellS = 3600
export const defaultDwellS = 15

export type TourProblem =
  | { kind: 'name'; problem: NameProblem }
  | { kind: 'noSteps' }
  | { kind: 'dwell'; step: number }
  | { kind: 'camera'; step: number }
  | { kind: 'layout'; step: number }

/** Everything wrong with a tour, steps numbered from 0; empty when it can be saved. */
export function tourProblems(t: Tour, layouts: readonly string[]): TourProblem[] {
  const out: TourProblem[] = []
  const n = nameProblem(t.name)
  if (n) out.push({ kind: 'name', problem: n })
  if (t.steps.length === 0) out.push({ kind: 'noSteps' })
  t.steps.forEach((s, step) => {
    if (!Number.isInteger(s.dwellS) || s.dwellS < minDwellS || s.dwellS > maxDwellS) out.push({ kind: 'dwell', step })
    if ('camera' in s && !isCameraKey(s.camera)) out.push({ kind: 'camera', step })
    if ('layout' in s && !layouts.includes(s.layout)) out.push({ kind: 'layout', step })
  })
  return out
}

/** One camera step for each camera on the wall, in tile order, each once. */
export function stepsFromWall(tiles: readonly (string | null)[], dwellS = defaultDwellS): TourStep[] {
  const seen = new Set<string>()
  const out: TourStep[] = []
  for (const c of tiles) {
    if (c && !seen.has(c)) {
      seen.add(c)
      out.push({ camera: c, dwellS })
    }
  }
  return out
}

/** The steps with step i moved by `by` places (-1 up, +1 down); unchanged at the ends. */
export function moveStep(steps: readonly TourStep[], i: number, by: -1 | 1): TourStep[] {
  const j = i + by
  if (i < 0 || i >= steps.length || j < 0 || j >= steps.length) return [...steps]
  const out = [...steps]
  ;[out[i], out[j]] = [out[j]!, out[i]!]
  return out
}

export function withDwell(steps: readonly TourStep[], i: number, dwellS: number): TourStep[] {
  return steps.map((s, j) => (j === i ? { ...s, dwellS } : s))
}

export function withoutStep(steps: readonly TourStep[], i: number): TourStep[] {
  return steps.filter((_, j) => j !== i)
}
