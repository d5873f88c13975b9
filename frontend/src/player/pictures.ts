/**
 * Tells a new picture from one the stream has shown before: only a frame
 * later in stream time than every one decoded on this connection is new. A
 * frame decoded again (a GOP handed over anew) must not keep a frozen
 * picture looking live.
 */
export class NewPictures {
  private newest = -Infinity

  /** A new connection: its stream may start its clock anew. */
  reset(): void {
    this.newest = -Infinity
  }

  /** Whether the frame with this PTS (µs) is new; a new one is remembered. */
  take(ptsUs: number): boolean {
    if (ptsUs <= this.newest) return false
    this.newest = ptsUs
    return true
  }
}
