// What is on the officer's screen, told to the console backend, which keeps
// it as watch intervals for the relay's coverage (issue 11.4). A pulled
// stream is not a watched one: a tile counts only while the window is
// shown, no modal dialog covers the wall, and the tile is not scrolled out
// of sight; in focus view only the enlarged camera counts. The backend is
// told the whole set each time (idempotent: saying it again is a heartbeat,
// which also tells it the view is alive), at once on a change and every
// heartbeatMs otherwise.
import { computed, onScopeDispose, ref, watch, type Ref } from 'vue'
import type { Watching } from '../api/coverage'

/** Whether the screen shows the wall at all; the browser's is browserScreen. */
export interface Screen {
  /** The window is minimised or hidden (document.visibilityState). */
  hidden(): boolean
  /** A modal dialog covers the wall. */
  covered(): boolean
  /** Tiles (by index) out of sight, scrolled away; empty when all are in view. */
  outOfView(): ReadonlySet<number>
  /** Calls fn whenever any of those may have changed; returns the unsubscribe. */
  subscribe(fn: () => void): () => void
}

export interface WatchOptions {
  /** The wall's tiles: a camera key ("site/camera") or null, by index. */
  tiles: Readonly<Ref<readonly (string | null)[]>>
  /** The tile enlarged (focus view), or null. */
  focused: Readonly<Ref<number | null>>
  screen: Screen
  /** Tells the backend (PUT /api/v1/watching). */
  put(visible: Watching[]): Promise<void>
  heartbeatMs?: number
}

/** What counts as watched: pure, for the composable and its tests. */
export function visibleSet(tiles: readonly (string | null)[], focused: number | null, hidden: boolean, covered: boolean, outOfView: ReadonlySet<number>): Watching[] {
  if (hidden || covered) return []
  if (focused !== null) {
    const c = tiles[focused]
    return c ? [{ camera: c, mode: 'focus' }] : []
  }
  const seen = new Set<string>()
  const out: Watching[] = []
  tiles.forEach((c, i) => {
    if (!c || seen.has(c) || outOfView.has(i)) return
    seen.add(c)
    out.push({ camera: c, mode: 'tile' })
  })
  return out.sort((a, b) => a.camera.localeCompare(b.camera))
}

const keyOf = (v: readonly Watching[]) => v.map((w) => `${w.camera}:${w.mode}`).join(',')

export function useWatch(opts: WatchOptions) {
  const tick = ref(0)
  const unsubscribe = opts.screen.subscribe(() => tick.value++)
  const visible = computed(() => {
    void tick.value
    return visibleSet(opts.tiles.value, opts.focused.value, opts.screen.hidden(), opts.screen.covered(), opts.screen.outOfView())
  })
  /** When each camera on screen came on it (for the officer's own share, shown at once). */
  const since = ref(new Map<string, number>())
  let sent = ''
  let failing = false

  async function send(force: boolean): Promise<void> {
    const v = visible.value
    const key = keyOf(v)
    if (!force && key === sent && !failing) return
    sent = key
    try {
      await opts.put(v)
      failing = false
    } catch {
      // The backend is restarting or gone: the next change or heartbeat says it again.
      failing = true
    }
  }

  watch(
    visible,
    (v) => {
      const now = Date.now()
      const next = new Map<string, number>()
      for (const w of v) next.set(w.camera, since.value.get(w.camera) ?? now)
      since.value = next
      void send(false)
    },
    { immediate: true },
  )
  const timer = setInterval(() => void send(true), opts.heartbeatMs ?? 15_000)
  onScopeDispose(() => {
    clearInterval(timer)
    unsubscribe()
    void opts.put([]).catch(() => undefined)
  })
  return { visible, since }
}

/**
 * The browser's screen: the page's visibility, an open modal dialog
 * ([aria-modal="true"], every dialog of the console), and the wall's tiles
 * ([data-scope="wall"] [data-index]) out of sight by an IntersectionObserver.
 */
export function browserScreen(doc: Document = document): Screen {
  const out = new Set<number>()
  const listeners = new Set<() => void>()
  const notify = () => listeners.forEach((fn) => fn())
  let covered = doc.querySelector('[aria-modal="true"]') !== null
  const io =
    typeof IntersectionObserver === 'undefined'
      ? undefined
      : new IntersectionObserver((entries) => {
          for (const e of entries) {
            const i = Number((e.target as HTMLElement).dataset.index)
            if (e.isIntersecting) out.delete(i)
            else out.add(i)
          }
          notify()
        })
  const observed = new Set<Element>()
  function observeTiles(): void {
    if (!io) return
    const now = new Set(doc.querySelectorAll('[data-scope="wall"] [data-index]'))
    for (const el of observed) if (!now.has(el)) io.unobserve(el)
    for (const el of now) if (!observed.has(el)) io.observe(el)
    observed.clear()
    now.forEach((el) => observed.add(el))
  }
  const mo = new MutationObserver(() => {
    const c = doc.querySelector('[aria-modal="true"]') !== null
    observeTiles()
    if (c !== covered) {
      covered = c
      notify()
    }
  })
  mo.observe(doc.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-modal'] })
  observeTiles()
  doc.addEventListener('visibilitychange', notify)
  return {
    hidden: () => doc.visibilityState === 'hidden',
    covered: () => covered,
    outOfView: () => out,
    subscribe(fn) {
      listeners.add(fn)
      return () => {
        listeners.delete(fn)
        if (listeners.size > 0) return
        mo.disconnect()
        io?.disconnect()
        doc.removeEventListener('visibilitychange', notify)
      }
    },
  }
}
