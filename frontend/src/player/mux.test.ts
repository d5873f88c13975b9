import { describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { Connection, type ConnectionEvents } from './connection'
import { videoMuxURL } from '../api'
import { VideoMux, type MuxSocket } from './mux'
import type { Message } from './protocol'
import { WarmSockets } from './warm'
import { cleanupsAfterEach, fastRetry, until } from '../testing/eventually'

interface Opened {
  ch: number
  camera: string
  stream: string
}

// A multiplexing bridge on loopback: every open gets a state and a config on
// its channel; the test sends the rest through `unit`, `event` and `closed`.
async function startBridge() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const conns: WebSocket[] = []
  const opened: Opened[] = []
  // The channels each socket's address named, and those opened by message.
  const named: Opened[][] = []
  const openMessages: number[] = []
  const closedByView: number[] = []
  const start = (ws: WebSocket, o: Opened) => {
    opened.push(o)
    ws.send(JSON.stringify({ ch: o.ch, type: 'state', state: 'live', since: '2026-12-03T06:00:00Z' }))
    ws.send(JSON.stringify({ ch: o.ch, type: 'config', codec: 'avc1.42e01e', width: 320, height: 180 }))
  }
  wss.on('connection', (ws, req) => {
    conns.push(ws)
    const inAddress = new URL(req.url!, 'ws://127.0.0.1').searchParams.getAll('open').map((v) => {
      const [ch, camera, stream] = v.split(':')
      return { ch: Number(ch), camera: camera!, stream: stream! }
    })
    named.push(inAddress)
    for (const o of inAddress) start(ws, o)
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as { open?: number; close?: number; camera?: string; stream?: string }
      if (m.close !== undefined) {
        closedByView.push(m.close)
        return
      }
      openMessages.push(m.open!)
      start(ws, { ch: m.open!, camera: m.camera!, stream: m.stream! })
    })
  })
  const { port } = wss.address() as AddressInfo
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  )
  const last = (camera: string) => opened.filter((o) => o.camera === camera).at(-1)!
  return {
    conns,
    opened,
    named,
    openMessages,
    closedByView,
    /** A mux of the view's over this bridge, closed after the test. */
    mux(): VideoMux {
      const mux = new VideoMux((opens) => {
        const ws = new WebSocket(videoMuxURL({ bridge: `ws://127.0.0.1:${port}/ws/video`, token: 't' }, opens))
        ws.binaryType = 'arraybuffer'
        return ws as unknown as MuxSocket
      })
      cleanups.push(() => mux.close())
      return mux
    },
    /** A unit on camera's newest channel: channel number, flags, PTS (µs), an Annex-B unit. */
    unit(camera: string, pts: number, keyframe: boolean): void {
      const b = Buffer.alloc(4 + 9 + 5)
      b.writeUInt32BE(last(camera).ch, 0)
      b[4] = keyframe ? 1 : 0
      b.writeBigUInt64BE(BigInt(pts), 5)
      b.set([0, 0, 0, 1, keyframe ? 0x65 : 0x41], 13)
      conns.at(-1)!.send(b)
    },
    closed(camera: string, code: number, reason: string): void {
      conns.at(-1)!.send(JSON.stringify({ type: 'closed', ch: last(camera).ch, code, reason }))
    },
  }
}

function recorder() {
  const messages: Message[] = []
  const lost: string[] = []
  let opens = 0
  const events: ConnectionEvents = {
    open: () => opens++,
    message: (m) => messages.push(m),
    lost: (info) => lost.push(`${info.code} ${info.reason}`),
  }
  return { messages, lost, events, opens: () => opens }
}

/** A connection playing camera's sub stream on a channel of mux, stopped after the test. */
function play(mux: VideoMux, camera: string) {
  const r = recorder()
  const c = new Connection(() => mux.channel(camera, 'sub'), r.events, fastRetry)
  cleanups.push(() => c.stop())
  c.start()
  return { ...r, stop: () => c.stop() }
}

const units = (ms: Message[]) => ms.filter((m) => m.kind === 'unit').map((m) => m.pts)

const cleanups = cleanupsAfterEach()

describe('VideoMux', () => {
  it('carries every stream on one socket, each channel getting its own messages', async () => {
    const b = await startBridge()
    const mux = b.mux()
    const cams = ['site-01/doff1', 'site-01/doff2', 'site-02/gate']
    const rs = cams.map((camera) => play(mux, camera))
    await until(() => b.opened.length === 3, 'three channels opened')
    expect(b.conns.length).toBe(1)
    expect(b.opened.map((o) => `${o.camera}?${o.stream}`).sort()).toEqual(cams.map((c) => `${c}?sub`).sort())
    cams.forEach((camera, i) => {
      b.unit(camera, 1000 * (i + 1), true)
      b.unit(camera, 1000 * (i + 1) + 1, false)
    })
    await until(() => rs.every((r) => units(r.messages).length === 2), 'two units on each channel')
    rs.forEach((r, i) => {
      expect(r.opens()).toBe(1)
      expect(r.messages.map((m) => m.kind)).toEqual(['state', 'config', 'unit', 'unit'])
      expect(units(r.messages)).toEqual([1000 * (i + 1), 1000 * (i + 1) + 1])
    })
  })

  it('names the channels asked for before the socket opened in its address, and opens later ones by message', async () => {
    const b = await startBridge()
    const mux = b.mux()
    // One task: both in the address.
    const [a, other] = [play(mux, 'site-01/doff1'), play(mux, 'site-01/doff2')]
    await until(() => a.messages.length === 2 && other.messages.length === 2, 'state and config on both')
    expect(b.named).toEqual([
      [
        { ch: 1, camera: 'site-01/doff1', stream: 'sub' },
        { ch: 2, camera: 'site-01/doff2', stream: 'sub' },
      ],
    ])
    expect(b.openMessages).toEqual([])
    expect([a.opens(), other.opens()]).toEqual([1, 1])
    const late = play(mux, 'site-02/gate')
    await until(() => late.messages.length === 2, 'the later channel opened')
    expect(b.openMessages).toEqual([3])
    expect(b.conns.length).toBe(1)
  })

  it('closes a channel named in the address and given up before the socket opened, once it is open', async () => {
    const b = await startBridge()
    const mux = b.mux()
    const gone = mux.channel('site-01/doff1', 'sub')
    const kept = play(mux, 'site-01/doff2')
    await Promise.resolve()
    gone.close()
    await until(() => b.closedByView.length === 1, 'the close message')
    expect(b.named[0]!.map((o) => o.camera)).toEqual(['site-01/doff1', 'site-01/doff2'])
    expect(b.closedByView).toEqual([b.named[0]![0]!.ch])
    await until(() => kept.messages.length === 2, 'the kept channel carries on')
    expect(mux.size).toBe(1)
  })

  it("ends one channel with its closed event's code and reason, and the connection opens another", async () => {
    const b = await startBridge()
    const mux = b.mux()
    const [a, other] = [play(mux, 'site-01/doff1'), play(mux, 'site-01/doff2')]
    await until(() => b.opened.length === 2, 'two channels opened')
    const first = b.opened.find((o) => o.camera === 'site-01/doff1')!.ch
    b.closed('site-01/doff1', 1013, 'camera unreachable')
    await until(() => b.opened.length === 3, 'the channel opened again')
    expect(a.lost).toEqual(['1013 camera unreachable'])
    expect(other.lost).toEqual([])
    expect(b.conns.length).toBe(1)
    // A new number: what the old channel still had in flight is not the new one's.
    expect(b.opened[2]).toMatchObject({ camera: 'site-01/doff1' })
    expect(b.opened[2]!.ch).not.toBe(first)
  })

  it("closes every channel with the socket's code and reason, and reconnects when asked again", async () => {
    const b = await startBridge()
    const mux = b.mux()
    const rs = ['site-01/doff1', 'site-01/doff2'].map((camera) => play(mux, camera))
    await until(() => b.opened.length === 2, 'two channels opened')
    b.conns[0]!.close(4001, 'signed_out')
    await until(() => b.conns.length === 2 && b.opened.length === 4, 'both channels opened on a new socket')
    for (const r of rs) expect(r.lost).toEqual(['4001 signed_out'])
    b.unit('site-01/doff2', 5, true)
    await until(() => units(rs[1]!.messages).length === 1, 'a unit on the new socket')
  })

  it('tells the bridge when a channel is closed, and drops what it still sends on it', async () => {
    const b = await startBridge()
    const mux = b.mux()
    const [a, other] = [play(mux, 'site-01/doff1'), play(mux, 'site-01/doff2')]
    await until(() => b.opened.length === 2 && a.messages.length === 2, 'two channels opened')
    a.stop()
    const ch = b.opened.find((o) => o.camera === 'site-01/doff1')!.ch
    await until(() => b.closedByView.includes(ch), 'the close message')
    expect(mux.size).toBe(1)
    // In flight when the view closed it: dropped. Then a unit on the other.
    b.unit('site-01/doff1', 1, true)
    b.unit('site-01/doff2', 2, true)
    await until(() => units(other.messages).length === 1, 'the other channel’s unit')
    expect(a.messages.length).toBe(2)
  })

  it('serves a warm pool: channels opened ahead, taken by tiles', async () => {
    const b = await startBridge()
    const mux = b.mux()
    const pool = new WarmSockets((camera, stream) => mux.channel(camera, stream), { lingerMs: 60_000 })
    cleanups.push(() => pool.stop())
    pool.want([
      { camera: 'site-01/doff1', stream: 'sub' },
      { camera: 'site-01/doff2', stream: 'sub' },
    ])
    await until(() => b.opened.length === 2, 'two warm channels')
    b.unit('site-01/doff1', 10, true)
    b.unit('site-01/doff1', 11, false)
    b.unit('site-01/doff1', 12, false)
    b.unit('site-01/doff2', 20, true)
    // Messages on one socket come in order: once doff2's unit is in,
    // doff1's are held.
    const r2 = recorder()
    const c2 = new Connection(() => pool.take('site-01/doff2', 'sub')!, r2.events, fastRetry)
    cleanups.push(() => c2.stop())
    c2.start()
    await until(() => units(r2.messages).length === 1, "doff2's unit")
    const r = recorder()
    const c = new Connection(() => pool.take('site-01/doff1', 'sub') ?? mux.channel('site-01/doff1', 'sub'), r.events, fastRetry)
    cleanups.push(() => c.stop())
    c.start()
    await until(() => units(r.messages).length === 3, 'the held units replayed')
    expect(r.messages.map((m) => m.kind)).toEqual(['state', 'config', 'unit', 'unit', 'unit'])
    expect(r.messages.filter((m) => m.kind === 'unit').map((m) => m.catchUp)).toEqual([true, true, false])
    b.unit('site-01/doff1', 13, false)
    await until(() => units(r.messages).length === 4, 'a live unit after the replay')
    expect(b.opened.length).toBe(2)
    expect(b.conns.length).toBe(1)
  })
})
