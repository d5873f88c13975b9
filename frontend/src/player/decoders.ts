// VideoDecoders made ahead of the streams that will need them. Chromium
// fetches a new decoder's GPU factories from the page's main thread on its
// first configure, also in a worker and also for a decoder that prefers
// software; a cold start's sixteen decoders, made as their first keyframes
// came, waited out the console's first render (0.3–0.6 s) before decoding
// a frame. A decoder configured once keeps them, so one made while the page
// is idle and configured again for its stream starts at once.

/** A decoder's first configure before its stream's own: any H.264 stream is decoded with it. */
const readyConfig: VideoDecoderConfig = {
  codec: 'avc1.42e01e',
  codedWidth: 320,
  codedHeight: 180,
  hardwareAcceleration: 'prefer-software',
  optimizeForLatency: true,
}

interface Ready {
  decoder: VideoDecoder
  init: VideoDecoderInit
}

export class DecoderPool {
  private ready: Ready[] = []

  /** Decoders ready now, for tests. */
  get size(): number {
    return this.ready.length
  }

  /** Makes decoders until n are ready; resolves when every one made is configured. */
  fill(n: number): Promise<void> {
    const made: Promise<void>[] = []
    while (this.ready.length < n) {
      const r = this.make()
      if (!r) break
      made.push(r.decoder.flush().catch(() => {}))
    }
    return Promise.all(made).then(() => {})
  }

  /** A ready decoder sending to init's callbacks, or a new one. */
  take(init: VideoDecoderInit): VideoDecoder {
    const r = this.ready.pop()
    if (!r) return new VideoDecoder(init)
    r.init.output = init.output
    r.init.error = init.error
    return r.decoder
  }

  private make(): Ready | undefined {
    // Its callbacks are those of whoever takes it.
    const init: VideoDecoderInit = { output: (f) => f.close(), error: () => this.forget(r) }
    let r: Ready
    try {
      r = { decoder: new VideoDecoder({ output: (f) => init.output(f), error: (e) => init.error(e) }), init }
      r.decoder.configure(readyConfig)
    } catch {
      return undefined
    }
    this.ready.push(r)
    return r
  }

  private forget(r: Ready): void {
    this.ready = this.ready.filter((x) => x !== r)
  }
}
