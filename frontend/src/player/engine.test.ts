import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Engine, type EngineEvent } from './engine'
import { VideoHost, type EngineLink } from './host'
import type { PlaybackEvent } from './playback'
import { configAndLive, FakeDecoder, fakeSocket, frameUs, stubVideoDecoding, unit, type FakeSocket } from '../testing/video'

beforeEach(() => stubVideoDecoding())
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

// The worker's engine with the bridge's channels replaced by sockets the
// test feeds, and what it sends the page kept in order.
function engine(aheadMs?: number) {
  const opened: { camera: string; stream: string; socket: FakeSocket }[] = []
  const sent: EngineEvent[] = []
  const e = new Engine({
    open: (camera, stream) => {
      const socket = fakeSocket()
      opened.push({ camera, stream, socket })
      return socket
    },
    post: (ev) => sent.push(ev),
    now: () => performance.now(),
    aheadMs,
  })
  return { e, opened, sent, kinds: (id: number) => sent.filter((s) => s.id === id).map((s) => s.e.kind) }
}

function framesOf(sent: EngineEvent[], id: number): number[] {
  return sent.flatMap((s) => (s.id === id && s.e.kind === 'frame' ? [s.e.frame.timestamp] : []))
}

/** The socket opened, live, and a GOP of n units decoded. */
function gop(s: FakeSocket, n: number) {
  s.onopen?.({})
  configAndLive(s)
  for (let i = 0; i < n; i++) s.send(unit(i, { key: i === 0 }))
  FakeDecoder.all.at(-1)!.out()
}

describe('Engine', () => {
  it('hands a stream played ahead to its tile: the state, then only the newest frame, on the same channel', () => {
    const t = engine()
    t.e.handle({ t: 'ahead', keys: [{ camera: 'site-01/doff1', stream: 'sub' }] })
    expect(t.opened.map((o) => o.camera)).toEqual(['site-01/doff1'])
    gop(t.opened[0]!.socket, 10)
    expect(t.sent).toEqual([])

    t.e.handle({ t: 'play', id: 7, camera: 'site-01/doff1', stream: 'sub' })
    expect(t.opened).toHaveLength(1)
    expect(t.kinds(7)).toEqual(['state', 'frame'])
    expect(framesOf(t.sent, 7)).toEqual([9 * frameUs])
    // Every frame shown while no tile had it, but the newest, was closed.
    expect(FakeDecoder.frames.filter((f) => f.closed).map((f) => f.timestamp / frameUs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    const stats = t.sent.at(-1)!.e.report.stats
    expect(stats.warm).toBe(true)

    t.opened[0]!.socket.send(unit(10))
    FakeDecoder.all.at(-1)!.out()
    expect(framesOf(t.sent, 7)).toEqual([9 * frameUs, 10 * frameUs])
  })

  it('lets a stream played ahead go when no tile takes it', () => {
    vi.useFakeTimers()
    const t = engine(1000)
    t.e.handle({ t: 'ahead', keys: [{ camera: 'site-01/gate', stream: 'sub' }] })
    gop(t.opened[0]!.socket, 3)
    vi.advanceTimersByTime(1001)
    expect(t.opened[0]!.socket.closed).toBe(true)
    expect(FakeDecoder.frames.every((f) => f.closed)).toBe(true)
    // A tile asking after that gets a channel of its own.
    t.e.handle({ t: 'play', id: 1, camera: 'site-01/gate', stream: 'sub' })
    expect(t.opened).toHaveLength(2)
  })

  it('gives a tile its pool’s warm channel, and a channel of its own on the next connection', () => {
    const t = engine()
    t.e.handle({ t: 'want', pool: 1, keys: [{ camera: 'site-02/waste', stream: 'sub' }] })
    expect(t.opened).toHaveLength(1)
    t.e.handle({ t: 'play', id: 3, camera: 'site-02/waste', stream: 'sub', pool: 1 })
    expect(t.opened).toHaveLength(1)
    t.opened[0]!.socket.onclose?.({ code: 1006, reason: 'gone' })
    expect(t.kinds(3)).toContain('lost')
  })

  it('sends nothing more for a playback stopped, and a dropped pool keeps nothing warm', () => {
    const t = engine()
    t.e.handle({ t: 'play', id: 2, camera: 'site-01/doff2', stream: 'sub' })
    gop(t.opened[0]!.socket, 1)
    const before = t.sent.length
    t.e.handle({ t: 'stop', id: 2 })
    expect(t.opened[0]!.socket.closed).toBe(true)
    t.opened[0]!.socket.send(unit(1))
    expect(t.sent).toHaveLength(before)

    t.e.handle({ t: 'drop', pool: 4 })
    t.e.handle({ t: 'want', pool: 4, keys: [{ camera: 'site-01/doff2', stream: 'sub' }] })
    expect(t.opened).toHaveLength(1)
  })
})

describe('VideoHost', () => {
  function link() {
    const posted: unknown[] = []
    const l: EngineLink = { post: (c) => posted.push(c), onevent: null, ready: Promise.resolve() }
    return { l, posted }
  }

  it('numbers playbacks, hands each its events, and closes a frame that comes after its stop', () => {
    const { l, posted } = link()
    const host = new VideoHost(l)
    const got: PlaybackEvent[] = []
    const h = host.play('site-01/doff1', 'sub', (e) => got.push(e))
    expect(posted).toEqual([{ t: 'play', id: 1, camera: 'site-01/doff1', stream: 'sub', pool: undefined }])
    const report = { stats: {} as never, unseen: 0, lastFrameAt: 0, newestPts: 0 }
    const early = new FakeFrameLike(1)
    l.onevent!({ id: 1, e: { kind: 'frame', frame: early as unknown as VideoFrame, report } })
    expect(got).toHaveLength(1)
    h.stop()
    h.stop()
    expect(posted.filter((p) => (p as { t: string }).t === 'stop')).toHaveLength(1)
    const late = new FakeFrameLike(2)
    l.onevent!({ id: 1, e: { kind: 'frame', frame: late as unknown as VideoFrame, report } })
    expect(got).toHaveLength(1)
    expect(late.closed).toBe(true)
    expect(early.closed).toBe(false)
  })

  it('a stopped pool asks for nothing more', () => {
    const { l, posted } = link()
    const pool = new VideoHost(l).pool()
    pool.want([{ camera: 'a', stream: 'sub' }])
    pool.stop()
    pool.want([{ camera: 'b', stream: 'sub' }])
    expect(posted.map((p) => (p as { t: string }).t)).toEqual(['want', 'drop'])
  })
})

class FakeFrameLike {
  closed = false
  constructor(readonly timestamp: number) {}
  close(): void {
    this.closed = true
  }
}
