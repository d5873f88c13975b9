import type { PlaybackHandle } from './host'
import type { PlaybackEvent, PlaybackReport } from './playback'
import { registerPlayer, registerTile, unregisterPlayer, unregisterTile } from './registry'
import { CanvasRenderer } from './renderer'
import { sameState, shownState, reasons, type TileState } from './state'
import { newStats, type TileStats } from './stats'

export interface PlayerOptions {
  canvas: HTMLCanvasElement
  /**
   * Starts this camera's stream in the view's video worker (player/host.ts):
   * its frames to draw, state and counters go to emit until stop.
   */
  video: (emit: (e: PlaybackEvent) => void) => PlaybackHandle
  /** Key under window.__qly.tiles. */
  tileId: string
  camera: string
  stream: string
  /** Called when the shown state changes and once a second with fresh stats: never per frame. */
  onUpdate?: (state: TileState, stats: Readonly<TileStats>) => void
  /**
   * Called as this stream's first frame is drawn, in the same animation
   * frame. A player taking over a canvas from another (the focus view's main
   * stream after the tile's sub stream) stops the other one here, so the
   * other's picture stays up until this one has its own.
   */
  onFirstFrame?: () => void
  /**
   * Another player's picture is on the canvas until this one's first frame:
   * its counters go under window.__qly.tiles then, not at start, so that
   * they are always those of the picture on screen.
   */
  takingOver?: boolean
  /** A live stream with no new picture for this long is shown as stalled (3 s). */
  stallAfterMs?: number
}

export interface ShownFrame {
  canvas: HTMLCanvasElement
  /** PTS in microseconds, as the bridge sent it: the flag request's pts_us. */
  ptsUs: number
  camera: string
  stream: string
}

export const defaultStallAfterMs = 3000
const tickMs = 250
const statsEvery = 4

/**
 * Plays one camera's stream into a canvas. The stream is read and decoded
 * in the view's video worker (player/playback.ts); this draws the frames it
 * sends, and tells the tile its state: live only while new pictures come.
 */
export class Player {
  readonly stats: TileStats
  private readonly renderer: CanvasRenderer
  private readonly stallAfterMs: number
  private playback: PlaybackHandle | undefined
  private stopped = false
  private reported: TileState
  private shown: TileState
  private lastFrameAt = Date.now()
  // The worker's count of frames it decoded and did not send, as last told.
  private unseen = 0
  private newestPts = -Infinity
  private ticker: ReturnType<typeof setInterval> | undefined
  private ticks = 0

  constructor(private readonly opts: PlayerOptions) {
    this.stats = newStats(opts.camera, opts.stream)
    this.stallAfterMs = opts.stallAfterMs ?? defaultStallAfterMs
    this.reported = { state: 'connecting', since: new Date(), reason: '' }
    this.shown = this.reported
    this.renderer = new CanvasRenderer(opts.canvas, this.stats, undefined, () => this.firstDrawn())
  }

  get state(): TileState {
    return this.shown
  }

  /**
   * The picture on screen now: the canvas and the PTS of the frame drawn on
   * it, for a finding's snapshot. undefined until this stream drew a frame:
   * a tile still showing another camera's last picture has nothing to give.
   */
  shownFrame(): ShownFrame | undefined {
    const pts = this.renderer.shownPts
    if (pts === undefined) return undefined
    return { canvas: this.opts.canvas, ptsUs: pts, camera: this.opts.camera, stream: this.opts.stream }
  }

  /**
   * Connects. The canvas keeps what it shows until this stream's first
   * frame; until then the tile's picture for a flag is still the one of the
   * player this one takes over from, if any (see onFirstFrame).
   */
  start(): void {
    this.stats.startedAt = performance.now()
    if (!this.opts.takingOver) registerTile(this.opts.tileId, this.stats)
    this.playback = this.opts.video((e) => this.onEvent(e))
    this.ticker = setInterval(() => this.tick(), tickMs)
    this.publish(true)
  }

  stop(): void {
    clearInterval(this.ticker)
    this.ticker = undefined
    this.stopped = true
    this.playback?.stop()
    this.playback = undefined
    this.renderer.close()
    unregisterTile(this.opts.tileId, this.stats)
    unregisterPlayer(this.opts.tileId, this)
  }

  private firstDrawn(): void {
    this.stats.firstBehindMs = Math.max(0, (this.newestPts - this.stats.drawnPts) / 1000)
    this.stats.firstDrawnPts = this.stats.drawnPts
    registerTile(this.opts.tileId, this.stats)
    registerPlayer(this.opts.tileId, this)
    this.opts.onFirstFrame?.()
  }

  private onEvent(e: PlaybackEvent): void {
    this.take(e.report)
    switch (e.kind) {
      case 'frame':
        // A frame already on its way when the tile stopped is not drawn.
        if (!this.stopped) this.renderer.submit(e.frame)
        else e.frame.close()
        return
      case 'state':
        if (e.state === 'live' && this.reported.state !== 'live') this.lastFrameAt = Date.now()
        this.report({ state: e.state, since: e.since, reason: e.reason })
        return
      case 'lost': {
        // Keep the time the bridge was first lost while retries go on.
        const since = this.reported.reason === reasons.bridgeLost ? this.reported.since : new Date()
        this.report({ state: 'connecting', since, reason: reasons.bridgeLost })
        return
      }
      case 'report':
        return
    }
  }

  private take(r: PlaybackReport): void {
    Object.assign(this.stats, r.stats)
    this.stats.framesNotDrawn += r.unseen - this.unseen
    this.unseen = r.unseen
    this.lastFrameAt = Math.max(this.lastFrameAt, r.lastFrameAt)
    this.newestPts = r.newestPts
  }

  private report(s: TileState): void {
    this.reported = s
    this.publish(false)
  }

  // A frozen picture is noticed within a tick; the numbers and the view are
  // refreshed once a second (the worker's counters come as often).
  private tick(): void {
    this.ticks++
    this.publish(this.ticks % statsEvery === 0)
  }

  private publish(always: boolean): void {
    const next = shownState(this.reported, this.lastFrameAt, Date.now(), this.stallAfterMs)
    const changed = !sameState(next, this.shown)
    this.shown = next
    this.stats.state = next.state
    if (changed || always) this.opts.onUpdate?.(next, this.stats)
  }
}
