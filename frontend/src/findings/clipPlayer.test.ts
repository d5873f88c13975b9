import { describe, expect, it } from 'vitest'
import type { FrameScheduler } from '../player/frames'
import type { Clip } from './clipMp4'
import { ClipPlayer, type ClipPlayerDeps, type DecoderLike } from './clipPlayer'

// Node has no WebCodecs: this decoder stands in for it with what the player
// relies on (a frame out per chunk, in order, soon after; flush waits for
// them). The real decoder plays the clip in e2e/desktop_clip_test.go.
class FakeDecoder implements DecoderLike {
  state = 'unconfigured'
  decodeQueueSize = 0
  static decoded: number[] = []
  constructor(private readonly init: VideoDecoderInit) {}
  configure(): void {
    this.state = 'configured'
  }
  decode(chunk: EncodedVideoChunk): void {
    if (this.state !== 'configured') throw new Error('decode on a closed decoder')
    FakeDecoder.decoded.push(chunk.timestamp)
    this.decodeQueueSize++
    queueMicrotask(() => {
      this.decodeQueueSize--
      if (this.state === 'closed') return
      this.init.output({ timestamp: chunk.timestamp, displayWidth: 320, displayHeight: 240, close() {} } as unknown as VideoFrame)
    })
  }
  flush(): Promise<void> {
    return new Promise((resolve, reject) => queueMicrotask(() => (this.state === 'closed' ? reject(new Error('closed')) : resolve())))
  }
  close(): void {
    this.state = 'closed'
  }
}

// 30 frames at 10 fps, a keyframe every 10.
const clip: Clip = {
  codec: 'avc1.42c01e',
  width: 320,
  height: 240,
  duration: 3_000_000,
  samples: Array.from({ length: 30 }, (_, i) => ({ pts: i * 100_000, duration: 100_000, keyframe: i % 10 === 0, data: new Uint8Array([i]) })),
}

class ManualFrames implements FrameScheduler {
  private cb: (() => void) | undefined
  request(cb: () => void): number {
    this.cb = cb
    return 1
  }
  cancel(): void {
    this.cb = undefined
  }
  /** Runs the pending repaint, if any, and lets the decoder's outputs in. */
  async run(): Promise<boolean> {
    const cb = this.cb
    this.cb = undefined
    cb?.()
    await new Promise((r) => setTimeout(r, 0))
    return cb !== undefined
  }
}

function setup() {
  FakeDecoder.decoded = []
  let now = 0
  const drawn: number[] = []
  const frames = new ManualFrames()
  const deps: ClipPlayerDeps = {
    decoder: (init) => new FakeDecoder(init),
    chunk: (init) => ({ timestamp: init.timestamp, type: init.type }) as EncodedVideoChunk,
    scheduler: frames,
    now: () => now,
  }
  const player = new ClipPlayer(clip, (f) => drawn.push(f.timestamp / 100_000), () => {}, deps)
  return { player, drawn, frames, advance: (ms: number) => (now += ms) }
}

describe('ClipPlayer', () => {
  it('shows a frame by decoding from the keyframe before it, and draws only that frame', async () => {
    const { player, drawn } = setup()
    await player.show(13)
    expect(FakeDecoder.decoded).toEqual([10, 11, 12, 13].map((i) => i * 100_000))
    expect(drawn).toEqual([13])
    expect(player.current).toMatchObject({ index: 13, time: 1_300_000, playing: false })
  })

  it('steps from the frame being sought when keys come faster than the decoder', async () => {
    const { player } = setup()
    await player.show(5)
    const a = player.step(1)
    const b = player.step(1)
    await Promise.all([a, b])
    expect(player.current.index).toBe(7)
    await player.step(-10)
    expect(player.current.index).toBe(0)
  })

  it('plays on in time at its speed, and stands on the last frame at the end', async () => {
    const { player, drawn, frames, advance } = setup()
    await player.show(0)
    drawn.length = 0
    player.play()
    expect(player.current.playing).toBe(true)
    // The first frame due is drawn at once; then one a 100 ms.
    while (drawn.length === 0) await frames.run()
    advance(250)
    await frames.run()
    expect(drawn.at(-1)).toBe(3)
    player.setRate(2)
    advance(250)
    await frames.run()
    expect(drawn.at(-1)).toBe(8)
    for (let i = 0; i < 200 && player.current.playing; i++) {
      advance(100)
      await frames.run()
    }
    expect(player.current).toMatchObject({ playing: false, index: 29 })
    // Drawn in order, none twice.
    expect(drawn).toEqual([...drawn].sort((x, y) => x - y))
    expect(new Set(drawn).size).toBe(drawn.length)
  })

  it('pauses where it is', async () => {
    const { player, drawn, frames, advance } = setup()
    await player.show(0)
    player.play()
    while (drawn.length < 2) await frames.run()
    advance(300)
    await frames.run()
    player.pause()
    const at = player.current.index
    advance(1000)
    expect(await frames.run()).toBe(false)
    expect(player.current).toMatchObject({ playing: false, index: at })
  })
})
