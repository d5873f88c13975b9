import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiClient, ApiError, videoURL } from './client'
import { takeSecret } from './secret'

const secret = 'per-launch-secret'
const camera = {
  site: 'site-01',
  id: 'doff1',
  zone: 'doffing_room_1',
  name: { 'zh-CN': '一脱间', en: 'Doffing room 1' },
  site_name: { 'zh-CN': '东湖宾馆隔离点', en: 'Donghu Hotel isolation site' },
  district: { 'zh-CN': '东城区', en: 'Dongcheng District' },
  time_zone: 'Asia/Shanghai',
  online: true,
}

// A real HTTP server standing in for the console backend, with a few
// misbehaving paths. `answers` lets a test choose the cameras response.
let answers: { status: number; body: string } = { status: 200, body: '' }
let lastAuth: string | undefined
let server: http.Server
let base = ''

beforeAll(async () => {
  server = http.createServer((req, res) => {
    lastAuth = req.headers.authorization
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(body)
    }
    if (req.headers.authorization !== `Bearer ${secret}`) {
      return send(401, JSON.stringify({ error: { code: 'unauthorized', message: 'missing or wrong secret' } }))
    }
    switch (req.url) {
      case '/api/v1/bootstrap':
        return send(
          200,
          JSON.stringify({
            bridge: 'ws://127.0.0.1:9/ws/video',
            token: 'bridge-secret',
            relay: 'http://127.0.0.1:8080',
            user: { name: 'duty', role: 'duty' },
            default_camera: 'site-01/doff1',
          }),
        )
      case '/api/v1/cameras':
        return send(answers.status, answers.body)
      default:
        return send(404, JSON.stringify({ error: { code: 'not_found', message: 'no such path' } }))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('ApiClient', () => {
  it('sends the secret as Bearer and reads bootstrap', async () => {
    const boot = await new ApiClient({ base, secret }).bootstrap()
    expect(lastAuth).toBe(`Bearer ${secret}`)
    expect(boot).toEqual({
      bridge: 'ws://127.0.0.1:9/ws/video',
      token: 'bridge-secret',
      relay: 'http://127.0.0.1:8080',
      user: { name: 'duty', role: 'duty' },
      default_camera: 'site-01/doff1',
    })
  })

  it('sends no Authorization header without a secret, and reports the error code', async () => {
    const err = await new ApiClient({ base }).bootstrap().catch((e: unknown) => e)
    expect(lastAuth).toBeUndefined()
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' })
    expect((err as ApiError).message).toContain('missing or wrong secret')
  })

  const cases: { name: string; status: number; body: string; want: RegExp | object }[] = [
    { name: 'a camera list', status: 200, body: JSON.stringify({ cameras: [camera] }), want: [camera] },
    { name: 'an empty list', status: 200, body: '{"cameras":[]}', want: [] },
    { name: 'a list without "cameras"', status: 200, body: '{"items":[]}', want: /no "cameras" list/ },
    { name: 'a camera without an id', status: 200, body: JSON.stringify({ cameras: [{ ...camera, id: '' }] }), want: /camera 0: "id" missing/ },
    { name: 'a camera with no names', status: 200, body: JSON.stringify({ cameras: [{ ...camera, name: {} }] }), want: /"name" has neither/ },
    { name: 'a body that is not JSON', status: 200, body: '<html>', want: /not JSON/ },
    { name: 'an error with a JSON body', status: 502, body: '{"error":{"code":"relay_unreachable","message":"relay down"}}', want: /relay down/ },
    { name: 'an error without a JSON body', status: 500, body: 'boom', want: /boom/ },
  ]
  for (const c of cases) {
    it(`handles ${c.name}`, async () => {
      answers = { status: c.status, body: c.body }
      const got = await new ApiClient({ base, secret }).cameras().catch((e: unknown) => e)
      if (c.want instanceof RegExp) {
        expect(got).toBeInstanceOf(ApiError)
        expect((got as ApiError).message).toMatch(c.want)
      } else {
        expect(got).toEqual(c.want)
      }
    })
  }

  it('keeps the status and code of an error', async () => {
    answers = { status: 502, body: '{"error":{"code":"relay_unreachable","message":"relay down"}}' }
    await expect(new ApiClient({ base, secret }).cameras()).rejects.toMatchObject({ status: 502, code: 'relay_unreachable' })
    answers = { status: 500, body: 'boom' }
    await expect(new ApiClient({ base, secret }).cameras()).rejects.toMatchObject({ status: 500, code: 'http_500' })
  })

  it('reports a backend that is not there', async () => {
    const closed = http.createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    await expect(new ApiClient({ base: `http://127.0.0.1:${port}` }).cameras()).rejects.toMatchObject({ status: 0, code: 'network' })
  })
})

describe('videoURL', () => {
  it('adds camera, stream and the bridge secret', () => {
    const u = new URL(videoURL({ bridge: 'ws://127.0.0.1:9/ws/video', token: 'a b&c' }, 'site-01/doff1', 'sub'))
    expect(u.protocol).toBe('ws:')
    expect(u.pathname).toBe('/ws/video')
    expect(u.searchParams.get('camera')).toBe('site-01/doff1')
    expect(u.searchParams.get('stream')).toBe('sub')
    expect(u.searchParams.get('token')).toBe('a b&c')
  })
})

describe('takeSecret', () => {
  function memory(initial: Record<string, string> = {}) {
    const m = new Map(Object.entries(initial))
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m }
  }

  it('takes the secret from the address, keeps it, and clears it from the address bar', () => {
    const store = memory()
    let replaced = ''
    const got = takeSecret({ href: 'http://127.0.0.1:8090/?token=abc&x=1#top', replace: (u) => (replaced = u) }, store)
    expect(got).toBe('abc')
    expect(replaced).toBe('http://127.0.0.1:8090/?x=1#top')
    expect(store.m.get('qly.secret')).toBe('abc')
  })

  it('finds the kept secret after a reload', () => {
    const store = memory({ 'qly.secret': 'abc' })
    let replaced = false
    expect(takeSecret({ href: 'http://127.0.0.1:8090/', replace: () => (replaced = true) }, store)).toBe('abc')
    expect(replaced).toBe(false)
  })

  it('has none in the Wails window', () => {
    expect(takeSecret({ href: 'wails://wails/', replace: () => {} }, memory())).toBeUndefined()
  })

  it('works when storage refuses', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied')
      },
      setItem: () => {
        throw new Error('denied')
      },
    }
    expect(takeSecret({ href: 'http://127.0.0.1:1/?token=z', replace: () => {} }, broken)).toBe('z')
    expect(takeSecret({ href: 'http://127.0.0.1:1/', replace: () => {} }, broken)).toBeUndefined()
  })
})
