import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { OpenSocket } from './connection'
import { Handover, type TilePlayer } from './handover'
import { NewPictures } from './pictures'
import { Playback } from './playback'
import { Player, type PlayerOptions } from './player'
import { configAndLive, FakeDecoder, fakeSocket, frameUs, stubVideoDecoding, unit } from '../testing/video'
import { Presenter } from './presenter'

describe('NewPictures', () => {
  it('takes only frames later than every one before', () => {
    const p = new NewPictures()
    // A GOP, then the same GOP handed over again, then the next frame.
    const gop = [0, 66_666, 133_333]
    expect(gop.map((pts) => p.take(pts))).toEqual([true, true, true])
    expect(gop.map((pts) => p.take(pts))).toEqual([false, false, false])
    expect(p.take(200_000)).toBe(true)
  })

  it('starts over on a new connection', () => {
    const p = new NewPictures()
    expect(p.take(5_000_000)).toBe(true)
    p.reset()
    expect(p.take(0)).toBe(true)
  })
})

// ---- the player with the browser's parts replaced by ones the test drives
// (testing/video.ts), a canvas that records what was drawn, and animation
// frames that fire on paint().

let painting: (() => void)[] = []
function paint(): void {
  const cbs = painting
  painting = []
  cbs.forEach((cb) => cb())
}

beforeEach(() => {
  painting = []
  stubVideoDecoding()
  vi.stubGlobal('requestAnimationFrame', (cb: () => void) => painting.push(cb))
  vi.stubGlobal('cancelAnimationFrame', () => {})
})
afterEach(() => vi.unstubAllGlobals())

/** A canvas that records the PTS of every frame drawn on it, in order. */
function fakeCanvas() {
  const drawn: number[] = []
  const ctx = { drawImage: (f: { timestamp: number }) => drawn.push(f.timestamp), fillRect() {}, fillStyle: '' }
  const canvas = { width: 0, height: 0, style: {}, getContext: () => ctx }
  return { canvas: canvas as unknown as HTMLCanvasElement, drawn }
}

/** The video worker's half of the player, run here: the same Playback, its events handed over at once. */
function here(open: OpenSocket): PlayerOptions['video'] {
  return (emit) => {
    const p = new Playback({ open, emit, now: () => performance.now() })
    p.start()
    return p
  }
}

function startPlayer(stream = 'sub', onFirstFrame?: () => void) {
  const { canvas, drawn } = fakeCanvas()
  const socket = fakeSocket()
  const player = new Player({ canvas, video: here(() => socket), tileId: 'tile-1', camera: 'site-01/doff1', stream, onFirstFrame })
  player.start()
  socket.onopen?.({})
  configAndLive(socket)
  return { player, socket, drawn, canvas, decoder: () => FakeDecoder.all.at(-1)! }
}

describe('Player', () => {
  it('draws the newest cached frame first, never one older than one already drawn', () => {
    const t = startPlayer()
    // The GOP the console held: 29 catch-up units and the newest.
    for (let i = 0; i < 30; i++) t.socket.send(unit(i, { key: i === 0, catchUp: i < 29 }))
    // The decoder works through it across several repaints.
    for (let i = 0; i < 6; i++) {
      t.decoder().out(5)
      paint()
    }
    expect(t.drawn).toEqual([29 * frameUs])
    for (let i = 30; i < 33; i++) {
      t.socket.send(unit(i))
      t.decoder().out()
      paint()
    }
    expect(t.drawn).toEqual([29, 30, 31, 32].map((i) => i * frameUs))
    t.player.stop()
  })

  it('shows a burst not marked (the relay’s cache to a new pull) from near its newest, in order', () => {
    const t = startPlayer()
    for (let i = 0; i < 30; i++) t.socket.send(unit(i, { key: i === 0 }))
    for (let i = 0; i < 10; i++) {
      t.decoder().out(3)
      paint()
    }
    expect(t.drawn.length).toBeGreaterThan(0)
    expect(29 * frameUs - t.drawn[0]!).toBeLessThanOrEqual(150_000)
    expect(t.drawn).toEqual([...t.drawn].sort((a, b) => a - b))
    t.player.stop()
  })

  it('keeps decoding a backlog after its first picture: no skip to the next keyframe, no frame lost', () => {
    const t = startPlayer()
    t.socket.send(unit(0, { key: true }))
    t.decoder().out()
    paint()
    // The decoder falls behind for longer than the policy's grace.
    const now = vi.spyOn(performance, 'now')
    let ms = 1000
    now.mockImplementation(() => ms)
    for (let i = 1; i < 40; i++) {
      ms += frameUs / 1000
      t.socket.send(unit(i))
    }
    expect(t.decoder().decodeQueueSize).toBe(39)
    t.decoder().out()
    paint()
    now.mockRestore()
    expect(t.player.stats.framesDropped).toBe(0)
    expect(t.drawn).toEqual([0, 39 * frameUs])
    t.player.stop()
  })

  it('on a new stream of the same camera keeps the old picture until the new one’s first frame', () => {
    // The focus view: the tile's sub stream, then its main.
    const { canvas, drawn } = fakeCanvas()
    const sockets = [fakeSocket(), fakeSocket()]
    let opened = 0
    const players = new Handover<Player>(() => {})
    const play = (stream: string) =>
      players.play({ camera: 'site-01/doff1', stream, tileId: 'tile-1' }, (firstFrame, takingOver) => {
        const socket = sockets[opened++]!
        return new Player({ canvas, video: here(() => socket), tileId: 'tile-1', camera: 'site-01/doff1', stream, onFirstFrame: firstFrame, takingOver })
      })
    const feed = (s: ReturnType<typeof fakeSocket>, width: number) => {
      s.onopen?.({})
      s.send(JSON.stringify({ type: 'config', codec: 'avc1.42c01f', width, height: (width * 9) / 16 }))
    }
    play('sub')
    feed(sockets[0]!, 320)
    sockets[0]!.send(unit(0, { key: true }))
    const sub = FakeDecoder.all[0]!
    sub.out()
    paint()
    expect(drawn).toEqual([0])
    const subPlayer = players.shown

    play('main')
    feed(sockets[1]!, 640)
    // The sub stream plays on while main starts: its frames still show.
    sockets[0]!.send(unit(1))
    sub.out()
    paint()
    expect(drawn).toEqual([0, frameUs])
    expect(players.shown).toBe(subPlayer)
    // Main's first frame and a sub frame in the same repaint: main's wins, and sub is gone.
    sockets[1]!.send(unit(2, { key: true }))
    const main = FakeDecoder.all[1]!
    sockets[0]!.send(unit(2))
    main.out()
    sub.out()
    paint()
    expect(drawn).toEqual([0, frameUs, 2 * frameUs])
    expect(canvas.width).toBe(640)
    expect(players.shown).not.toBe(subPlayer)
    expect(sub.state).toBe('closed')
    players.stop()
  })
})

describe('Presenter', () => {
  it('shows nothing older than what it showed, and starts over on a new connection', () => {
    const p = new Presenter()
    p.pushed(100_000, false)
    expect(p.show(100_000, 0)).toBe(true)
    expect(p.show(100_000, 1)).toBe(false)
    expect(p.show(50_000, 2)).toBe(false)
    p.reset()
    p.pushed(0, false)
    expect(p.show(0, 3)).toBe(true)
  })

  it('shows a stale frame when nothing newer comes out in time', () => {
    const p = new Presenter({ staleUs: 150_000, holdMs: 500 })
    for (let i = 0; i < 30; i++) p.pushed(i * frameUs, false)
    expect(p.show(0, 0)).toBe(false)
    expect(p.show(frameUs, 200)).toBe(false)
    expect(p.show(2 * frameUs, 600)).toBe(true)
  })
})

describe('Handover', () => {
  function fakes() {
    const log: string[] = []
    let n = 0
    const players = new Handover<TilePlayer & { name: string }>((p) => log.push(`shown ${p.name}`))
    const firsts: (() => void)[] = []
    const play = (camera: string, stream: string) =>
      players.play({ camera, stream, tileId: 'tile-1' }, (first) => {
        const name = `${camera}/${stream}#${n++}`
        firsts.push(first)
        return { name, start: () => log.push(`start ${name}`), stop: () => log.push(`stop ${name}`) }
      })
    return { log, players, firsts, play }
  }

  it('replaces another camera at once', () => {
    const f = fakes()
    f.play('a', 'sub')
    f.play('b', 'sub')
    expect(f.log).toEqual(['shown a/sub#0', 'start a/sub#0', 'stop a/sub#0', 'shown b/sub#1', 'start b/sub#1'])
  })

  it('hands over to another stream of the camera at its first frame; back before it, the old one stays', () => {
    const f = fakes()
    f.play('a', 'sub')
    f.play('a', 'main')
    expect(f.log).toEqual(['shown a/sub#0', 'start a/sub#0', 'start a/main#1'])
    f.play('a', 'sub') // Esc before main drew
    expect(f.log.slice(3)).toEqual(['stop a/main#1'])
    f.firsts[1]!() // a late first frame of the stopped player changes nothing
    expect(f.players.shown?.name).toBe('a/sub#0')
    f.play('a', 'main')
    f.firsts[2]!()
    expect(f.log.slice(4)).toEqual(['start a/main#2', 'stop a/sub#0', 'shown a/main#2'])
  })
})
