// Which access units go to the decoder. A delta frame is only decodable
// after every frame since its keyframe, so once one is skipped, everything up
// to the next keyframe must be skipped too: that happens only where there is
// no picture to keep (a new connection, a decoder error). A decoder that
// falls behind keeps decoding every delta frame (the renderer shows the
// newest at each repaint, so the picture catches up moving) and starts over
// at the next keyframe, discarding what it still has queued, which is all
// older than that keyframe. Before issue 10 it skipped the deltas until the
// next keyframe instead, freezing a picture that had just appeared for up
// to a GOP (2.4 s seen under load, right after a focus switch).
//
// "Behind" is a queue that stays above maxQueue (1–2 frames) for longer than
// graceMs, not a queue that is long for a moment: a new viewer is sent the
// camera's GOP so far in one burst (the frames from the last keyframe up to
// now, all needed to show the present picture), and a network hiccup
// delivers held-back frames at once; a decoder that keeps up drains either in
// a few milliseconds. Dropping them would freeze the picture for a GOP.
// While a decoder is starting (no frame out yet since it was configured) its
// queue waits on the platform decoder's set-up, so only hardQueue applies.

export type Decision =
  /** Decode the unit. */
  | 'decode'
  /** Do not decode it: waiting for a keyframe. */
  | 'drop'
  /** Discard what the decoder still has queued (stale), then decode this keyframe. */
  | 'flush'

export interface PolicyOptions {
  /** A queue this long or longer counts as a backlog. */
  maxQueue: number
  /** How long a backlog may last before the decoder counts as behind. */
  graceMs: number
  /** A queue this long is behind at once, starting or not. */
  hardQueue: number
}

export const defaultPolicy: PolicyOptions = { maxQueue: 2, graceMs: 400, hardQueue: 120 }

export class DropPolicy {
  private waitingForKey = true
  private cold = true
  private backlogSince: number | undefined
  readonly opts: PolicyOptions

  constructor(opts: Partial<PolicyOptions> = {}) {
    const o = { ...defaultPolicy, ...opts }
    if (!(o.maxQueue >= 1)) throw new RangeError(`drop policy: maxQueue ${o.maxQueue}, want at least 1`)
    if (!(o.hardQueue >= o.maxQueue)) {
      throw new RangeError(`drop policy: hardQueue ${o.hardQueue}, want at least maxQueue ${o.maxQueue}`)
    }
    if (!(o.graceMs >= 0)) throw new RangeError(`drop policy: graceMs ${o.graceMs}, want 0 or more`)
    this.opts = o
  }

  /** Nothing decodes until the next keyframe: after a decoder error, on a new connection. */
  resync(): void {
    this.waitingForKey = true
  }

  /** A new or reconfigured decoder: wait for a keyframe, and let it start up. */
  configured(): void {
    this.waitingForKey = true
    this.cold = true
    this.backlogSince = undefined
  }

  /** The decoder output a frame: it is running. */
  decoded(): void {
    this.cold = false
  }

  get waiting(): boolean {
    return this.waitingForKey
  }

  /**
   * @param queueSize the decoder's decodeQueueSize before this unit
   * @param now monotonic milliseconds
   */
  decide(keyframe: boolean, queueSize: number, now: number): Decision {
    const behind = this.behind(queueSize, now)
    if (keyframe) {
      this.waitingForKey = false
      if (!behind) return 'decode'
      // The caller resets and reconfigures the decoder, which starts it over.
      this.cold = true
      this.backlogSince = undefined
      return 'flush'
    }
    if (this.waitingForKey) return 'drop'
    return 'decode'
  }

  private behind(queueSize: number, now: number): boolean {
    if (queueSize >= this.opts.hardQueue) return true
    if (queueSize < this.opts.maxQueue || this.cold) {
      this.backlogSince = undefined
      return false
    }
    this.backlogSince ??= now
    return now - this.backlogSince > this.opts.graceMs
  }
}
