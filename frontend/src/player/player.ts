import { Connection, type ConnectionOptions, type OpenSocket } from './connection'
import { AvcDecoder } from './decoder'
import type { Message } from './protocol'
import { registerPlayer, registerTile, unregisterPlayer, unregisterTile } from './registry'
import { Presenter } from './presenter'
import { CanvasRenderer } from './renderer'
import { sameState, shownState, reasons, type TileState } from './state'
import { newStats, RateWindow, type TileStats } from './stats'

export interface PlayerOptions {
  canvas: HTMLCanvasElement
  /** Opens this camera's bridge socket (src/api's openVideoSocket). */
  open: OpenSocket
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
  connection?: ConnectionOptions
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
 * Tells a new picture from one the stream has shown before: only a frame
 * later in stream time than every one decoded on this connection is new. A
 * frame decoded again (a GOP handed over anew) must not keep a frozen
 * picture looking live.
 */
export class NewPictures {
  private newest = -Infinity

  /** A new connection: its stream may start its clock anew. */
  reset(): void {
    this.newest = -Infinity
  }

  /** Whether the frame with this PTS (µs) is new; a new one is remembered. */
  take(ptsUs: number): boolean {
    if (ptsUs <= this.newest) return false
    this.newest = ptsUs
    return true
  }
}

/** Plays one camera's stream from the bridge into a canvas. */
export class Player {
  readonly stats: TileStats
  private readonly window = new RateWindow(2000)
  private readonly bytes = new RateWindow(2000)
  private readonly renderer: CanvasRenderer
  private readonly decoder: AvcDecoder
  private readonly connection: Connection
  private readonly stallAfterMs: number
  private reported: TileState
  private shown: TileState
  private lastFrameAt = Date.now()
  private readonly pictures = new NewPictures()
  private readonly presenter = new Presenter()
  private ticker: ReturnType<typeof setInterval> | undefined
  private ticks = 0

  constructor(private readonly opts: PlayerOptions) {
    this.stats = newStats(opts.camera, opts.stream)
    this.stallAfterMs = opts.stallAfterMs ?? defaultStallAfterMs
    this.reported = { state: 'connecting', since: new Date(), reason: '' }
    this.shown = this.reported
    this.renderer = new CanvasRenderer(opts.canvas, this.stats, undefined, () => this.firstDrawn())
    this.decoder = new AvcDecoder({
      stats: this.stats,
      window: this.window,
      output: (frame) => {
        this.stats.firstDecodedAt ||= performance.now()
        // A catch-up frame is one the console had before this connection:
        // not a sign of life.
        const replayed = this.presenter.isCatchUp(frame.timestamp)
        if (!replayed && this.pictures.take(frame.timestamp)) this.lastFrameAt = Date.now()
        if (this.presenter.show(frame.timestamp, performance.now())) {
          this.renderer.submit(frame)
        } else {
          frame.close()
          this.stats.framesNotDrawn++
        }
      },
    })
    this.connection = new Connection(
      opts.open,
      {
        open: (warm) => {
          if (this.stats.connects === 0) {
            this.stats.openedAt = performance.now()
            this.stats.warm = warm
          }
          this.stats.connects++
          this.decoder.resync()
          this.pictures.reset()
          this.presenter.reset()
        },
        message: (m) => this.onMessage(m),
        lost: (info) => {
          // Keep the time the bridge was first lost while retries go on.
          const since = this.reported.reason === reasons.bridgeLost ? this.reported.since : new Date()
          this.report({ state: 'connecting', since, reason: reasons.bridgeLost })
          if (info.reason) this.stats.lastError = `bridge closed (${info.code}): ${info.reason}`
        },
      },
      opts.connection,
    )
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
    this.connection.start()
    this.ticker = setInterval(() => this.tick(), tickMs)
    this.publish(true)
  }

  stop(): void {
    clearInterval(this.ticker)
    this.ticker = undefined
    this.connection.stop()
    this.decoder.close()
    this.renderer.close()
    unregisterTile(this.opts.tileId, this.stats)
    unregisterPlayer(this.opts.tileId, this)
  }

  private firstDrawn(): void {
    this.stats.firstBehindMs = Math.max(0, (this.presenter.newestPts - this.stats.drawnPts) / 1000)
    this.stats.firstDrawnPts = this.stats.drawnPts
    registerTile(this.opts.tileId, this.stats)
    registerPlayer(this.opts.tileId, this)
    this.opts.onFirstFrame?.()
  }

  private onMessage(m: Message): void {
    switch (m.kind) {
      case 'unit':
        this.stats.firstUnitAt ||= performance.now()
        this.stats.bytesReceived += m.data.byteLength
        this.bytes.add(performance.now(), m.data.byteLength)
        this.presenter.pushed(m.pts, m.catchUp)
        this.decoder.push(m)
        return
      case 'config':
        this.decoder.configure(m)
        return
      case 'state':
        if (m.state === 'live' && this.reported.state !== 'live') this.lastFrameAt = Date.now()
        this.report({ state: m.state, since: m.since, reason: m.reason })
        return
      case 'invalid':
        this.stats.invalidMessages++
        this.stats.lastError = m.reason
        return
      case 'unknown':
        return
    }
  }

  private report(s: TileState): void {
    this.reported = s
    this.publish(false)
  }

  // A frozen picture is noticed within a tick; the numbers and the view are
  // refreshed once a second.
  private tick(): void {
    this.ticks++
    if (this.ticks % statsEvery !== 0) {
      this.publish(false)
      return
    }
    const now = performance.now()
    this.stats.fps = Math.round(this.window.rate(now) * 10) / 10
    this.stats.decodeLatencyMs = Math.round(this.window.mean(now) * 10) / 10
    this.stats.bitrateKbps = Math.round((this.bytes.perSecond(now) * 8) / 1000)
    this.publish(true)
  }

  private publish(always: boolean): void {
    const next = shownState(this.reported, this.lastFrameAt, Date.now(), this.stallAfterMs)
    const changed = !sameState(next, this.shown)
    this.shown = next
    this.stats.state = next.state
    if (changed || always) this.opts.onUpdate?.(next, this.stats)
  }
}
