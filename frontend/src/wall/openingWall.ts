// The streams of the wall the console will open with, known before it
// renders: App has the video worker play them (player/engine.ts) while the
// console's first render still holds the page, and the tiles take them
// over. A cold start had the sixteen sockets wait behind that render (0.4–1.1
// s of one frame, docs/PERFORMANCE.md), then each camera's WHEP session at
// the relay, then the decoding of each camera's cached GOP; now all three
// overlap it.
import type { Camera } from '../api'
import type { WarmKey } from '../player/warm'
import { defaultWall } from './defaults'
import { isGrid, resize, shown, type Wall } from './layout'

/**
 * The tiles' streams of the wall kept from the last session, on the
 * address's grid, as useFirstWall sets it up; undefined when none was kept
 * (the first wall waits for the camera list: firstStreams). A wall named
 * by the address (?layout=, ?tour=) waits for the saved layouts: nothing
 * is known ahead.
 */
export function keptStreams(saved: Wall | undefined, address: URLSearchParams): WarmKey[] | undefined {
  if (named(address)) return []
  return saved && streams(saved, address)
}

/** The tiles' streams of a first wall of these cameras (nothing kept). */
export function firstStreams(cameras: readonly Camera[], defaultCamera: string, address: URLSearchParams): WarmKey[] {
  if (named(address) || cameras.length === 0) return []
  return streams(defaultWall(cameras, defaultCamera), address)
}

function named(address: URLSearchParams): boolean {
  return !!(address.get('layout') || address.get('tour'))
}

function streams(wall: Wall, address: URLSearchParams): WarmKey[] {
  const grid = Number(address.get('grid'))
  const w = isGrid(grid) ? resize(wall, grid) : wall
  // A one-tile wall shows the main stream (VideoWall's streamOf).
  const stream = w.grid === 1 ? 'main' : 'sub'
  return shown(w)
    .filter((c): c is string => c !== null)
    .map((camera) => ({ camera, stream }))
}

