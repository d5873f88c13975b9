// Which access units go to the decoder. A delta frame is only decodable
// after every frame since its keyframe, so once one is skipped, everything up
// to the next keyframe must be skipped too. Skipping is how the tile stays
// live when the decoder falls behind: it jumps to the next keyframe instead
// of drifting further and further behind the camera.

export type Decision =
  /** Decode the unit. */
  | 'decode'
  /** Do not decode it. */
  | 'drop'
  /** Discard what the decoder still has queued (stale), then decode this keyframe. */
  | 'flush'

export class DropPolicy {
  private waitingForKey = true

  /** @param maxQueue frames allowed in the decoder's queue before skipping starts. */
  constructor(readonly maxQueue = 2) {
    if (!(maxQueue >= 1)) throw new RangeError(`drop policy: maxQueue ${maxQueue}, want at least 1`)
  }

  /** Nothing decodes until the next keyframe: at start, after (re)configuring, after a decoder error, on a new connection. */
  resync(): void {
    this.waitingForKey = true
  }

  get waiting(): boolean {
    return this.waitingForKey
  }

  /** @param queueSize the decoder's decodeQueueSize before this unit. */
  decide(keyframe: boolean, queueSize: number): Decision {
    if (keyframe) {
      this.waitingForKey = false
      return queueSize > this.maxQueue ? 'flush' : 'decode'
    }
    if (this.waitingForKey) return 'drop'
    if (queueSize >= this.maxQueue) {
      this.waitingForKey = true
      return 'drop'
    }
    return 'decode'
  }
}
