// The player: bridge messages in (read and decoded in the video worker),
// pictures on a canvas out. No Vue in here, so the wall, the focus view and
// tours can all reuse it.
export { frameLoop } from './frames'
export { defaultStallAfterMs, Player } from './player'
export type { PlayerOptions, ShownFrame } from './player'
export type { OpenSocket, SocketLike } from './connection'
export type { PlaybackEvent } from './playback'
export { VideoHost, WarmPool } from './host'
export type { PlaybackHandle } from './host'
export type { StreamState } from './protocol'
export { reasons } from './state'
export type { TileState } from './state'
export type { TileStats } from './stats'
export { debug, shownFrame } from './registry'
export type { QlyDebug } from './registry'
export { Handover } from './handover'
export type { TilePlayer, TileSourceKey } from './handover'
