import { frameLoop, type FrameScheduler } from './frames'
import type { TileStats } from './stats'

/**
 * Draws the newest decoded frame on a canvas at the next repaint. A frame
 * that a newer one replaces before the repaint is closed undrawn, so a
 * hidden window or a slow repaint never holds more than one frame.
 * The canvas takes the frame's own size; CSS scales it (object-fit: contain
 * keeps the aspect ratio). What a canvas shows stays there when its renderer
 * closes, so a tile switching cameras keeps the old picture until the new
 * one's first frame replaces it.
 */
export class CanvasRenderer {
  private pending: VideoFrame | undefined
  private handle: number | undefined
  private readonly ctx: CanvasRenderingContext2D
  /** The PTS (µs, as the bridge sent it) of the frame the canvas shows; undefined before the first. */
  shownPts: number | undefined

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly stats: TileStats,
    private readonly scheduler: FrameScheduler = frameLoop(),
    /** Called once, right after the first frame is drawn. */
    private readonly onFirst?: () => void,
  ) {
    const ctx = canvas.getContext('2d', { alpha: false })
    if (!ctx) throw new Error('canvas renderer: no 2D context')
    this.ctx = ctx
    canvas.style.objectFit = 'contain'
  }

  /** Takes ownership of the frame. */
  submit(frame: VideoFrame): void {
    if (this.pending) {
      this.pending.close()
      this.stats.framesNotDrawn++
    }
    this.pending = frame
    if (this.handle === undefined) this.handle = this.scheduler.request(() => this.draw())
  }

  /** Drops any pending frame and blanks the canvas: for a tile left empty. */
  clear(): void {
    this.dropPending()
    this.ctx.fillStyle = '#000'
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height)
    this.shownPts = undefined
  }

  close(): void {
    this.dropPending()
  }

  private dropPending(): void {
    if (this.handle !== undefined) this.scheduler.cancel(this.handle)
    this.handle = undefined
    this.pending?.close()
    this.pending = undefined
  }

  private draw(): void {
    this.handle = undefined
    const f = this.pending
    this.pending = undefined
    if (!f) return
    try {
      const w = f.displayWidth
      const h = f.displayHeight
      if (this.canvas.width !== w || this.canvas.height !== h) {
        this.canvas.width = w
        this.canvas.height = h
      }
      this.ctx.drawImage(f, 0, 0, w, h)
      this.shownPts = f.timestamp
      this.stats.drawnPts = f.timestamp
      const first = this.stats.framesRendered === 0
      if (first) this.stats.firstDrawnAt = performance.now()
      this.stats.framesRendered++
      if (first) this.onFirst?.()
    } finally {
      f.close()
    }
  }
}
