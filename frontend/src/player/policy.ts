// Which access units go to the decoder. A delta frame is only decodable
// after every frame since its keyframe, so once one is skipped, everything up
// to the next keyframe must be skipped too. Skipping is how the tile stays
// live when the decoder falls behind: it jumps to the next keyframe instead
// of drifting further and further behind the camera.
//
// A decoder that was just configured has not started yet (the platform
// decoder initialises on the first chunks), so its queue may grow a little
// before the first frame comes out; treating that as falling behind would
// throw away the whole first GOP on every start.

export type Decision =
  /** Decode the unit. */
  | 'decode'
  /** Do not decode it. */
  | 'drop'
  /** Discard what the decoder still has queued (stale), then decode this keyframe. */
  | 'flush'

export class DropPolicy {
  private waitingForKey = true
  private cold = true

  /**
   * @param maxQueue frames allowed in the decoder's queue before skipping starts.
   * @param startupQueue the same, for a decoder that has not output its first frame yet.
   */
  constructor(
    readonly maxQueue = 2,
    readonly startupQueue = 8,
  ) {
    if (!(maxQueue >= 1)) throw new RangeError(`drop policy: maxQueue ${maxQueue}, want at least 1`)
    if (!(startupQueue >= maxQueue)) {
      throw new RangeError(`drop policy: startupQueue ${startupQueue}, want at least maxQueue ${maxQueue}`)
    }
  }

  /** Nothing decodes until the next keyframe: after a decoder error, on a new connection. */
  resync(): void {
    this.waitingForKey = true
  }

  /** A new or reconfigured decoder: wait for a keyframe, and allow it to warm up. */
  configured(): void {
    this.waitingForKey = true
    this.cold = true
  }

  /** The decoder output a frame: it is running. */
  decoded(): void {
    this.cold = false
  }

  get waiting(): boolean {
    return this.waitingForKey
  }

  /** @param queueSize the decoder's decodeQueueSize before this unit. */
  decide(keyframe: boolean, queueSize: number): Decision {
    const limit = this.cold ? this.startupQueue : this.maxQueue
    if (keyframe) {
      this.waitingForKey = false
      if (queueSize <= limit) return 'decode'
      // The caller resets and reconfigures the decoder, which starts it over.
      this.cold = true
      return 'flush'
    }
    if (this.waitingForKey) return 'drop'
    if (queueSize >= limit) {
      this.waitingForKey = true
      return 'drop'
    }
    return 'decode'
  }
}
