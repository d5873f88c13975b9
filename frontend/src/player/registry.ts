import type { TileStats } from './stats'

// window.__qly.tiles[tileId] holds each playing tile's live counters, so that
// end-to-end tests (and a curious engineer at the console) can read them.
// The wall and the tour put their state beside them (frontend/README.md).

export interface QlyDebug {
  tiles: Record<string, TileStats>
  wall?: object
  tour?: object
}

declare global {
  interface Window {
    __qly?: QlyDebug
  }
}

/** window.__qly, made on first use; undefined outside a browser. */
export function debug(): QlyDebug | undefined {
  if (typeof window === 'undefined') return undefined
  window.__qly ??= { tiles: {} }
  return window.__qly
}

export function registerTile(id: string, stats: TileStats): void {
  const d = debug()
  if (d) d.tiles[id] = stats
}

export function unregisterTile(id: string, stats: TileStats): void {
  const d = debug()
  // A newer player for the same tile may have registered already.
  if (d && d.tiles[id] === stats) delete d.tiles[id]
}
