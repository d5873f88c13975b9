// One requestAnimationFrame callback draws every tile that has a new frame,
// instead of sixteen callbacks each doing a little: the browser runs them in
// the same frame anyway, but one loop is one place where per-frame work is
// visible and bounded.

export interface FrameScheduler {
  request(cb: () => void): number
  cancel(handle: number): void
}

export interface AnimationFrames {
  request(cb: () => void): number
  cancel(handle: number): void
}

const browserFrames: AnimationFrames = {
  request: (cb) => requestAnimationFrame(cb),
  cancel: (h) => cancelAnimationFrame(h),
}

export class FrameLoop implements FrameScheduler {
  private readonly pending = new Map<number, () => void>()
  private seq = 0
  private handle: number | undefined
  /** Animation frames that ran callbacks: with sixteen busy tiles, about one per repaint. */
  frames = 0
  /** Callbacks that threw; the others in the same frame still ran. */
  errors = 0

  constructor(private readonly animation: AnimationFrames = browserFrames) {}

  request(cb: () => void): number {
    const id = ++this.seq
    this.pending.set(id, cb)
    this.handle ??= this.animation.request(() => this.run())
    return id
  }

  cancel(id: number): void {
    this.pending.delete(id)
    if (this.pending.size === 0 && this.handle !== undefined) {
      this.animation.cancel(this.handle)
      this.handle = undefined
    }
  }

  private run(): void {
    this.handle = undefined
    this.frames++
    const due = [...this.pending.values()]
    this.pending.clear()
    for (const cb of due) {
      try {
        cb()
      } catch {
        this.errors++
      }
    }
  }
}

let shared: FrameLoop | undefined

/** The page's one loop. */
export function frameLoop(): FrameLoop {
  shared ??= new FrameLoop()
  return shared
}
