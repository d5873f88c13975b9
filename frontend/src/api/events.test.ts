import { describe, expect, it } from 'vitest'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiClient } from './client'
import type { StreamHandlers, StreamStatus } from './events'
import type { Camera, Session } from './types'
import { cleanupsAfterEach, fastRetry, until } from '../testing/eventually'

const secret = 's3cret'
const cam = (id: string, state: string) => ({
  site: 'site-01',
  id,
  zone: 'doffing_room_1',
  name: { 'zh-CN': id, en: id },
  site_name: { 'zh-CN': '东湖', en: 'Donghu' },
  district: { 'zh-CN': '东城区', en: 'Dongcheng' },
  time_zone: 'Asia/Shanghai',
  online: state !== 'offline',
  state,
})

// A real backend on loopback; `serve` handles each /api/v1/events request.
async function backend(serve: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  let n = 0
  const open = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    open.add(res)
    res.on('close', () => open.delete(res))
    serve(req, res, n++)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  )
  return { base, open, requests: () => n }
}

function sse(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' })
  res.flushHeaders()
}

function recorder() {
  const r = {
    lists: [] as Camera[][],
    changes: [] as Camera[],
    sessions: [] as Session[],
    statuses: [] as StreamStatus[],
    invalid: [] as string[],
    findings: [] as string[][],
  }
  const handlers: StreamHandlers = {
    findings: (ids) => r.findings.push(ids),
    cameras: (l) => r.lists.push(l),
    camera: (c) => r.changes.push(c),
    session: (s) => r.sessions.push(s),
    status: (s) => r.statuses.push(s),
    invalid: (why) => r.invalid.push(why),
  }
  return { ...r, handlers }
}

const cleanups = cleanupsAfterEach()

describe('EventStream', () => {
  it('delivers the list, single cameras and sign-ins and outs, with the secret as Bearer', async () => {
    let auth: string | undefined
    const srv = await backend((req, res) => {
      auth = req.headers.authorization
      sse(res)
      res.write(`: hello\n\nevent: cameras\ndata: ${JSON.stringify({ cameras: [cam('doff1', 'online'), cam('doff2', 'offline')] })}\n\n`)
      res.write(`event: camera\ndata: ${JSON.stringify(cam('doff1', 'stalled'))}\n\n`)
      res.write('event: future\ndata: {}\n\n')
      res.write('event: session\ndata: {"signed_in":false,"relay":"http://r","reason":"session_expired"}\n\n')
      res.write('event: session\ndata: {"signed_in":true,"relay":"http://r","user":{"name":"duty","role":"duty"},"expires_at":"2026-05-10T08:00:00Z"}\n\n')
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
    cleanups.push(() => s.stop())
    s.start()
    await until(() => r.sessions.length === 2, 'the session events')
    expect(auth).toBe(`Bearer ${secret}`)
    expect(r.lists.map((l) => l.map((c) => `${c.id}:${c.state}`))).toEqual([['doff1:online', 'doff2:offline']])
    expect(r.changes.map((c) => `${c.id}:${c.state}`)).toEqual(['doff1:stalled'])
    expect(r.sessions).toEqual([
      { signedIn: false, relay: 'http://r', reason: 'session_expired' },
      { signedIn: true, relay: 'http://r', user: { name: 'duty', role: 'duty' }, expiresAt: new Date('2026-05-10T08:00:00Z') },
    ])
    expect(r.statuses.map((x) => x.state)).toEqual(['connecting', 'open'])
    expect(r.invalid).toEqual([])
  })

  it('delivers the findings to read again, and skips a findings event without ids', async () => {
    const srv = await backend((_req, res) => {
      sse(res)
      res.write('event: findings\ndata: {"ids":["f-1","f-2"]}\n\n')
      res.write('event: findings\ndata: {"id":"f-3"}\n\n')
      res.write('event: findings\ndata: {"ids":["f-3", 4, ""]}\n\n')
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
    cleanups.push(() => s.stop())
    s.start()
    await until(() => r.findings.length === 2, 'two findings events')
    expect(r.findings).toEqual([['f-1', 'f-2'], ['f-3']])
    expect(r.invalid).toEqual(['event findings: no "ids" list'])
  })

  it('puts the secret in the query when told to reach another origin', async () => {
    let url = ''
    let auth: string | undefined
    const srv = await backend((req, res) => {
      url = req.url ?? ''
      auth = req.headers.authorization
      sse(res)
    })
    const r = recorder()
    const s = new ApiClient({ secret: 'page-secret' }).events(r.handlers, { ...fastRetry, base: srv.base, token: 'a&b' })
    cleanups.push(() => s.stop())
    s.start()
    await until(() => url !== '', 'the request')
    expect(url).toBe('/api/v1/events?token=a%26b')
    expect(auth).toBeUndefined()
  })

  it('skips events that break the contract and goes on', async () => {
    const srv = await backend((_, res) => {
      sse(res)
      res.write('event: camera\ndata: not json\n\n')
      res.write('event: camera\ndata: {"site":"x"}\n\n')
      res.write(`event: camera\ndata: ${JSON.stringify(cam('doff2', 'online'))}\n\n`)
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
    cleanups.push(() => s.stop())
    s.start()
    await until(() => r.changes.length === 1, 'the good camera')
    expect(r.invalid).toHaveLength(2)
    expect(r.invalid[0]).toMatch(/not JSON/)
    expect(r.invalid[1]).toMatch(/"id" missing/)
  })

  it('reconnects with backoff when the stream ends, and hears the list again', async () => {
    const srv = await backend((_, res, n) => {
      sse(res)
      res.end(`event: cameras\ndata: ${JSON.stringify({ cameras: [cam(`c${n}`, 'online')] })}\n\n`)
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
    cleanups.push(() => s.stop())
    s.start()
    await until(() => r.lists.length >= 3, 'three lists')
    expect(r.lists.slice(0, 3).map((l) => l[0]!.id)).toEqual(['c0', 'c1', 'c2'])
    // Each connection delivered, so the backoff starts over every time.
    const retries = r.statuses.flatMap((x) => (x.state === 'retrying' ? [x.retryInMs] : []))
    expect(retries.slice(0, 2)).toEqual([20, 20])
  })

  it('backs off while the backend fails, and recovers', async () => {
    const srv = await backend((_, res, n) => {
      if (n < 3) {
        res.writeHead(503, { 'Content-Type': 'application/json' })
        res.end('{"error":{"code":"relay_unreachable","message":"relay down"}}')
        return
      }
      sse(res)
      res.write(`event: cameras\ndata: ${JSON.stringify({ cameras: [] })}\n\n`)
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
    cleanups.push(() => s.stop())
    s.start()
    await until(() => r.lists.length === 1, 'the list after three failures')
    const retrying = r.statuses.filter((x) => x.state === 'retrying')
    expect(retrying.map((x) => (x.state === 'retrying' ? x.retryInMs : 0))).toEqual([20, 40, 80])
    expect(retrying[0]).toMatchObject({ error: { status: 503, code: 'relay_unreachable' } })
  })

  const finals: { status: number; code: string; want: StreamStatus['state'] }[] = [
    { status: 404, code: 'not_found', want: 'unsupported' },
    { status: 401, code: 'session_expired', want: 'refused' },
  ]
  for (const f of finals) {
    it(`gives up on ${f.status} ${f.code}`, async () => {
      const srv = await backend((_, res) => {
        res.writeHead(f.status, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ error: { code: f.code, message: 'no' } }))
      })
      const r = recorder()
      const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
      cleanups.push(() => s.stop())
      s.start()
      await until(() => r.statuses.some((x) => x.state === f.want), f.want)
      await new Promise((res) => setTimeout(res, 150))
      expect(srv.requests()).toBe(1)
      expect(r.statuses.at(-1)).toMatchObject({ state: f.want, error: { status: f.status, code: f.code } })
    })
  }

  it('replaces a connection that has gone silent', async () => {
    const srv = await backend((_, res) => {
      sse(res)
      res.write(`event: cameras\ndata: ${JSON.stringify({ cameras: [] })}\n\n`)
      // …and then nothing, not even a comment.
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, { ...fastRetry, silenceMs: 200 })
    cleanups.push(() => s.stop())
    s.start()
    await until(() => srv.requests() >= 2, 'a second connection')
    const lost = r.statuses.find((x) => x.state === 'retrying')
    expect(lost).toMatchObject({ error: { code: 'network' } })
    expect(lost?.state === 'retrying' && lost.error.message).toMatch(/silent for over 200 ms/)
  })

  it('closes the connection when stopped and does not come back', async () => {
    const srv = await backend((_, res) => {
      sse(res)
      res.write(': hi\n\n')
    })
    const r = recorder()
    const s = new ApiClient({ base: srv.base, secret }).events(r.handlers, fastRetry)
    s.start()
    await until(() => srv.open.size === 1, 'the connection')
    s.stop()
    await until(() => srv.open.size === 0, 'the server seeing the close')
    await new Promise((res) => setTimeout(res, 150))
    expect(srv.requests()).toBe(1)
    expect(r.statuses.filter((x) => x.state === 'retrying')).toEqual([])
  })
})
