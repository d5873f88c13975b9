// The tour mode "least recently watched first" (最久未看优先): the cameras in
// the order of when anyone last watched them, never-watched first, each for
// its dwell; at every step the order is made again from what is known then
// (the relay's coverage and what this officer has just seen), so the tour
// follows the duty room's watching instead of a fixed list. And a key
// moment's jump: a running tour shows the moment's cameras next, then
// carries on where it was.
import { watch } from 'vue'
import type { Tour, TourStep } from '../api'
import type { ToursState } from './useTours'

export const leastWatchedName = 'least-watched'

/**
 * The plan: cameras by when last watched (ms, any clock; undefined never),
 * oldest first, ties by key; `first` (the camera on screen) kept first so
 * that re-planning does not change what is shown.
 */
export function planLeastWatched(cameras: readonly string[], lastWatched: (camera: string) => number | undefined, dwellS: number, first?: string): Tour {
  const at = (c: string) => lastWatched(c) ?? Number.NEGATIVE_INFINITY
  const order = [...cameras].sort((a, b) => at(a) - at(b) || a.localeCompare(b))
  if (first && order.includes(first)) {
    order.splice(order.indexOf(first), 1)
    order.unshift(first)
  }
  return {
    name: leastWatchedName,
    title: { 'zh-CN': '最久未看优先', en: 'Least recently watched first' },
    steps: order.map((camera) => ({ camera, dwellS })),
  }
}

/** The steps of `tour` from its step `index` on, with `cameras` shown first. */
export function withMomentFirst(tour: Tour, index: number, cameras: readonly string[], dwellS: number): Tour {
  const rest = [...tour.steps.slice(index + 1), ...tour.steps.slice(0, index + 1)]
  const moment: TourStep[] = cameras.map((camera) => ({ camera, dwellS }))
  return { ...tour, steps: [...moment, ...rest.filter((s) => !('camera' in s) || !cameras.includes(s.camera))] }
}

export interface LeastWatchedOptions {
  cameras(): readonly string[]
  lastWatched(camera: string): number | undefined
  dwellS?: number
}

/** Runs the mode on the tours' engine and re-plans it at every step. */
export function useLeastWatched(tours: ToursState, opts: LeastWatchedOptions) {
  const dwellS = opts.dwellS ?? 20
  let running: Tour | undefined
  function start(): boolean {
    running = planLeastWatched(opts.cameras(), opts.lastWatched, dwellS)
    return tours.engine.start(running)
  }
  watch(
    () => tours.state.value.advances,
    (n) => {
      const s = tours.state.value
      if (s.tour !== leastWatchedName || n <= 1 || !s.step || !('camera' in s.step)) return
      // A step went by: plan again with the camera on screen kept first.
      running = planLeastWatched(opts.cameras(), opts.lastWatched, dwellS, s.step.camera)
      tours.engine.start(running)
      if (s.status === 'paused' && s.pausedBy === 'user') tours.engine.pause()
    },
  )
  /** A key moment: the running tour shows its cameras now. False when no tour runs. */
  function jumpTo(cameras: readonly string[]): boolean {
    const s = tours.state.value
    if (s.status === 'stopped' || cameras.length === 0) return false
    const tour = s.tour === leastWatchedName ? running : tours.list.value.find((x) => x.name === s.tour)
    if (!tour) return false
    return tours.engine.start(withMomentFirst(tour, s.index, cameras, Math.max(dwellS, 30)))
  }
  return { start, jumpTo }
}
