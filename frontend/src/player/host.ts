// The page's side of the view's video worker (player/engine.ts): it numbers
// the tiles' playbacks and the warm pools, sends their commands and hands
// each playback's events to its player. A frame that arrives for a
// playback already stopped is closed here: a VideoFrame holds decoder
// memory until closed.

import type { EngineCommand, EngineEvent } from './engine'
import type { PlaybackEvent } from './playback'
import type { WarmKey } from './warm'

/** How commands reach the engine and its events come back: a Worker (player/worker.ts), or the engine itself in tests. */
export interface EngineLink {
  post(cmd: EngineCommand): void
  onevent: ((ev: EngineEvent) => void) | null
  /** Resolved once the engine has the bridge. */
  readonly ready: Promise<void>
}

export interface PlaybackHandle {
  stop(): void
}

/** Streams kept warm ahead of the tiles (player/warm.ts), in the worker. */
export class WarmPool {
  private stopped = false

  constructor(
    private readonly link: EngineLink,
    readonly id: number,
  ) {}

  /** Keeps these warm; the others are let go after a while (WarmSockets.want). */
  want(keys: readonly WarmKey[]): void {
    if (this.stopped) return
    this.link.post({ t: 'want', pool: this.id, keys: plain(keys) })
  }

  /** Closes every warm stream; want does nothing after. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.link.post({ t: 'drop', pool: this.id })
  }
}

export class VideoHost {
  private readonly sinks = new Map<number, (e: PlaybackEvent) => void>()
  private next = 1

  constructor(private readonly link: EngineLink) {
    link.onevent = (ev) => this.deliver(ev)
  }

  /** Plays camera's stream, from pool's warm stream if it holds one; events go to emit until stop. */
  play(camera: string, stream: string, emit: (e: PlaybackEvent) => void, pool?: WarmPool): PlaybackHandle {
    const id = this.next++
    this.sinks.set(id, emit)
    this.link.post({ t: 'play', id, camera, stream, pool: pool?.id })
    return {
      stop: () => {
        if (!this.sinks.delete(id)) return
        this.link.post({ t: 'stop', id })
      },
    }
  }

  /** Plays these streams at once, ahead of their tiles, which take them over (the opening wall). */
  playAhead(keys: readonly WarmKey[]): void {
    this.link.post({ t: 'ahead', keys: plain(keys) })
  }

  /** Resolved once the worker has the bridge: a command sent now is read at once, whatever the page's main thread does. */
  get ready(): Promise<void> {
    return this.link.ready
  }

  pool(): WarmPool {
    return new WarmPool(this.link, this.next++)
  }

  private deliver(ev: EngineEvent): void {
    const emit = this.sinks.get(ev.id)
    if (emit) emit(ev.e)
    else if (ev.e.kind === 'frame') ev.e.frame.close()
  }
}

// Only what the engine reads: a caller's key may carry more, which a
// message to a worker would copy, or refuse (a function).
function plain(keys: readonly WarmKey[]): WarmKey[] {
  return keys.map((k) => ({ camera: k.camera, stream: k.stream }))
}
