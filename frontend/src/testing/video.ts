// The browser's video parts replaced by ones a test drives: a decoder whose
// frames come out when the test says, frames that remember being closed, a
// bridge socket the test sends messages down, and access units as the
// bridge frames them (docs/PROTOCOLS.md).
import { vi } from 'vitest'
import type { SocketLike } from '../player/connection'

export class FakeFrame {
  closed = false
  constructor(
    readonly timestamp: number,
    readonly displayWidth: number,
    readonly displayHeight: number,
  ) {}
  close(): void {
    this.closed = true
  }
}

export class FakeDecoder {
  static all: FakeDecoder[] = []
  /** Every frame any decoder put out, in order. */
  static frames: FakeFrame[] = []
  state = 'unconfigured'
  queue: number[] = []
  width = 0
  configures = 0
  constructor(private readonly init: { output(f: FakeFrame): void; error(e: unknown): void }) {
    FakeDecoder.all.push(this)
  }
  get decodeQueueSize(): number {
    return this.queue.length
  }
  configure(c: { codedWidth: number }): void {
    this.state = 'configured'
    this.width = c.codedWidth
    this.configures++
  }
  decode(chunk: { timestamp: number }): void {
    this.queue.push(chunk.timestamp)
  }
  flush(): Promise<void> {
    return Promise.resolve()
  }
  reset(): void {
    this.queue = []
  }
  close(): void {
    this.state = 'closed'
  }
  /** Outputs n queued frames (all by default), oldest first. */
  out(n = this.queue.length): void {
    for (const ts of this.queue.splice(0, n)) {
      const f = new FakeFrame(ts, this.width, (this.width * 9) / 16)
      FakeDecoder.frames.push(f)
      this.init.output(f)
    }
  }
  /** Fails as a platform decoder does. */
  fail(err: unknown): void {
    this.init.error(err)
  }
}

/** Puts FakeDecoder and a plain EncodedVideoChunk in the globals; vi.unstubAllGlobals undoes it. */
export function stubVideoDecoding(): void {
  FakeDecoder.all = []
  FakeDecoder.frames = []
  vi.stubGlobal('VideoDecoder', FakeDecoder)
  vi.stubGlobal(
    'EncodedVideoChunk',
    class {
      timestamp: number
      constructor(c: { timestamp: number }) {
        this.timestamp = c.timestamp
      }
    },
  )
}

export type FakeSocket = SocketLike & { send(m: string | ArrayBuffer): void; closed: boolean }

/** A bridge socket (or mux channel) the test sends messages down. */
export function fakeSocket(): FakeSocket {
  const s: FakeSocket = {
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    closed: false,
    close() {
      s.closed = true
    },
    send(m) {
      s.onmessage?.({ data: m })
    },
  }
  return s
}

/** A frame's time at 15 frames a second, in µs. */
export const frameUs = 66_667

/** Access unit i: its PTS is i frames; a keyframe or not, catch-up or not. */
export function unit(i: number, opts: { key?: boolean; catchUp?: boolean } = {}): ArrayBuffer {
  const b = new Uint8Array(9 + 5)
  b[0] = (opts.key ? 1 : 0) | (opts.catchUp ? 2 : 0)
  new DataView(b.buffer).setBigUint64(1, BigInt(i * frameUs))
  b.set([0, 0, 0, 1, opts.key ? 0x65 : 0x41], 9)
  return b.buffer
}

/** The bridge's first two events for a stream. */
export function configAndLive(s: FakeSocket, width = 320): void {
  s.send(JSON.stringify({ type: 'config', codec: 'avc1.42c01f', width, height: (width * 9) / 16 }))
  s.send(JSON.stringify({ type: 'state', state: 'live', since: new Date().toISOString(), reason: '' }))
}
