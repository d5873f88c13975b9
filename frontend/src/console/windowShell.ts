// The window around the view: the Wails window's runtime (window.runtime,
// injected into the page by Wails) when the view runs in it, else the
// browser's own. Full screen with F11, and a second wall for another
// monitor: Wails v2 has one window per process, so the second wall is a
// browser window on the console's loopback address, with the same session
// and data; the Wails side opens it (app.go) since only it can start that
// address and hand it to the system browser.

/** The part of Wails' JavaScript runtime used here. */
interface WailsRuntime {
  WindowFullscreen(): void
  WindowUnfullscreen(): void
  WindowIsFullscreen(): Promise<boolean>
  EventsEmit(name: string, ...data: unknown[]): void
}

/** The event app.go answers by opening a second wall in the system browser. */
export const secondWallEvent = 'qianliyan:second-wall'

function wails(): WailsRuntime | undefined {
  const r = (window as unknown as { runtime?: Partial<WailsRuntime> }).runtime
  return r && typeof r.WindowFullscreen === 'function' && typeof r.EventsEmit === 'function' ? (r as WailsRuntime) : undefined
}

/** F11: full screen, or back to the window. */
export async function toggleFullscreen(): Promise<void> {
  const w = wails()
  if (w) {
    if (await w.WindowIsFullscreen()) w.WindowUnfullscreen()
    else w.WindowFullscreen()
    return
  }
  if (document.fullscreenElement) await document.exitFullscreen()
  else await document.documentElement.requestFullscreen()
}

/** What the second wall shows: a saved layout by name, else a grid of that many tiles. */
export function secondWallQuery(wall: { layout: string | null; grid: number }): string {
  const q = new URLSearchParams()
  if (wall.layout) q.set('layout', wall.layout)
  else q.set('grid', String(wall.grid))
  return q.toString()
}

/**
 * Opens a second wall for another monitor. In the browser it is a new
 * window on this page's own address and secret (the bridge's token); in the
 * Wails window, app.go opens the console's loopback address in the system
 * browser. False when the browser blocked the window.
 */
export function openSecondWall(query: string, token: string): boolean {
  const w = wails()
  if (w) {
    w.EventsEmit(secondWallEvent, query)
    return true
  }
  const url = new URL('/', window.location.href)
  url.search = `token=${encodeURIComponent(token)}&${query}`
  return window.open(url.toString(), '_blank', 'popup') !== null
}
