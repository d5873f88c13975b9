import type { ShownFrame } from './player'
import type { TileStats } from './stats'

// window.__qly.tiles[tileId] holds each playing tile's live counters, so that
// end-to-end tests (and a curious engineer at the console) can read them.
// The wall and the tour put their state beside them (frontend/README.md).

export interface QlyDebug {
  tiles: Record<string, TileStats>
  wall?: object
  tour?: object
  /** The cameras whose sub streams are wanted warm (wall/useWarmCameras.ts). */
  warm?: string[]
  /** The opening wall's streams, opened before the console rendered (wall/openingWall.ts). */
  opening?: string[]
  checklist?: object | null
  findings?: object[]
  /** The backend's `findings` events handled, and the ids they named. */
  findingsEvents?: { events: number; ids: number }
  /** How current the relay's findings in the list are (issue 11). */
  findingsFreshness?: { reachable: boolean; asOf: string }
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

/** What a playing tile can say about its picture. */
export interface PlayingTile {
  shownFrame(): ShownFrame | undefined
}

const players = new Map<string, PlayingTile>()

export function registerPlayer(id: string, p: PlayingTile): void {
  players.set(id, p)
}

export function unregisterPlayer(id: string, p: PlayingTile): void {
  if (players.get(id) === p) players.delete(id)
}

/** The frame a tile shows now, for flagging: undefined for an empty tile or one with no picture yet. */
export function shownFrame(tileId: string): ShownFrame | undefined {
  return players.get(tileId)?.shownFrame()
}
