// One bridge socket for every stream of the view, as numbered channels
// (docs/PROTOCOLS.md, the multiplexed video bridge). A browser opens
// WebSockets to one address one handshake at a time and then throttles
// them, which held a 16-tile wall's cold start for 1–2 s; a channel costs
// one small message on a socket already open. The channels asked for
// before the socket exists are named in its address, so that the bridge
// starts their streams at the handshake rather than after the thread that
// holds the socket gets round to its open event. It lives in the video
// worker (player/video.worker.ts).

import type { SocketLike } from './connection'

/** The part of a browser WebSocket the mux uses; binaryType is "arraybuffer". */
export interface MuxSocket {
  onopen: SocketLike['onopen']
  onmessage: SocketLike['onmessage']
  onclose: SocketLike['onclose']
  onerror: SocketLike['onerror']
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
}

/** A channel named in the socket's address: the bridge opens it at the handshake. */
export interface MuxOpen {
  ch: number
  camera: string
  stream: string
}

/** The bridge's address (with its secret) naming these channels, which it opens at the handshake. */
export function muxAddress(base: string, opens: readonly MuxOpen[]): string {
  const url = new URL(base)
  for (const o of opens) url.searchParams.append('open', `${o.ch}:${o.camera}:${o.stream}`)
  return url.toString()
}

const socketOpen = 1
const channelHeader = 4

/** A channel of the mux, handed to a Connection or a warm pool as its socket. */
class Channel implements SocketLike {
  onopen: SocketLike['onopen'] = null
  onmessage: SocketLike['onmessage'] = null
  onclose: SocketLike['onclose'] = null
  onerror: SocketLike['onerror'] = null
  /** The bridge was asked for it on the current socket: its open message went out, or the socket's address named it. */
  sent = false

  constructor(
    private readonly mux: VideoMux,
    readonly ch: number,
    readonly camera: string,
    readonly stream: string,
  ) {}

  close(): void {
    this.mux.release(this)
  }
}

/**
 * Opens the one socket when a channel is first asked for and again after
 * it closed; a socket's end closes every channel with its code and reason,
 * and their owners (Connection's retry, the warm pool) ask again.
 */
export class VideoMux {
  private socket: MuxSocket | undefined
  private connecting = false
  private readonly channels = new Map<number, Channel>()
  // Named in the socket's address, then closed before it opened: the
  // bridge started them, so they are closed once it is open.
  private closeOnOpen: number[] = []
  // Never reused, so that what a closed channel still had in flight is
  // recognised and dropped.
  private next = 1

  /** @param openSocket opens the bridge socket naming these channels in its address. */
  constructor(private readonly openSocket: (opens: MuxOpen[]) => MuxSocket) {}

  /** Open channels, for tests and window.__qly. */
  get size(): number {
    return this.channels.size
  }

  /** A channel for camera's stream; its onopen fires once the bridge was asked for it. */
  channel(camera: string, stream: string): SocketLike {
    const c = new Channel(this, this.next++, camera, stream)
    this.channels.set(c.ch, c)
    const s = this.socket
    // The taker sets its handlers right after this returns.
    if (s?.readyState === socketOpen) queueMicrotask(() => this.start(s, c))
    else if (!s && !this.connecting) {
      // Every channel asked for in this task goes in the address.
      this.connecting = true
      queueMicrotask(() => this.connect())
    }
    return c
  }

  /** Ends the socket and every channel on it, as at sign-out. */
  close(): void {
    const s = this.socket
    if (s) s.close(1000, 'view closed')
    this.lost(s, 1000, 'view closed')
  }

  /** A channel's owner is done with it. */
  release(c: Channel): void {
    if (this.channels.get(c.ch) !== c) return
    this.channels.delete(c.ch)
    const s = this.socket
    if (!c.sent || !s) return
    if (s.readyState === socketOpen) s.send(JSON.stringify({ close: c.ch }))
    else this.closeOnOpen.push(c.ch)
  }

  private connect(): void {
    this.connecting = false
    if (this.socket || this.channels.size === 0) return
    const named = [...this.channels.values()]
    for (const c of named) c.sent = true
    const s = this.openSocket(named.map((c) => ({ ch: c.ch, camera: c.camera, stream: c.stream })))
    this.socket = s
    s.onopen = () => {
      for (const ch of this.closeOnOpen) s.send(JSON.stringify({ close: ch }))
      this.closeOnOpen = []
      for (const c of [...this.channels.values()]) {
        if (c.sent) c.onopen?.({})
        else this.start(s, c)
      }
    }
    s.onmessage = (ev) => this.deliver(ev.data)
    s.onerror = () => {
      // Always followed by close, which does the work.
    }
    s.onclose = (ev) => this.lost(s, ev.code, ev.reason)
  }

  private start(s: MuxSocket, c: Channel): void {
    if (this.socket !== s || c.sent || this.channels.get(c.ch) !== c) return
    c.sent = true
    s.send(JSON.stringify({ open: c.ch, camera: c.camera, stream: c.stream }))
    c.onopen?.({})
  }

  private deliver(data: unknown): void {
    if (typeof data === 'string') {
      let e: { ch?: unknown; type?: unknown; code?: unknown; reason?: unknown }
      try {
        e = JSON.parse(data) as typeof e
      } catch {
        return
      }
      const c = typeof e?.ch === 'number' ? this.channels.get(e.ch) : undefined
      if (!c) return
      if (e.type === 'closed') {
        this.channels.delete(c.ch)
        c.onclose?.({ code: typeof e.code === 'number' ? e.code : 1006, reason: typeof e.reason === 'string' ? e.reason : '' })
        return
      }
      // The event as on a socket of its own: parseMessage skips the "ch".
      c.onmessage?.({ data })
      return
    }
    if (!(data instanceof ArrayBuffer) || data.byteLength < channelHeader) return
    const c = this.channels.get(new DataView(data).getUint32(0))
    // A copy: the player keeps units and the warm pool marks them in place.
    c?.onmessage?.({ data: data.slice(channelHeader) })
  }

  private lost(s: MuxSocket | undefined, code: number, reason: string): void {
    if (s && this.socket !== s) return
    if (s) s.onopen = s.onmessage = s.onerror = s.onclose = null
    this.socket = undefined
    this.closeOnOpen = []
    const gone = [...this.channels.values()]
    this.channels.clear()
    for (const c of gone) c.onclose?.({ code, reason })
  }
}
