// The wall on screen: the officer's own wall (kept across reloads) or, while
// a tour runs, the tour's current step. Edits go to whichever is shown; when
// the tour stops, the officer's wall comes back as it was.
import { computed, ref, shallowRef, watchEffect } from 'vue'
import type { Grid, Layout } from '../api'
import { debug } from '../player'
import { assign, emptyWall, fromLayout, neighbour, parseWall, resize, shown, swap, type Direction, type Wall } from './layout'

const storageKey = 'qly.wall'

export function useWall() {
  const saved = savedWall()
  const own = shallowRef<Wall>(saved ?? emptyWall(4))
  const tourView = shallowRef<Wall>()
  const view = computed(() => tourView.value ?? own.value)
  const tiles = computed(() => shown(view.value))
  const selected = ref(0)
  const focused = ref<number | null>(null)
  /** A tile picked up with M, to be swapped with the next one M is pressed on. */
  const marked = ref<number | null>(null)
  /** The name of the layout last restored or saved, offered when saving. */
  const layoutName = ref('')

  function update(fn: (w: Wall) => Wall): void {
    if (tourView.value) {
      tourView.value = fn(tourView.value)
    } else {
      own.value = fn(own.value)
      store(own.value)
    }
    clamp()
  }

  function clamp(): void {
    const n = view.value.grid
    if (selected.value >= n) selected.value = n - 1
    if (focused.value !== null && focused.value >= n) focused.value = null
    if (marked.value !== null && marked.value >= n) marked.value = null
  }

  function select(i: number): void {
    if (i >= 0 && i < view.value.grid) selected.value = i
    // Focus view follows the selection: the arrows flip through cameras full size.
    if (focused.value !== null) focused.value = selected.value
  }

  watchEffect(() => {
    const d = debug()
    if (!d) return
    const v = view.value
    d.wall = {
      layout: { grid: v.grid, tiles: shown(v) },
      selected: `tile-${selected.value + 1}`,
      focused: focused.value === null ? null : `tile-${focused.value + 1}`,
      marked: marked.value === null ? null : `tile-${marked.value + 1}`,
      source: tourView.value ? 'tour' : 'officer',
      layoutName: layoutName.value,
    }
  })

  return {
    view,
    tiles,
    selected,
    focused,
    marked,
    layoutName,
    /** Whether the officer's wall came from an earlier session. */
    restoredFromStorage: saved !== undefined,
    touring: computed(() => tourView.value !== undefined),
    setOwn(w: Wall): void {
      own.value = w
      store(w)
      clamp()
    },
    setGrid: (grid: Grid) => update((w) => resize(w, grid)),
    assign: (index: number, camera: string | null) => update((w) => assign(w, index, camera)),
    swap: (from: number, to: number) => update((w) => swap(w, from, to)),
    /** M: pick up the selected tile, or swap the picked-up one with it. */
    markOrSwap(): void {
      const m = marked.value
      if (m === null) {
        marked.value = selected.value
        return
      }
      marked.value = null
      if (m !== selected.value) update((w) => swap(w, m, selected.value))
    },
    /** A saved layout on the officer's own wall. */
    restore(l: Layout): void {
      tourView.value = undefined
      own.value = fromLayout(l, own.value)
      store(own.value)
      layoutName.value = l.name
      focused.value = null
      clamp()
    },
    select,
    move: (dir: Direction) => select(neighbour(view.value.grid, selected.value, dir)),
    /** What a tour step shows, or undefined to give the officer's wall back. */
    showTour(w: Wall | undefined): void {
      tourView.value = w
      focused.value = null
      marked.value = null
      clamp()
    },
  }
}

export type WallState = ReturnType<typeof useWall>

/** The officer's wall kept from an earlier session, if any. */
export function savedWall(): Wall | undefined {
  try {
    const raw = localStorage.getItem(storageKey)
    return raw ? parseWall(JSON.parse(raw)) : undefined
  } catch {
    return undefined
  }
}

function store(w: Wall): void {
  try {
    localStorage.setItem(storageKey, JSON.stringify(w))
  } catch {
    // Not kept for the next launch; the wall still works.
  }
}
