// Plays an evidence clip on a canvas through WebCodecs, the way the wall
// plays the bridge's video: the same H.264 decoder in Chromium and in the
// WebKitGTK window, whose own <video> cannot load the window's wails://
// addresses. Every move (a seek, a step, playing on) decodes from the
// keyframe at or before the frame wanted and draws from that frame on, so a
// frame is exact whichever way it is reached. No Vue in here.
import { frameLoop, type FrameScheduler } from '../player/frames'
import type { Clip } from './clipMp4'

/** The speeds the player steps through. */
export const clipRates = [0.25, 0.5, 1, 2, 4] as const

export interface ClipState {
  playing: boolean
  /** The frame shown, or -1 before the first is drawn. */
  index: number
  /** Its time from the clip's start, µs. */
  time: number
  rate: number
  /** Why the clip cannot be decoded, if it cannot. */
  error?: string
}

/** What the player needs of a VideoDecoder: the page's, or a stand-in in the unit tests. */
export interface DecoderLike {
  readonly decodeQueueSize: number
  readonly state: string
  configure(config: VideoDecoderConfig): void
  decode(chunk: EncodedVideoChunk): void
  flush(): Promise<void>
  close(): void
}

export interface ClipPlayerDeps {
  decoder?: (init: VideoDecoderInit) => DecoderLike
  chunk?: (init: EncodedVideoChunkInit) => EncodedVideoChunk
  scheduler?: FrameScheduler
  now?: () => number
}

// Decoded frames waiting for their time: a few, so a pause or a seek has
// little to throw away.
const ahead = 6

export class ClipPlayer {
  private run = 0
  private decoder: DecoderLike | undefined
  private queue: { index: number; frame: VideoFrame }[] = []
  private tickHandle: number | undefined
  private anchor: { wall: number; time: number } | undefined
  // The frame a seek under way is to show.
  private wanted: number | undefined
  private state: ClipState = { playing: false, index: -1, time: 0, rate: 1 }
  private readonly makeDecoder: (init: VideoDecoderInit) => DecoderLike
  private readonly makeChunk: (init: EncodedVideoChunkInit) => EncodedVideoChunk
  private readonly scheduler: FrameScheduler
  private readonly now: () => number

  constructor(
    private readonly clip: Clip,
    private readonly draw: (frame: VideoFrame) => void,
    private readonly changed: (s: ClipState) => void,
    deps: ClipPlayerDeps = {},
  ) {
    this.makeDecoder = deps.decoder ?? ((init) => new VideoDecoder(init))
    this.makeChunk = deps.chunk ?? ((init) => new EncodedVideoChunk(init))
    this.scheduler = deps.scheduler ?? frameLoop()
    this.now = deps.now ?? (() => performance.now())
  }

  get current(): ClipState {
    return this.state
  }

  get frames(): number {
    return this.clip.samples.length
  }

  /** Stops playing and shows frame `index` (clamped to the clip). */
  async show(index: number): Promise<void> {
    const run = this.stop()
    const n = this.clip.samples.length
    const target = Math.max(0, Math.min(n - 1, index))
    this.wanted = target
    let last: { index: number; frame: VideoFrame } | undefined
    const d = this.open(run, target, (index, frame) => {
      last?.frame.close()
      last = { index, frame }
    })
    if (!d) return
    try {
      for (let i = this.keyframeBefore(target); i <= target; i++) d.decode(this.chunkOf(i))
      await d.flush()
    } catch (err) {
      if (run === this.run) this.fail(err)
    }
    if (d.state !== 'closed') d.close()
    if (run !== this.run || !last) {
      last?.frame.close()
      return
    }
    this.wanted = undefined
    this.drawFrame(last.index, last.frame)
    this.set({})
  }

  /** Moves by `delta` frames, paused; from the frame being sought if a step is under way (a key held down). */
  step(delta: number): Promise<void> {
    return this.show((this.wanted ?? Math.max(0, this.state.index)) + delta)
  }

  /** Plays on from the frame shown; from the start when at the end. */
  play(): void {
    const n = this.clip.samples.length
    const run = this.stop()
    const from = this.state.index >= n - 1 ? 0 : this.state.index + 1
    let next = this.keyframeBefore(from)
    let flushing = false
    let flushed = false
    const d = this.open(run, from, (index, frame) => this.queue.push({ index, frame }))
    if (!d) return
    this.anchor = undefined
    this.set({ playing: true })
    const tick = () => {
      this.tickHandle = undefined
      if (run !== this.run) return
      const now = this.now()
      const head = this.queue[0]
      if (!this.anchor && head) this.anchor = { wall: now, time: this.clip.samples[head.index]!.pts }
      if (this.anchor) {
        const time = this.anchor.time + (now - this.anchor.wall) * 1000 * this.state.rate
        let due: { index: number; frame: VideoFrame } | undefined
        while (this.queue.length && this.clip.samples[this.queue[0]!.index]!.pts <= time) {
          due?.frame.close()
          due = this.queue.shift()
        }
        if (due) {
          this.drawFrame(due.index, due.frame)
          this.set({})
        }
      }
      try {
        while (next < n && d.decodeQueueSize + this.queue.length < ahead) d.decode(this.chunkOf(next++))
        if (next >= n && !flushing) {
          flushing = true
          d.flush().then(
            () => (flushed = true),
            (err) => run === this.run && this.fail(err),
          )
        }
      } catch (err) {
        this.fail(err)
        return
      }
      if (flushed && this.queue.length === 0) {
        this.stop()
        return
      }
      this.tickHandle = this.scheduler.request(tick)
    }
    tick()
  }

  pause(): void {
    this.stop()
  }

  toggle(): void {
    if (this.state.playing) this.pause()
    else this.play()
  }

  /** Sets the speed, one of clipRates; playing on from where it is. */
  setRate(rate: number): void {
    if (this.anchor) {
      const now = this.now()
      this.anchor = { wall: now, time: this.anchor.time + (now - this.anchor.wall) * 1000 * this.state.rate }
    }
    this.set({ rate })
  }

  /** The next speed up (+1) or down (-1). */
  faster(dir: 1 | -1): void {
    const i = clipRates.indexOf(this.state.rate as (typeof clipRates)[number])
    this.setRate(clipRates[Math.max(0, Math.min(clipRates.length - 1, (i < 0 ? 2 : i) + dir))]!)
  }

  close(): void {
    this.stop()
  }

  // Ends what is going on (playing, a seek) and returns the new run's number.
  private stop(): number {
    const run = ++this.run
    this.wanted = undefined
    if (this.tickHandle !== undefined) this.scheduler.cancel(this.tickHandle)
    this.tickHandle = undefined
    const d = this.decoder
    this.decoder = undefined
    if (d && d.state !== 'closed') d.close()
    for (const q of this.queue) q.frame.close()
    this.queue = []
    this.anchor = undefined
    if (this.state.playing) this.set({ playing: false })
    return run
  }

  // A decoder for one run. Its frames come out in decode order, which for
  // the clips' H.264 (no B-frames from these cameras) is their order: the
  // k-th output is the k-th sample sent. Frames before `from` are decoded
  // but not kept.
  private open(run: number, from: number, keep: (index: number, frame: VideoFrame) => void): DecoderLike | undefined {
    let out = this.keyframeBefore(from)
    let d: DecoderLike
    try {
      d = this.makeDecoder({
        output: (frame) => {
          const index = out++
          if (run !== this.run || index < from) frame.close()
          else keep(index, frame)
        },
        error: (err) => run === this.run && this.fail(err),
      })
      d.configure({ codec: this.clip.codec, codedWidth: this.clip.width, codedHeight: this.clip.height, optimizeForLatency: true })
    } catch (err) {
      this.fail(err)
      return undefined
    }
    this.decoder = d
    return d
  }

  private keyframeBefore(index: number): number {
    for (let i = index; i > 0; i--) if (this.clip.samples[i]!.keyframe) return i
    return 0
  }

  private chunkOf(i: number): EncodedVideoChunk {
    const s = this.clip.samples[i]!
    return this.makeChunk({ type: s.keyframe ? 'key' : 'delta', timestamp: s.pts, duration: s.duration, data: s.data })
  }

  private drawFrame(index: number, frame: VideoFrame): void {
    try {
      this.draw(frame)
    } finally {
      frame.close()
    }
    this.state = { ...this.state, index, time: this.clip.samples[index]!.pts }
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    this.stop()
    this.set({ error })
  }

  private set(s: Partial<ClipState>): void {
    this.state = { ...this.state, ...s }
    this.changed(this.state)
  }
}
