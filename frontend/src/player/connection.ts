import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff'
import { parseMessage, type Message } from './protocol'

// Declared with method syntax so that both the browser's WebSocket and
// other implementations with richer event types fit.
type Listener<E> = { bivarianceHack(ev: E): void }['bivarianceHack']

/** The part of a WebSocket the connection uses. The opener sets binaryType to "arraybuffer". */
export interface SocketLike {
  onopen: Listener<unknown> | null
  onmessage: Listener<{ data: unknown }> | null
  onclose: Listener<{ code: number; reason: string }> | null
  onerror: Listener<unknown> | null
  close(code?: number, reason?: string): void
  /** Set on a socket that was open before it was asked for (player/warm.ts). */
  readonly warm?: boolean
}

export type OpenSocket = () => SocketLike

export interface ConnectionEvents {
  /** A new socket is open: what the previous one sent no longer applies. warm: it was opened ahead (player/warm.ts). */
  open(warm: boolean): void
  message(m: Message): void
  /** The socket is gone; the next attempt follows in retryInMs. */
  lost(info: { code: number; reason: string; attempt: number; retryInMs: number }): void
}

export interface ConnectionOptions {
  backoff?: BackoffOptions
  random?: () => number
}

/** One camera's bridge socket, reopened with capped backoff whenever it closes, until stop(). */
export class Connection {
  private socket: SocketLike | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private attempt = 0
  private stopped = false

  constructor(
    private readonly open: OpenSocket,
    private readonly events: ConnectionEvents,
    private readonly opts: ConnectionOptions = {},
  ) {}

  start(): void {
    if (this.stopped || this.socket || this.retryTimer !== undefined) return
    this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const s = this.socket
    this.socket = undefined
    if (s) {
      detach(s)
      s.close(1000, 'tile closed')
    }
  }

  private connect(): void {
    this.retryTimer = undefined
    let s: SocketLike
    try {
      s = this.open()
    } catch (err) {
      // A malformed URL throws at once; treat it as a connection that failed.
      this.scheduleRetry(1006, err instanceof Error ? err.message : String(err))
      return
    }
    this.socket = s
    let heard = false
    s.onopen = () => {
      if (this.socket === s) this.events.open(s.warm === true)
    }
    s.onmessage = (ev) => {
      if (this.socket !== s) return
      if (!heard) {
        // Only a bridge that actually sends resets the backoff: one that
        // accepts and hangs up at once keeps backing off.
        heard = true
        this.attempt = 0
      }
      this.events.message(parseMessage(asMessageData(ev.data)))
    }
    s.onerror = () => {
      // Always followed by close, which does the work.
    }
    s.onclose = (ev) => {
      if (this.socket !== s) return
      detach(s)
      this.socket = undefined
      this.scheduleRetry(ev.code, ev.reason)
    }
  }

  private scheduleRetry(code: number, reason: string): void {
    if (this.stopped) return
    const retryInMs = backoffDelay(this.attempt, this.opts.backoff ?? defaultBackoff, this.opts.random)
    this.events.lost({ code, reason, attempt: this.attempt, retryInMs })
    this.attempt++
    this.retryTimer = setTimeout(() => this.connect(), retryInMs)
  }
}

function detach(s: SocketLike): void {
  s.onopen = s.onmessage = s.onerror = s.onclose = null
}

function asMessageData(d: unknown): string | ArrayBuffer | ArrayBufferView {
  if (typeof d === 'string' || d instanceof ArrayBuffer || ArrayBuffer.isView(d)) return d
  // A Blob means the opener forgot binaryType; parseMessage reports it as invalid.
  return new Uint8Array(0)
}
