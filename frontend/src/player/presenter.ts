// Which decoded frames go to the canvas. A connection starts with a burst:
// the GOP the console held (marked catch-up by the bridge), or the relay's
// cached GOP reaching a console that just began to pull (not marked: to the
// console it is new). Drawing that burst as it decodes shows up to a GOP of
// old video first and then fast-forwards it; the officer, who just pressed a
// key, takes the first picture for the present. So the burst is decoded
// unseen and the first picture shown is the newest, and after it nothing
// older than what is on screen is ever shown.

export interface PresenterOptions {
  /**
   * Before the first picture, a frame this far (µs of stream time) behind
   * the newest unit already received is not shown: a newer one is on its way
   * through the decoder.
   */
  staleUs: number
  /**
   * ...unless the connection's first frame came out this long ago (ms) and
   * nothing has been shown: a decoder that never catches up (a machine
   * that cannot keep up) still shows a picture.
   */
  holdMs: number
}

export const defaultPresenter: PresenterOptions = { staleUs: 150_000, holdMs: 500 }

export class Presenter {
  private readonly opts: PresenterOptions
  private newest = -Infinity
  private shown = -Infinity
  private readonly catchUp = new Set<number>()
  private firstOutAt: number | undefined

  constructor(opts: Partial<PresenterOptions> = {}) {
    this.opts = { ...defaultPresenter, ...opts }
  }

  /** A new connection: its stream may start its clock anew. */
  reset(): void {
    this.newest = -Infinity
    this.shown = -Infinity
    this.catchUp.clear()
    this.firstOutAt = undefined
  }

  /** The PTS (µs) of the newest unit received on this connection; -Infinity before the first. */
  get newestPts(): number {
    return this.newest
  }

  /** Whether anything was shown on this connection. */
  get started(): boolean {
    return this.shown > -Infinity
  }

  /** A unit given to the decoder. */
  pushed(pts: number, catchUp: boolean): void {
    if (pts > this.newest) this.newest = pts
    // A decoder that swallowed units without output must not grow the set.
    if (this.catchUp.size > 600) this.catchUp.clear()
    if (catchUp) this.catchUp.add(pts)
  }

  /** Whether the decoded frame with this PTS was a catch-up unit's. */
  isCatchUp(pts: number): boolean {
    return this.catchUp.has(pts)
  }

  /**
   * Whether to show the decoded frame with this PTS (µs); a frame shown is
   * remembered.
   * @param now monotonic milliseconds
   */
  show(pts: number, now: number): boolean {
    this.firstOutAt ??= now
    if (this.catchUp.delete(pts)) return false
    if (pts <= this.shown) return false
    if (!this.started && this.newest - pts > this.opts.staleUs && now - this.firstOutAt < this.opts.holdMs) return false
    this.shown = pts
    return true
  }
}
