// The view's video worker's side (player/video.worker.ts): every tile's
// playback and the warm pools, by the numbers the page gave them. The page
// (player/host.ts) sends commands; each playback's events go back with its
// number, a frame's ownership with it.

import type { ConnectionOptions, SocketLike } from './connection'
import { Playback, type PlaybackEvent, type PlaybackReport } from './playback'
import { DecoderPool } from './decoders'
import { WarmSockets, type WarmKey } from './warm'

export type EngineCommand =
  /** Plays camera's stream as playback id, taking pool's warm channel for it if it holds one. */
  | { t: 'play'; id: number; camera: string; stream: string; pool?: number }
  | { t: 'stop'; id: number }
  /** Keeps these warm in pool (made on first use); see WarmSockets.want. */
  | { t: 'want'; pool: number; keys: WarmKey[] }
  /** Closes pool's warm channels; the pool takes no more. */
  | { t: 'drop'; pool: number }
  /**
   * The opening wall's streams: played at once, before their tiles exist,
   * so that they are decoded while the console's first render holds the
   * page; a tile's play of the same stream takes one over (Ahead).
   */
  | { t: 'ahead'; keys: WarmKey[] }

/** The worker's first message (player/video.worker.ts). */
export interface WorkerInit {
  t: 'init'
  /** The multiplexed bridge socket's address, with its secret. */
  bridge: string
  /** The page's performance.timeOrigin. */
  origin: number
}

/** The worker's answer to init: it has the bridge. */
export const workerReady = { notice: 'ready' } as const

export interface EngineEvent {
  id: number
  e: PlaybackEvent
}

export interface EngineOptions {
  /** Opens camera's stream on the bridge: a channel of the worker's one socket (player/mux.ts). */
  open(camera: string, stream: string): SocketLike
  /** Sends an event to the page, transferring what transfer lists. */
  post(ev: EngineEvent, transfer: Transferable[]): void
  /** Milliseconds on the page's performance.now() clock. */
  now(): number
  connection?: ConnectionOptions
  /** A stream played ahead that no tile took is stopped this long after (ms). */
  aheadMs?: number
  /** Decoders made ahead (player/decoders.ts); the worker makes them at its start. */
  decoders?: DecoderPool
}

/**
 * A playback started before its tile: until a tile takes it, it keeps only
 * what the tile will need first, its newest frame to draw, its last state
 * and its counters.
 */
class Ahead {
  owner: number | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  playback!: Playback
  private frame: VideoFrame | undefined
  private state: PlaybackEvent | undefined
  private report: PlaybackReport | undefined

  hold(e: PlaybackEvent): void {
    this.report = e.report
    if (e.kind === 'frame') {
      this.frame?.close()
      this.frame = e.frame
    } else if (e.kind === 'state' || e.kind === 'lost') {
      this.state = e
    }
  }

  /** What was held, in the order the tile's player needs it: the state, then the picture. */
  take(): PlaybackEvent[] {
    const out: PlaybackEvent[] = []
    if (this.state) out.push(this.state)
    if (this.report) out.push(this.frame ? { kind: 'frame', frame: this.frame, report: this.report } : { kind: 'report', report: this.report })
    this.frame = this.state = this.report = undefined
    return out
  }

  close(): void {
    this.frame?.close()
    this.frame = undefined
  }
}

const defaultAheadMs = 20_000

export class Engine {
  private readonly playing = new Map<number, Playback>()
  private readonly ahead = new Map<string, Ahead>()
  private readonly pools = new Map<number, WarmSockets>()
  private readonly dropped = new Set<number>()
  private readonly decoders: DecoderPool
  private readonly makeDecoder = (init: VideoDecoderInit) => this.decoders.take(init)

  constructor(private readonly opts: EngineOptions) {
    this.decoders = opts.decoders ?? new DecoderPool()
  }

  handle(cmd: EngineCommand): void {
    switch (cmd.t) {
      case 'play':
        return this.play(cmd.id, cmd.camera, cmd.stream, cmd.pool)
      case 'stop':
        this.playing.get(cmd.id)?.stop()
        this.playing.delete(cmd.id)
        return
      case 'want':
        this.pool(cmd.pool)?.want(cmd.keys)
        return
      case 'drop':
        this.pool(cmd.pool)?.stop()
        this.pools.delete(cmd.pool)
        this.dropped.add(cmd.pool)
        return
      case 'ahead':
        // A wall bigger than the decoders the worker made at its start.
        void this.decoders.fill(cmd.keys.length)
        for (const k of cmd.keys) this.playAhead(k.camera, k.stream)
        return
    }
  }

  private playAhead(camera: string, stream: string): void {
    const key = `${camera}?${stream}`
    if (this.ahead.has(key)) return
    const a = new Ahead()
    a.playback = new Playback({
      open: () => this.opts.open(camera, stream),
      now: this.opts.now,
      connection: this.opts.connection,
      ahead: true,
      makeDecoder: this.makeDecoder,
      emit: (e) => {
        if (a.owner === undefined) a.hold(e)
        else this.send(a.owner, a.playback, e)
      },
    })
    a.timer = setTimeout(() => {
      if (this.ahead.get(key) !== a) return
      this.ahead.delete(key)
      a.playback.stop()
      a.close()
    }, this.opts.aheadMs ?? defaultAheadMs)
    this.ahead.set(key, a)
    a.playback.start()
  }

  private send(id: number, p: Playback, e: PlaybackEvent): void {
    if (this.playing.get(id) !== p) {
      if (e.kind === 'frame') e.frame.close()
      return
    }
    this.opts.post({ id, e }, e.kind === 'frame' ? [e.frame] : [])
  }

  private play(id: number, camera: string, stream: string, poolId: number | undefined): void {
    if (this.playing.has(id)) return
    const key = `${camera}?${stream}`
    const a = this.ahead.get(key)
    if (a) {
      this.ahead.delete(key)
      clearTimeout(a.timer)
      a.owner = id
      this.playing.set(id, a.playback)
      for (const e of a.take()) this.send(id, a.playback, e)
      return
    }
    const pool = poolId === undefined ? undefined : this.pools.get(poolId)
    const p = new Playback({
      // Each (re)connection: the warm channel if the pool still holds one.
      open: () => pool?.take(camera, stream) ?? this.opts.open(camera, stream),
      now: this.opts.now,
      connection: this.opts.connection,
      makeDecoder: this.makeDecoder,
      emit: (e) => this.send(id, p, e),
    })
    this.playing.set(id, p)
    p.start()
  }

  private pool(id: number): WarmSockets | undefined {
    if (this.dropped.has(id)) return undefined
    let p = this.pools.get(id)
    if (!p) {
      p = new WarmSockets((camera, stream) => this.opts.open(camera, stream))
      this.pools.set(id, p)
    }
    return p
  }
}
