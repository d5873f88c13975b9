// The camera list's highlighted row, moved by the arrows; Enter puts it on
// the wall. It follows the tile in use: another tile chosen on the wall
// moves it to that tile's camera, so the list never points at a camera
// left behind.
import { computed, nextTick, ref, watch, type Ref } from 'vue'

/** What the cursor asks of the screen. */
export interface TreeScreen {
  /** The officer's keys are in the list. */
  listFocused(): boolean
  /** Scrolls the row with this DOM id into view. */
  reveal(id: string): void
}

/** The DOM id of a camera's row (aria-activedescendant). */
export function optionId(key: string): string {
  return `cam-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`
}

export function useTreeCursor(rows: Ref<readonly { key: string }[]>, current: () => string | null | undefined, screen: TreeScreen) {
  const active = ref(0)
  const indexOf = computed(() => new Map(rows.value.map((c, i) => [c.key, i])))
  const activeId = computed(() => {
    const c = rows.value[active.value]
    return c ? optionId(c.key) : undefined
  })

  function move(to: number): void {
    const n = rows.value.length
    if (n === 0) return
    active.value = Math.min(n - 1, Math.max(0, to))
    void nextTick(() => {
      const id = activeId.value
      if (id) screen.reveal(id)
    })
  }

  // Only a row that moved is revealed: scrolling it into view lays the page
  // out at once, and the list changes with every camera's health, many
  // times while a console starts.
  function follow(): void {
    const cur = current()
    const i = cur ? indexOf.value.get(cur) : undefined
    if (i !== undefined && i !== active.value) move(i)
  }

  watch(rows, (r) => {
    if (active.value >= r.length) active.value = Math.max(0, r.length - 1)
  })
  watch(current, follow, { immediate: true })
  // The list changing under the officer's arrows (a camera's state) leaves the highlight alone.
  watch(indexOf, () => {
    if (!screen.listFocused()) follow()
  })

  return { active, indexOf, activeId, move }
}
