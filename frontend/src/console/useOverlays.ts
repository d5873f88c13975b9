// Where the keyboard is on the signed-in screen: one modal overlay at most,
// else a region (the wall, the camera list, the checklist, the findings
// panel). Closing an overlay gives the keyboard back to the work it
// covered: the checklist when one is open, else the wall.
import { nextTick, ref } from 'vue'

export type Overlay = 'help' | 'layouts' | 'tours' | 'save' | 'settings' | 'tourEditor' | 'flag' | 'finding'

/** A region that can take the keyboard: what its component exposes. */
export interface Focusable {
  focus(): void
}

export function useOverlays(opts: { opened?(o: Overlay): void } = {}) {
  const overlay = ref<Overlay | null>(null)
  // Bound to the components with ref="…": undefined while not on screen.
  const wallView = ref<Focusable>()
  const treeView = ref<Focusable & { focusFilter(): void }>()
  const checklistView = ref<Focusable>()
  const findingsView = ref<Focusable & { choose(id: string): void }>()

  /** The keyboard back to the work: the checklist when it is open, else the wall. */
  function backToWork(): void {
    ;(checklistView.value ?? wallView.value)?.focus()
  }

  function open(o: Overlay): void {
    overlay.value = o
    opts.opened?.(o)
  }

  /** Closes the overlay; once it is gone, `then` places the keyboard (by default back on the work). */
  function close(then: () => void = backToWork): void {
    overlay.value = null
    void nextTick(then)
  }

  return { overlay, wallView, treeView, checklistView, findingsView, backToWork, open, close }
}

export type Overlays = ReturnType<typeof useOverlays>
