import { DropPolicy } from './policy'
import type { AccessUnit, ConfigEvent } from './protocol'
import type { DecodeStats, RateWindow } from './stats'

export interface DecoderDeps {
  stats: DecodeStats
  /** Decoded frames and their decode latencies, for fps and latency. */
  window: RateWindow
  /** Takes ownership of each frame: it must close it. */
  output(frame: VideoFrame): void
  policy?: DropPolicy
  /** Monotonic milliseconds. */
  now?: () => number
  /** Makes a VideoDecoder: one made ahead (player/decoders.ts), or a new one. */
  make?: (init: VideoDecoderInit) => VideoDecoder
}

/**
 * WebCodecs H.264 decoding of Annex-B access units. Starts at a keyframe;
 * after a decoder error it starts over at the next keyframe with a new
 * decoder; when the decoder falls behind it skips to the next keyframe.
 */
export class AvcDecoder {
  private decoder: VideoDecoder | undefined
  private config: ConfigEvent | undefined
  private readonly policy: DropPolicy
  private readonly now: () => number
  // Submit time of each chunk still in the decoder, by timestamp.
  private readonly submitted = new Map<number, number>()
  private closed = false

  constructor(private readonly deps: DecoderDeps) {
    this.policy = deps.policy ?? new DropPolicy()
    this.now = deps.now ?? (() => performance.now())
  }

  /** Applies a config event; a changed one reconfigures and waits for a keyframe. */
  configure(cfg: ConfigEvent): void {
    if (this.closed) return
    const c = this.config
    const same = c && c.codec === cfg.codec && c.width === cfg.width && c.height === cfg.height
    this.config = cfg
    this.deps.stats.codec = cfg.codec
    if (same && this.decoder?.state === 'configured') return
    if (this.decoder && this.decoder.state !== 'closed') {
      this.policy.configured()
      this.apply(this.decoder, cfg)
    } else {
      this.policy.resync()
    }
  }

  /** A new connection: its first unit is a keyframe; start over there. */
  resync(): void {
    this.policy.resync()
  }

  push(unit: AccessUnit): void {
    const stats = this.deps.stats
    stats.framesReceived++
    if (this.closed || !this.config) {
      stats.framesDropped++
      return
    }
    if (!this.decoder) {
      if (!unit.keyframe) {
        stats.framesDropped++
        return
      }
      this.decoder = this.create(this.config)
      if (!this.decoder) {
        stats.framesDropped++
        return
      }
    }
    const d = this.decoder
    switch (this.policy.decide(unit.keyframe, d.decodeQueueSize, this.now())) {
      case 'drop':
        stats.framesDropped++
        return
      case 'flush':
        // reset() discards the queued chunks without output; count them.
        stats.framesDropped += d.decodeQueueSize
        d.reset()
        this.submitted.clear()
        this.apply(d, this.config)
        if (this.decoder !== d) return
        break
      case 'decode':
        break
    }
    try {
      const chunk = new EncodedVideoChunk({
        type: unit.keyframe ? 'key' : 'delta',
        timestamp: unit.pts,
        data: unit.data,
      })
      // A decoder may swallow a chunk without output; do not let that grow the map.
      if (this.submitted.size > 64) this.submitted.clear()
      this.submitted.set(unit.pts, this.now())
      d.decode(chunk)
    } catch (err) {
      this.fail(d, err)
    }
  }

  close(): void {
    this.closed = true
    const d = this.decoder
    this.decoder = undefined
    if (d && d.state !== 'closed') d.close()
    this.submitted.clear()
  }

  private create(cfg: ConfigEvent): VideoDecoder | undefined {
    let d: VideoDecoder
    try {
      const init: VideoDecoderInit = {
        output: (frame) => this.onOutput(d, frame),
        error: (err) => this.fail(d, err),
      }
      d = this.deps.make ? this.deps.make(init) : new VideoDecoder(init)
    } catch (err) {
      this.deps.stats.lastError = `VideoDecoder: ${errorText(err)}`
      return undefined
    }
    this.policy.configured()
    this.apply(d, cfg)
    return d.state === 'configured' ? d : undefined
  }

  private apply(d: VideoDecoder, cfg: ConfigEvent): void {
    try {
      // No description: the chunks are Annex-B with SPS and PPS in band.
      d.configure({
        codec: cfg.codec,
        codedWidth: cfg.width,
        codedHeight: cfg.height,
        optimizeForLatency: true,
        hardwareAcceleration: hardwareFor(cfg),
      })
    } catch (err) {
      this.fail(d, err)
    }
  }

  private onOutput(d: VideoDecoder, frame: VideoFrame): void {
    if (d !== this.decoder) {
      frame.close()
      return
    }
    const now = this.now()
    const at = this.submitted.get(frame.timestamp)
    this.submitted.delete(frame.timestamp)
    this.policy.decoded()
    const s = this.deps.stats
    s.framesDecoded++
    s.width = frame.displayWidth
    s.height = frame.displayHeight
    this.deps.window.add(now, at === undefined ? 0 : now - at)
    this.deps.output(frame)
  }

  // The decoder is unusable after an error: drop it and build a new one at
  // the next keyframe, so a decoder that keeps failing costs one attempt a GOP.
  private fail(d: VideoDecoder, err: unknown): void {
    if (d !== this.decoder && this.decoder !== undefined) return
    this.deps.stats.decodeErrors++
    this.deps.stats.lastError = errorText(err)
    if (d.state !== 'closed') d.close()
    if (this.decoder === d) this.decoder = undefined
    this.submitted.clear()
    this.policy.resync()
  }
}

// A sub stream is cheap to decode in software; a focus view's main stream
// may use the hardware. (Neither spares a new decoder its first set-up's
// wait on the page's main thread: player/decoders.ts.)
const softwareArea = 640 * 480

function hardwareFor(cfg: ConfigEvent): HardwareAcceleration {
  return cfg.width * cfg.height <= softwareArea ? 'prefer-software' : 'no-preference'
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
