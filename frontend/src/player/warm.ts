// Bridge sockets opened before a tile asks for them: the sub streams of the
// cameras the officer is about to put on the wall. A camera new to the
// console costs a WHEP session at the relay (offer, ICE, DTLS, the relay's
// cached GOP) before its first unit reaches the view, most of an assign's
// time under load (docs/PERFORMANCE.md, issue 10.16). A warm socket has
// paid that already: it keeps the console's source pulling, and holds the
// stream's last config, last state and its units since the last keyframe,
// undecoded. A tile that takes it gets those at once (all units but the
// newest marked catch-up, as the bridge marks a joiner's GOP, so the first
// picture is the newest and no replayed unit counts as a sign of life),
// then the live units, on the same socket. The sockets are channels of the
// view's one multiplexed bridge socket (player/mux.ts); the pool works the
// same over sockets of their own.

import type { SocketLike } from './connection'
import { headerLength } from './protocol'

export interface WarmOptions {
  /** A socket not wanted any more is closed this long after (ms): the officer may come back to the list. */
  lingerMs: number
  /** Units held since the last keyframe, at most; beyond it nothing is held until the next keyframe. */
  maxUnits: number
  maxBytes: number
}

export const defaultWarm: WarmOptions = { lingerMs: 20_000, maxUnits: 600, maxBytes: 8 << 20 }

export interface WarmKey {
  camera: string
  stream: string
}

const keyframeFlag = 0x01
const catchUpFlag = 0x02

type Data = string | ArrayBuffer

/** One socket held open, and what it has sent since its last keyframe. */
class Held {
  opened = false
  closed = false
  private state: Data | undefined
  private config: Data | undefined
  private units: ArrayBuffer[] = []
  private bytes = 0
  private waitingForKey = true
  closeTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly socket: SocketLike,
    private readonly opts: WarmOptions,
    gone: () => void,
  ) {
    socket.onopen = () => (this.opened = true)
    socket.onmessage = (ev) => this.hold(ev.data)
    socket.onerror = () => {}
    socket.onclose = () => {
      this.closed = true
      gone()
    }
  }

  private hold(d: unknown): void {
    if (typeof d === 'string') {
      // Events are small JSON objects; only config and state are replayed.
      const type = /"type"\s*:\s*"(\w+)"/.exec(d)?.[1]
      if (type === 'state') this.state = d
      else if (type === 'config') this.config = d
      return
    }
    if (!(d instanceof ArrayBuffer) || d.byteLength <= headerLength) return
    const keyframe = (new Uint8Array(d, 0, 1)[0]! & keyframeFlag) !== 0
    if (keyframe) {
      this.units = []
      this.bytes = 0
      this.waitingForKey = false
    }
    if (this.waitingForKey) return
    if (this.units.length >= this.opts.maxUnits || this.bytes + d.byteLength > this.opts.maxBytes) {
      this.units = []
      this.bytes = 0
      this.waitingForKey = true
      return
    }
    this.units.push(d)
    this.bytes += d.byteLength
  }

  /**
   * What a tile taking the socket is given first: the state, the config and
   * the units since the last keyframe, all but the newest marked catch-up.
   */
  replay(): Data[] {
    const out: Data[] = []
    if (this.state !== undefined) out.push(this.state)
    if (this.config !== undefined) out.push(this.config)
    this.units.forEach((u, i) => {
      if (i < this.units.length - 1) new Uint8Array(u, 0, 1)[0]! |= catchUpFlag
      out.push(u)
    })
    this.units = []
    return out
  }
}

/**
 * The socket a tile gets from WarmSockets.take: what the warm socket held,
 * replayed as soon as the tile has set its handlers, then the live messages.
 */
class Adopted implements SocketLike {
  readonly warm = true
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null
  private pending: Data[] | undefined

  constructor(
    private readonly socket: SocketLike,
    opened: boolean,
    replay: Data[],
  ) {
    this.pending = replay
    socket.onmessage = (ev) => {
      // Live messages that come before the replay wait behind it.
      if (this.pending) this.pending.push(ev.data as Data)
      else this.onmessage?.(ev)
    }
    socket.onclose = (ev) => this.onclose?.(ev)
    socket.onerror = (ev) => this.onerror?.(ev)
    const start = () => {
      const held = this.pending ?? []
      this.pending = undefined
      this.onopen?.({})
      for (const data of held) this.onmessage?.({ data })
    }
    // The taker sets its handlers right after take() returns.
    if (opened) queueMicrotask(start)
    else socket.onopen = start
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason)
  }
}

/** Bridge sockets kept open ahead of the tiles, by camera and stream. */
export class WarmSockets {
  private readonly pool = new Map<string, Held>()
  private readonly opts: WarmOptions
  private stopped = false

  constructor(
    private readonly open: (camera: string, stream: string) => SocketLike,
    opts: Partial<WarmOptions> = {},
  ) {
    this.opts = { ...defaultWarm, ...opts }
  }

  /** The keys held now, for tests and window.__qly. */
  get keys(): string[] {
    return [...this.pool.keys()]
  }

  /**
   * Keeps these warm, opening the ones not open yet; the others are closed
   * after lingerMs unless wanted again by then.
   */
  want(keys: readonly WarmKey[]): void {
    if (this.stopped) return
    const wanted = new Set(keys.map(id))
    for (const [k, h] of this.pool) {
      if (wanted.has(k)) {
        clearTimeout(h.closeTimer)
        h.closeTimer = undefined
      } else {
        h.closeTimer ??= setTimeout(() => this.drop(k, h), this.opts.lingerMs)
      }
    }
    for (const key of keys) {
      const k = id(key)
      if (this.pool.has(k)) continue
      let s: SocketLike
      try {
        s = this.open(key.camera, key.stream)
      } catch {
        continue
      }
      const h: Held = new Held(s, this.opts, () => {
        if (this.pool.get(k) === h) this.pool.delete(k)
        clearTimeout(h.closeTimer)
      })
      this.pool.set(k, h)
    }
  }

  /** A warm socket for camera and stream, out of the pool, or undefined. */
  take(camera: string, stream: string): SocketLike | undefined {
    const k = id({ camera, stream })
    const h = this.pool.get(k)
    if (!h || h.closed) return undefined
    this.pool.delete(k)
    clearTimeout(h.closeTimer)
    return new Adopted(h.socket, h.opened, h.replay())
  }

  /** Closes every warm socket; take finds none after. */
  stop(): void {
    this.stopped = true
    for (const [k, h] of this.pool) this.drop(k, h)
  }

  private drop(k: string, h: Held): void {
    clearTimeout(h.closeTimer)
    if (this.pool.get(k) === h) this.pool.delete(k)
    h.socket.onopen = h.socket.onmessage = h.socket.onerror = h.socket.onclose = null
    h.socket.close(1000, 'not wanted')
  }
}

function id(k: WarmKey): string {
  return `${k.camera}?${k.stream}`
}
