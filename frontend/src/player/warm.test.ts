import { describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { Connection, type SocketLike } from './connection'
import type { AccessUnit, Message } from './protocol'
import { WarmSockets } from './warm'
import { cleanupsAfterEach, until } from '../testing/eventually'

// A bridge-like WebSocket server on loopback: each connection gets a state,
// a config, and then whatever the test sends it.
async function startBridge() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const conns: WebSocket[] = []
  const closed: string[] = []
  wss.on('connection', (ws, req) => {
    conns.push(ws)
    ws.on('close', () => closed.push(req.url ?? ''))
    ws.send(JSON.stringify({ type: 'state', state: 'live', since: '2026-12-03T06:00:00Z' }))
    ws.send(JSON.stringify({ type: 'config', codec: 'avc1.42e01e', width: 320, height: 180 }))
  })
  const { port } = wss.address() as AddressInfo
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  )
  return {
    conns,
    closed,
    open: (camera: string, stream: string): SocketLike => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/video?camera=${camera}&stream=${stream}`)
      ws.binaryType = 'arraybuffer'
      return ws as unknown as SocketLike
    },
  }
}

/** A binary unit message: flags, PTS (µs, big-endian), an Annex-B unit. */
function unit(pts: number, keyframe: boolean): Buffer {
  const b = Buffer.alloc(9 + 5)
  b[0] = keyframe ? 1 : 0
  b.writeBigUInt64BE(BigInt(pts), 1)
  b.set([0, 0, 0, 1, keyframe ? 0x65 : 0x41], 9)
  return b
}

const cleanups = cleanupsAfterEach()

describe('WarmSockets', () => {
  it('hands a tile the stream since its last keyframe, all but the newest unit as catch-up, then the live units', async () => {
    const bridge = await startBridge()
    const warm = new WarmSockets(bridge.open)
    cleanups.push(() => warm.stop())
    warm.want([{ camera: 'site-01/doff1', stream: 'sub' }])
    await until(() => bridge.conns.length === 1, 'the warm socket connected')
    const ws = bridge.conns[0]!
    // An old GOP, then the current one: only the current one is replayed.
    for (const [pts, key] of [[1000, true], [2000, false], [3000, true], [4000, false], [5000, false]] as const) ws.send(unit(pts, key))
    // The units sent are in once a ping sent after them is answered.
    const pong = new Promise<void>((resolve) => ws.once('pong', () => resolve()))
    ws.ping()
    await pong

    const got: Message[] = []
    let warmOpen: boolean | undefined
    const socket = warm.take('site-01/doff1', 'sub')
    expect(socket).toBeDefined()
    expect(warm.take('site-01/doff1', 'sub')).toBeUndefined()
    const c = new Connection(() => socket!, {
      open: (w) => (warmOpen = w),
      message: (m) => got.push(m),
      lost: () => {},
    })
    cleanups.push(() => c.stop())
    c.start()
    await until(() => got.length === 5, 'the replay')
    expect(warmOpen).toBe(true)
    expect(got.map((m) => m.kind)).toEqual(['state', 'config', 'unit', 'unit', 'unit'])
    const units = got.filter((m): m is AccessUnit => m.kind === 'unit')
    expect(units.map((u) => [u.pts, u.keyframe, u.catchUp])).toEqual([
      [3000, true, true],
      [4000, false, true],
      [5000, false, false],
    ])
    // Live units follow on the same socket, as they come.
    ws.send(unit(6000, false))
    await until(() => got.length === 6, 'a live unit')
    expect(got[5]).toMatchObject({ kind: 'unit', pts: 6000, catchUp: false })
    expect(bridge.conns).toHaveLength(1)
  })

  it('gives a socket still opening once it opens, and nothing for a camera not warm', async () => {
    const bridge = await startBridge()
    const warm = new WarmSockets(bridge.open)
    cleanups.push(() => warm.stop())
    warm.want([{ camera: 'site-01/gate', stream: 'sub' }])
    expect(warm.take('site-01/doff1', 'sub')).toBeUndefined()
    const socket = warm.take('site-01/gate', 'sub')!
    const kinds: string[] = []
    const c = new Connection(() => socket, { open: () => kinds.push('open'), message: (m) => kinds.push(m.kind), lost: () => {} })
    cleanups.push(() => c.stop())
    c.start()
    await until(() => kinds.length === 3, 'open, state, config')
    expect(kinds).toEqual(['open', 'state', 'config'])
  })

  it('closes a socket no longer wanted after the linger, unless wanted again', async () => {
    const bridge = await startBridge()
    const warm = new WarmSockets(bridge.open, { lingerMs: 100 })
    cleanups.push(() => warm.stop())
    const a = { camera: 'site-01/doff1', stream: 'sub' }
    const b = { camera: 'site-02/doff1', stream: 'sub' }
    warm.want([a, b])
    await until(() => bridge.conns.length === 2, 'two warm sockets')
    warm.want([a])
    warm.want([])
    warm.want([a]) // a wanted again before its linger is over
    await until(() => bridge.closed.length === 1, 'one closed')
    expect(bridge.closed[0]).toContain('site-02/doff1')
    expect(warm.keys).toEqual(['site-01/doff1?sub'])
    // a, kept, still plays.
    const kinds: string[] = []
    const c = new Connection(() => warm.take(a.camera, a.stream)!, { open: () => kinds.push('open'), message: (m) => kinds.push(m.kind), lost: () => {} })
    cleanups.push(() => c.stop())
    c.start()
    await until(() => kinds.length === 3, 'open, state, config')
    expect(bridge.closed).toHaveLength(1)
  })
})
