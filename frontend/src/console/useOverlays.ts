// Where the keyboard is on the signed-in screen: one modal overlay at most,
// else a region (the wall, the camera list, the checklist, the findings
// panel). The region holding the focus is kept in `region`, for the screen
// to show which one the keys go to. Closing an overlay gives the keyboard
// back to the region it was opened from: Esc walks back one level.
import { computed, nextTick, onBeforeUnmount, onMounted, ref } from 'vue'
import { escTarget, regionOf, type Region } from '../keys/region'

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
  // The region holding the focus.
  const focusedRegion = ref<Region>('wall')
  /** The region the keys go to now: a dialog over everything has them all. */
  const region = computed<Region>(() => (overlay.value ? 'dialog' : focusedRegion.value))
  // The region the open overlay was opened from, for Esc to go back to.
  let openedFrom: Region | undefined

  /** Gives the keyboard to a region; one not on screen gives it to the wall. */
  function focusRegion(r: Region): void {
    const view = { wall: wallView, tree: treeView, findings: findingsView, checklist: checklistView, dialog: undefined }[r]?.value
    ;(view ?? wallView.value)?.focus()
  }

  /** The keyboard back to the work: the checklist when it is open, else the wall. */
  function backToWork(): void {
    ;(checklistView.value ?? wallView.value)?.focus()
  }

  /** The keyboard back to where the overlay was opened from. */
  function back(): void {
    focusRegion(escTarget('dialog', openedFrom, { findings: !!findingsView.value, checklist: !!checklistView.value }))
  }

  function open(o: Overlay): void {
    // One overlay opening another (a menu's editor) keeps the first one's origin.
    if (overlay.value === null) openedFrom = focusedRegion.value
    overlay.value = o
    opts.opened?.(o)
  }

  /** Closes the overlay; once it is gone, `then` places the keyboard (by default back where it was). */
  function close(then: () => void = back): void {
    overlay.value = null
    void nextTick(then)
  }

  // The focus moving is the one thing that moves the keys, so the region
  // shown follows it. Focus leaving for nothing (an element removed, a
  // click on the page) leaves the keys with the window, that is the wall.
  const moved = (e: FocusEvent) => {
    focusedRegion.value = e.type === 'focusin' ? regionOf(e.target as Element) : regionOf(e.relatedTarget as Element | null)
  }
  onMounted(() => {
    document.addEventListener('focusin', moved)
    document.addEventListener('focusout', moved)
  })
  onBeforeUnmount(() => {
    document.removeEventListener('focusin', moved)
    document.removeEventListener('focusout', moved)
  })

  return { overlay, region, wallView, treeView, checklistView, findingsView, focusRegion, backToWork, back, open, close }
}

export type Overlays = ReturnType<typeof useOverlays>
