// The half of a tile's player that runs in the view's video worker
// (player/engine.ts): one camera's stream from its bridge channel through
// the decoder to the frames worth drawing. The page's main thread never
// reads a unit: the relay's cached GOPs of a 16-tile wall (about 400 units,
// decoded unseen) used to wait behind the console's first render and then
// hold it up (docs/PERFORMANCE.md, the cold start). What crosses to the page
// is a frame to draw, the stream's state events and the counters.

import { Connection, type ConnectionOptions, type OpenSocket } from './connection'
import { AvcDecoder } from './decoder'
import { NewPictures } from './pictures'
import { Presenter } from './presenter'
import type { Message, StreamState } from './protocol'
import { newDecodeStats, RateWindow, type DecodeStats } from './stats'

/** What a playback tells the tile's player on the page. */
export type PlaybackEvent =
  | { kind: 'frame'; frame: VideoFrame; report: PlaybackReport }
  | { kind: 'state'; state: StreamState; since: Date | undefined; reason: string; report: PlaybackReport }
  | { kind: 'lost'; report: PlaybackReport }
  | { kind: 'report'; report: PlaybackReport }

/** The playback's counters and what the page's player needs beside them. */
export interface PlaybackReport {
  stats: DecodeStats
  /** Frames decoded only to reach the newest picture, or older than the one shown: never sent. */
  unseen: number
  /** Date.now() of the newest new picture decoded; 0 before the first. */
  lastFrameAt: number
  /** PTS (µs) of the newest unit received on this connection. */
  newestPts: number
}

export interface PlaybackOptions {
  open: OpenSocket
  /** Each event in order; a frame's ownership passes with it. */
  emit(e: PlaybackEvent): void
  /** Milliseconds on the page's performance.now() clock (the worker's own starts elsewhere). */
  now: () => number
  connection?: ConnectionOptions
  /** Started before a tile asked for it (the opening wall): counted as warm. */
  ahead?: boolean
  /** Makes its VideoDecoders (player/decoders.ts). */
  makeDecoder?: (init: VideoDecoderInit) => VideoDecoder
}

const statsEveryMs = 1000

export class Playback {
  private readonly stats: DecodeStats
  private readonly window = new RateWindow(2000)
  private readonly bytes = new RateWindow(2000)
  private readonly decoder: AvcDecoder
  private readonly connection: Connection
  private readonly pictures = new NewPictures()
  private readonly presenter = new Presenter()
  private unseen = 0
  private lastFrameAt = 0
  private ticker: ReturnType<typeof setInterval> | undefined

  constructor(private readonly opts: PlaybackOptions) {
    this.stats = newDecodeStats()
    const now = opts.now
    this.decoder = new AvcDecoder({
      stats: this.stats,
      window: this.window,
      now,
      make: opts.makeDecoder,
      output: (frame) => {
        this.stats.firstDecodedAt ||= now()
        // A catch-up frame is one the console had before this connection:
        // not a sign of life.
        const replayed = this.presenter.isCatchUp(frame.timestamp)
        if (!replayed && this.pictures.take(frame.timestamp)) this.lastFrameAt = Date.now()
        if (this.presenter.show(frame.timestamp, now())) {
          opts.emit({ kind: 'frame', frame, report: this.report() })
        } else {
          frame.close()
          this.unseen++
        }
      },
    })
    this.connection = new Connection(
      opts.open,
      {
        open: (warm) => {
          if (this.stats.connects === 0) {
            this.stats.openedAt = now()
            this.stats.warm = warm || opts.ahead === true
          }
          this.stats.connects++
          this.decoder.resync()
          this.pictures.reset()
          this.presenter.reset()
          opts.emit({ kind: 'report', report: this.report() })
        },
        message: (m) => this.onMessage(m),
        lost: (info) => {
          if (info.reason) this.stats.lastError = `bridge closed (${info.code}): ${info.reason}`
          opts.emit({ kind: 'lost', report: this.report() })
        },
      },
      opts.connection,
    )
  }

  start(): void {
    this.connection.start()
    this.ticker = setInterval(() => this.tick(), statsEveryMs)
  }

  stop(): void {
    clearInterval(this.ticker)
    this.ticker = undefined
    this.connection.stop()
    this.decoder.close()
  }

  private onMessage(m: Message): void {
    switch (m.kind) {
      case 'unit': {
        const now = this.opts.now()
        this.stats.firstUnitAt ||= now
        this.stats.bytesReceived += m.data.byteLength
        this.bytes.add(now, m.data.byteLength)
        this.presenter.pushed(m.pts, m.catchUp)
        this.decoder.push(m)
        return
      }
      case 'config':
        this.decoder.configure(m)
        return
      case 'state':
        this.opts.emit({ kind: 'state', state: m.state, since: m.since, reason: m.reason, report: this.report() })
        return
      case 'invalid':
        this.stats.invalidMessages++
        this.stats.lastError = m.reason
        return
      case 'unknown':
        return
    }
  }

  private tick(): void {
    const now = this.opts.now()
    this.stats.fps = Math.round(this.window.rate(now) * 10) / 10
    this.stats.decodeLatencyMs = Math.round(this.window.mean(now) * 10) / 10
    this.stats.bitrateKbps = Math.round((this.bytes.perSecond(now) * 8) / 1000)
    this.opts.emit({ kind: 'report', report: this.report() })
  }

  private report(): PlaybackReport {
    return { stats: { ...this.stats }, unseen: this.unseen, lastFrameAt: this.lastFrameAt, newestPts: this.presenter.newestPts }
  }
}
