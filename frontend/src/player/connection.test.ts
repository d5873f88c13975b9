import { describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { Connection, type ConnectionEvents, type SocketLike } from './connection'
import type { Message } from './protocol'
import { cleanupsAfterEach, fastRetry, until } from '../testing/eventually'

// A real bridge-like WebSocket server on loopback; each connection runs `serve`.
async function startServer(serve: (ws: WebSocket, n: number) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  let n = 0
  wss.on('connection', (ws) => serve(ws, n++))
  const { port } = wss.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}/ws/video`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
}

function opener(url: string): () => SocketLike {
  return () => {
    const ws = new WebSocket(url)
    ws.binaryType = 'arraybuffer'
    return ws as unknown as SocketLike
  }
}

function recorder() {
  const log: string[] = []
  const messages: Message[] = []
  const retries: number[] = []
  const events: ConnectionEvents = {
    open: () => log.push('open'),
    message: (m) => {
      log.push(m.kind)
      messages.push(m)
    },
    lost: (info) => {
      log.push(`lost:${info.attempt}`)
      retries.push(info.retryInMs)
    },
  }
  return { log, messages, retries, events }
}

const cleanups = cleanupsAfterEach()

describe('Connection', () => {
  it('delivers parsed events and access units', async () => {
    const unit = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0x65])
    const srv = await startServer((ws) => {
      ws.send('{"type":"config","codec":"avc1.42c01f","width":320,"height":180}')
      ws.send(unit)
    })
    cleanups.push(srv.close)
    const r = recorder()
    const c = new Connection(opener(srv.url), r.events, fastRetry)
    cleanups.push(() => c.stop())
    c.start()
    await until(() => r.messages.length >= 2, 'two messages')
    expect(r.log.slice(0, 3)).toEqual(['open', 'config', 'unit'])
    expect(r.messages[1]).toMatchObject({ kind: 'unit', keyframe: true, pts: 7 })
  })

  it('reconnects with growing, capped delays while the bridge hangs up at once', async () => {
    const srv = await startServer((ws) => ws.close(1011, 'no camera'))
    cleanups.push(srv.close)
    const r = recorder()
    const c = new Connection(opener(srv.url), r.events, fastRetry)
    cleanups.push(() => c.stop())
    c.start()
    await until(() => r.retries.length >= 5, 'five reconnects')
    expect(r.retries.slice(0, 5)).toEqual([20, 40, 80, 80, 80])
  })

  it('starts the backoff over once a bridge has sent something', async () => {
    const srv = await startServer((ws, n) => {
      // Every second connection delivers an event before hanging up.
      if (n % 2 === 1) ws.send('{"type":"state","state":"live"}')
      setTimeout(() => ws.close(1011, 'drop'), 20)
    })
    cleanups.push(srv.close)
    const r = recorder()
    const c = new Connection(opener(srv.url), r.events, fastRetry)
    cleanups.push(() => c.stop())
    c.start()
    await until(() => r.retries.length >= 4, 'four reconnects')
    expect(r.retries.slice(0, 4)).toEqual([20, 20, 40, 20])
  })

  it('keeps trying while the server is down and connects when it is back', async () => {
    const srv = await startServer((ws) => ws.send('{"type":"state","state":"live"}'))
    const url = srv.url
    await srv.close()
    const r = recorder()
    const c = new Connection(opener(url), r.events, fastRetry)
    cleanups.push(() => c.stop())
    c.start()
    await until(() => r.retries.length >= 2, 'two failed attempts')
    expect(r.log).not.toContain('open')

    const port = Number(new URL(url).port)
    const wss = new WebSocketServer({ host: '127.0.0.1', port })
    cleanups.push(() => new Promise<void>((res) => {
      for (const cl of wss.clients) cl.terminate()
      wss.close(() => res())
    }))
    wss.on('connection', (ws) => ws.send('{"type":"state","state":"live"}'))
    await until(() => r.messages.some((m) => m.kind === 'state'), 'a state event after the server came back')
  })

  it('stops reconnecting and closes the socket when stopped', async () => {
    let opened = 0
    let closedByClient = false
    const srv = await startServer((ws) => {
      opened++
      ws.on('close', () => (closedByClient = true))
      ws.send('{"type":"state","state":"live"}')
    })
    cleanups.push(srv.close)
    const r = recorder()
    const c = new Connection(opener(srv.url), r.events, fastRetry)
    c.start()
    await until(() => r.messages.length >= 1, 'the first event')
    c.stop()
    await until(() => closedByClient, 'the server seeing the close')
    await new Promise((res) => setTimeout(res, 200))
    expect(opened).toBe(1)
    expect(r.log.filter((l) => l.startsWith('lost'))).toEqual([])
  })

  it('survives an opener that throws', async () => {
    const r = recorder()
    let calls = 0
    const c = new Connection(
      () => {
        calls++
        throw new SyntaxError('bad URL')
      },
      r.events,
      fastRetry,
    )
    cleanups.push(() => c.stop())
    c.start()
    await until(() => calls >= 3, 'three attempts')
    expect(r.retries.slice(0, 2)).toEqual([20, 40])
  })
})
