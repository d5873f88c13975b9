import { describe, expect, it } from 'vitest'
import type { TourStep } from '../api'
import { moveStep, stepsFromWall, tourProblems, withDwell, withoutStep } from './edit'

const steps: TourStep[] = [
  { camera: 'site-01/doff1', dwellS: 15 },
  { layout: 'night-4', dwellS: 30 },
  { camera: 'site-02/waste', dwellS: 10 },
]

describe('tourProblems', () => {
  const cases: { name: string; tour: { name: string; steps: TourStep[] }; want: unknown[] }[] = [
    { name: 'a good tour', tour: { name: '夜班轮巡', steps }, want: [] },
    { name: 'no name', tour: { name: ' ', steps }, want: [{ kind: 'name', problem: 'empty' }] },
    { name: 'a slash in the name', tour: { name: 'a/b', steps }, want: [{ kind: 'name', problem: 'badCharacter' }] },
    { name: 'no steps', tour: { name: 't', steps: [] }, want: [{ kind: 'noSteps' }] },
    { name: 'a dwell under 3 s', tour: { name: 't', steps: [{ camera: 'a/b', dwellS: 2 }] }, want: [{ kind: 'dwell', step: 0 }] },
    { name: 'a dwell over an hour', tour: { name: 't', steps: [steps[0]!, { camera: 'a/b', dwellS: 3601 }] }, want: [{ kind: 'dwell', step: 1 }] },
    { name: 'a fractional dwell', tour: { name: 't', steps: [{ camera: 'a/b', dwellS: 4.5 }] }, want: [{ kind: 'dwell', step: 0 }] },
    { name: 'the bounds themselves', tour: { name: 't', steps: [{ camera: 'a/b', dwellS: 3 }, { camera: 'a/b', dwellS: 3600 }] }, want: [] },
    { name: 'a layout that is not saved', tour: { name: 't', steps: [{ layout: 'gone', dwellS: 5 }] }, want: [{ kind: 'layout', step: 0 }] },
    { name: 'a camera that is not SITE/CAMERA', tour: { name: 't', steps: [{ camera: 'doff1', dwellS: 5 }] }, want: [{ kind: 'camera', step: 0 }] },
  ]
  for (const c of cases) it(c.name, () => expect(tourProblems(c.tour, ['night-4'])).toEqual(c.want))
})

describe('editing steps', () => {
  it('takes each camera on the wall once, in tile order', () => {
    expect(stepsFromWall(['a/1', null, 'b/2', 'a/1'], 20)).toEqual([
      { camera: 'a/1', dwellS: 20 },
      { camera: 'b/2', dwellS: 20 },
    ])
    expect(stepsFromWall([null, null])).toEqual([])
  })

  it('moves a step up and down, not past the ends', () => {
    expect(moveStep(steps, 0, 1).map((s) => s.dwellS)).toEqual([30, 15, 10])
    expect(moveStep(steps, 2, -1).map((s) => s.dwellS)).toEqual([15, 10, 30])
    expect(moveStep(steps, 0, -1)).toEqual(steps)
    expect(moveStep(steps, 2, 1)).toEqual(steps)
    expect(moveStep(steps, 7, 1)).toEqual(steps)
  })

  it('changes a dwell and removes a step, leaving the original alone', () => {
    expect(withDwell(steps, 1, 45)[1]).toEqual({ layout: 'night-4', dwellS: 45 })
    expect(withoutStep(steps, 1).map((s) => s.dwellS)).toEqual([15, 10])
    expect(steps).toHaveLength(3)
  })
})
