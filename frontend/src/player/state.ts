import type { StreamState } from './protocol'

/** What a tile shows about its stream. */
export interface TileState {
  state: StreamState
  since?: Date
  /** A reason code or the backend's words; may be empty. */
  reason: string
}

/** Reasons the view itself gives, localised under `reason.*`. */
export const reasons = {
  bridgeLost: 'bridge_lost',
  noFrames: 'no_frames',
} as const

/**
 * The state to show. The bridge reports live, but a picture that has not
 * changed for stallAfterMs is shown as stalled whatever it says: a frozen
 * picture that looks live is the one failure a watcher cannot notice.
 *
 * @param lastFrameAt when the last frame was decoded, or the stream last became live (ms since epoch)
 */
export function shownState(reported: TileState, lastFrameAt: number, now: number, stallAfterMs: number): TileState {
  if (reported.state === 'live' && now - lastFrameAt > stallAfterMs) {
    return { state: 'stalled', since: new Date(lastFrameAt), reason: reasons.noFrames }
  }
  return reported
}

export function sameState(a: TileState, b: TileState): boolean {
  return a.state === b.state && a.reason === b.reason && a.since?.getTime() === b.since?.getTime()
}
