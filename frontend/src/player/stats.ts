import type { StreamState } from './protocol'

/**
 * One tile's counters. A plain object, updated in place, so end-to-end
 * tests can read it as JSON from window.__qly.tiles[tileId].
 */
export interface TileStats {
  camera: string
  stream: string
  state: StreamState
  codec: string
  width: number
  height: number
  /** Sockets opened to the bridge. */
  connects: number
  /** Access-unit bytes from the bridge. */
  bytesReceived: number
  framesReceived: number
  framesDecoded: number
  /** Received but never decoded: waiting for a keyframe, or skipped because the decoder fell behind. */
  framesDropped: number
  framesRendered: number
  /** Decoded but replaced by a newer frame before the next repaint, or decoded only to catch up. */
  framesNotDrawn: number
  /**
   * performance.now() at the steps to this stream's first picture, 0 before
   * each: the player started, its first socket open, the first unit in, the
   * first frame out of the decoder, the first frame drawn. For the view's
   * timing benchmark (e2e/view_bench_test.go), which splits a key press's
   * time with them.
   */
  startedAt: number
  openedAt: number
  firstUnitAt: number
  firstDecodedAt: number
  firstDrawnAt: number
  /**
   * How far the first frame drawn was behind the newest unit received then,
   * in ms of stream time: 0 when the first picture was the newest; a first
   * picture of a GOP's start, fast-forwarded after, is up to a GOP behind.
   */
  firstBehindMs: number
  /** The PTS (µs) of the first frame drawn; -1 before. With drawnPts and the times, how old the first picture was. */
  firstDrawnPts: number
  /** The first socket was a warm one (player/warm.ts): the console's source was pulling already. */
  warm: boolean
  /** PTS (µs) of the frame on the canvas; -1 before the first. Never goes back on one connection. */
  drawnPts: number
  decodeErrors: number
  invalidMessages: number
  /** Decoded frames a second, over the last couple of seconds. */
  fps: number
  /** Received video over the same window, kilobits a second. */
  bitrateKbps: number
  /** Mean time from decode() to the decoded frame, over the same window. */
  decodeLatencyMs: number
  lastError: string
}

/**
 * The counters the video worker keeps (player/playback.ts): everything from
 * the bridge's channel to the decoded frame. The page's player copies them
 * into its TileStats with each frame and report.
 */
export type DecodeStats = Pick<
  TileStats,
  | 'codec'
  | 'width'
  | 'height'
  | 'connects'
  | 'bytesReceived'
  | 'framesReceived'
  | 'framesDecoded'
  | 'framesDropped'
  | 'openedAt'
  | 'firstUnitAt'
  | 'firstDecodedAt'
  | 'warm'
  | 'decodeErrors'
  | 'invalidMessages'
  | 'fps'
  | 'bitrateKbps'
  | 'decodeLatencyMs'
  | 'lastError'
>

export function newDecodeStats(): DecodeStats {
  const { codec, width, height, connects, bytesReceived, framesReceived, framesDecoded, framesDropped, openedAt, firstUnitAt, firstDecodedAt, warm, decodeErrors, invalidMessages, fps, bitrateKbps, decodeLatencyMs, lastError } =
    newStats('', '')
  return { codec, width, height, connects, bytesReceived, framesReceived, framesDecoded, framesDropped, openedAt, firstUnitAt, firstDecodedAt, warm, decodeErrors, invalidMessages, fps, bitrateKbps, decodeLatencyMs, lastError }
}

export function newStats(camera: string, stream: string): TileStats {
  return {
    camera,
    stream,
    state: 'connecting',
    codec: '',
    width: 0,
    height: 0,
    connects: 0,
    bytesReceived: 0,
    framesReceived: 0,
    framesDecoded: 0,
    framesDropped: 0,
    framesRendered: 0,
    framesNotDrawn: 0,
    startedAt: 0,
    openedAt: 0,
    firstUnitAt: 0,
    firstDecodedAt: 0,
    firstDrawnAt: 0,
    firstBehindMs: 0,
    firstDrawnPts: -1,
    warm: false,
    drawnPts: -1,
    decodeErrors: 0,
    invalidMessages: 0,
    fps: 0,
    bitrateKbps: 0,
    decodeLatencyMs: 0,
    lastError: '',
  }
}

/** Events over a sliding time window: their rate and the mean of their values. */
export class RateWindow {
  private times: number[] = []
  private values: number[] = []

  constructor(readonly windowMs = 2000) {}

  add(now: number, value = 0): void {
    this.times.push(now)
    this.values.push(value)
    this.prune(now)
  }

  /** Events a second; 0 with fewer than two events in the window. */
  rate(now: number): number {
    this.prune(now)
    const n = this.times.length
    if (n < 2) return 0
    const span = this.times[n - 1]! - this.times[0]!
    return span > 0 ? ((n - 1) * 1000) / span : 0
  }

  mean(now: number): number {
    this.prune(now)
    if (this.values.length === 0) return 0
    return this.sum(now) / this.values.length
  }

  /** The values' total a second over the window: bytes in, bytes a second out. */
  perSecond(now: number): number {
    this.prune(now)
    return (this.sum(now) * 1000) / this.windowMs
  }

  private sum(now: number): number {
    this.prune(now)
    return this.values.reduce((a, b) => a + b, 0)
  }

  private prune(now: number): void {
    let drop = 0
    while (drop < this.times.length && now - this.times[drop]! > this.windowMs) drop++
    if (drop > 0) {
      this.times.splice(0, drop)
      this.values.splice(0, drop)
    }
  }
}
