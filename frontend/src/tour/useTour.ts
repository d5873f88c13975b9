// The tour engine inside Vue: its state as a ref (changing per step, not per
// frame) and in window.__qly.tour for the end-to-end tests.
import { onScopeDispose, ref, shallowRef } from 'vue'
import type { TourStep } from '../api'
import { debug } from '../player'
import { TourEngine, type TourState } from './engine'

export function useTour(opts: { show(step: TourStep, index: number): boolean; stopped(state: TourState): void; resumeAfterMs?: number }) {
  const state = shallowRef<TourState>({ tour: '', index: -1, steps: 0, status: 'stopped', remainingMs: 0, dwellMs: 0, advances: 0 })
  /** When `state` was taken, for counting down. */
  const at = ref(Date.now())
  const engine = new TourEngine({
    show: opts.show,
    resumeAfterMs: opts.resumeAfterMs,
    changed: (s) => {
      const was = state.value.status
      state.value = s
      at.value = Date.now()
      const d = debug()
      if (d) d.tour = { ...s, step: s.step ? { ...s.step } : null, at: at.value }
      if (s.status === 'stopped' && (was !== 'stopped' || s.stoppedBecause)) opts.stopped(s)
    },
  })
  const d = debug()
  if (d) d.tour = { ...state.value, step: null, at: at.value }
  onScopeDispose(() => engine.stop())
  return { state, at, engine }
}
