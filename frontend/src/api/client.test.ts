import { describe, expect, it } from 'vitest'
import { ApiClient, ApiError, videoURL } from './client'
import { loopbackBackend, loopbackForTests } from './loopback'
import { takeSecret } from './secret'
import type { Layout, Tour } from './types'

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

// What a round-1 camera (no health) turns into.
const parsedCamera = { ...camera, state: 'online', since: undefined, streams: {} }

// A real HTTP server standing in for the console backend. Each test sets
// `backend.route` to answer; `backend.seen` records what arrived.
const backend = loopbackForTests(secret)
const json = (status: number, v: unknown) => ({ status, body: JSON.stringify(v) })
const client = backend.client

describe('ApiClient', () => {
  it('sends the secret as Bearer and reads bootstrap', async () => {
    const boot = {
      bridge: 'ws://127.0.0.1:9/ws/video',
      token: 'bridge-secret',
      relay: 'http://127.0.0.1:8080',
      user: { name: 'duty', role: 'duty' },
      default_camera: 'site-01/doff1',
    }
    backend.route = () => json(200, boot)
    expect(await client().bootstrap()).toEqual(boot)
    expect(backend.seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/bootstrap', auth: `Bearer ${secret}` })
  })

  it('reads a bootstrap with nobody signed in', async () => {
    backend.route = () => json(200, { bridge: 'ws://127.0.0.1:9/ws/video', token: 't', relay: '' })
    expect(await client().bootstrap()).toMatchObject({ user: undefined, default_camera: '' })
  })

  it('sends no Authorization header without a secret, and reports the error code', async () => {
    const err = await new ApiClient({ base: backend.base }).bootstrap().catch((e: unknown) => e)
    expect(backend.seen[0]!.auth).toBeUndefined()
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 401, code: 'unauthorized' })
    expect((err as ApiError).message).toContain('missing or wrong secret')
  })

  const cases: { name: string; status: number; body: string; want: RegExp | object }[] = [
    { name: 'a camera list', status: 200, body: JSON.stringify({ cameras: [camera] }), want: [parsedCamera] },
    { name: 'an empty list', status: 200, body: '{"cameras":[]}', want: [] },
    { name: 'a list without "cameras"', status: 200, body: '{"items":[]}', want: /no "cameras" list/ },
    { name: 'a camera without an id', status: 200, body: JSON.stringify({ cameras: [{ ...camera, id: '' }] }), want: /camera 0: "id" missing/ },
    { name: 'a camera with no names', status: 200, body: JSON.stringify({ cameras: [{ ...camera, name: {} }] }), want: /"name" has neither/ },
    { name: 'a body that is not JSON', status: 200, body: '<html>', want: /not JSON/ },
    { name: 'an empty body', status: 200, body: '', want: /empty answer/ },
    { name: 'an error with a JSON body', status: 502, body: '{"error":{"code":"relay_unreachable","message":"relay down"}}', want: /relay down/ },
    { name: 'an error without a JSON body', status: 500, body: 'boom', want: /boom/ },
  ]
  for (const c of cases) {
    it(`handles ${c.name}`, async () => {
      backend.route = () => ({ status: c.status, body: c.body })
      const got = await client().cameras().catch((e: unknown) => e)
      if (c.want instanceof RegExp) {
        expect(got).toBeInstanceOf(ApiError)
        expect((got as ApiError).message).toMatch(c.want)
      } else {
        expect(got).toEqual(c.want)
      }
    })
  }

  it('reads camera health', async () => {
    const since = '2026-05-10T06:03:22Z'
    const healthy = {
      ...camera,
      state: 'stalled',
      since,
      streams: {
        main: { state: 'online', since, width: 640, height: 360, fps: 15, bitrate_kbps: 410, keyframe_interval_ms: 2000, last_frame_age_ms: 40, viewers: 1 },
        sub: { state: 'offline', since, fps: 'lots' },
        extra: { state: 'online' },
      },
    }
    backend.route = () => json(200, { cameras: [healthy, { ...camera, online: false }] })
    const [a, b] = await client().cameras()
    expect(a).toMatchObject({ state: 'stalled', since: new Date(since) })
    expect(a!.streams).toEqual({
      main: { state: 'online', since: new Date(since), width: 640, height: 360, fps: 15, bitrateKbps: 410, keyframeIntervalMs: 2000, lastFrameAgeMs: 40, viewers: 1 },
      sub: { state: 'offline', since: new Date(since) },
    })
    // No "state" from an older backend: derived from "online".
    expect(b).toMatchObject({ state: 'offline', since: undefined })
  })

  it('keeps the status and code of an error', async () => {
    backend.route = () => ({ status: 502, body: '{"error":{"code":"relay_unreachable","message":"relay down"}}' })
    await expect(client().cameras()).rejects.toMatchObject({ status: 502, code: 'relay_unreachable' })
    backend.route = () => ({ status: 500, body: 'boom' })
    await expect(client().cameras()).rejects.toMatchObject({ status: 500, code: 'http_500' })
  })

  it('reports a backend that is not there', async () => {
    const gone = await loopbackBackend(secret)
    await gone.close()
    await expect(new ApiClient({ base: gone.base }).cameras()).rejects.toMatchObject({ status: 0, code: 'network' })
  })
})

describe('session', () => {
  it('reads a signed-in session', async () => {
    backend.route = () =>
      json(200, { signed_in: true, relay: 'http://127.0.0.1:8080', user: { name: 'duty', role: 'duty' }, expires_at: '2026-05-10T08:00:00Z' })
    expect(await client().session()).toEqual({
      signedIn: true,
      relay: 'http://127.0.0.1:8080',
      user: { name: 'duty', role: 'duty' },
      expiresAt: new Date('2026-05-10T08:00:00Z'),
    })
  })

  it('reads a signed-out session with the last relay', async () => {
    backend.route = () => json(200, { signed_in: false, relay: 'http://10.0.0.2:8080' })
    expect(await client().session()).toEqual({ signedIn: false, relay: 'http://10.0.0.2:8080' })
  })

  it('reads why a session is signed out, and a launch sign-in being retried', async () => {
    backend.route = () => json(200, { signed_in: false, relay: 'http://r', reason: 'relay_unreachable', message: 'dial tcp 10.0.0.2:8080: refused', retrying: true })
    expect(await client().session()).toEqual({ signedIn: false, relay: 'http://r', reason: 'relay_unreachable', message: 'dial tcp 10.0.0.2:8080: refused', retrying: true })
  })

  it('refuses a session without signed_in', async () => {
    backend.route = () => json(200, { relay: 'x' })
    await expect(client().session()).rejects.toThrow(/"signed_in" is not true or false/)
  })

  it('posts the sign-in as JSON', async () => {
    backend.route = () => json(200, { signed_in: true, relay: 'http://r', user: { name: 'duty', role: 'duty' }, expires_at: '2026-05-10T08:00:00Z' })
    const s = await client().signIn({ relay: 'http://r', user: 'duty', password: 'pw' })
    expect(s.signedIn).toBe(true)
    expect(backend.seen[0]).toMatchObject({ method: 'POST', url: '/api/v1/session', type: 'application/json' })
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ relay: 'http://r', user: 'duty', password: 'pw' })
  })

  const failures = [
    { status: 401, code: 'wrong_password', message: 'wrong user or password' },
    { status: 502, code: 'relay_unreachable', message: 'cannot reach http://10.9.9.9:8080' },
    { status: 400, code: 'bad_request', message: 'relay: not a URL' },
  ]
  for (const f of failures) {
    it(`reports ${f.code}`, async () => {
      backend.route = () => json(f.status, { error: { code: f.code, message: f.message } })
      const err = await client()
        .signIn({ relay: 'http://r', user: 'duty', password: 'x' })
        .catch((e: unknown) => e)
      expect(err).toMatchObject({ status: f.status, code: f.code, detail: f.message })
      expect((err as Error).message).toBe(`POST /api/v1/session: ${f.message}`)
    })
  }

  it('signs out with DELETE and takes 204', async () => {
    backend.route = () => ({ status: 204 })
    await client().signOut()
    expect(backend.seen[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/session' })
  })
})

describe('layouts and tours', () => {
  const layout: Layout = { name: 'night 4/东', grid: 4, tiles: ['site-01/doff1', null, 'site-02/doff1'] }

  it('lists layouts', async () => {
    backend.route = () => json(200, { layouts: [layout] })
    expect(await client().layouts()).toEqual([layout])
  })

  it('saves a layout under its escaped name', async () => {
    backend.route = (s) => ({ status: 200, body: s.body })
    expect(await client().saveLayout(layout)).toEqual(layout)
    expect(backend.seen[0]).toMatchObject({ method: 'PUT', url: '/api/v1/layouts/night%204%2F%E4%B8%9C' })
    expect(JSON.parse(backend.seen[0]!.body)).toEqual(layout)
  })

  it('deletes a layout', async () => {
    backend.route = () => ({ status: 204 })
    await client().deleteLayout('night-4')
    expect(backend.seen[0]).toMatchObject({ method: 'DELETE', url: '/api/v1/layouts/night-4' })
  })

  const badLayouts: { name: string; layout: unknown; want: RegExp }[] = [
    { name: 'an odd grid', layout: { name: 'x', grid: 6, tiles: [] }, want: /"grid" 6 is not one of 1, 4, 9, 16, 25/ },
    { name: 'too many tiles', layout: { name: 'x', grid: 1, tiles: ['a/b', 'c/d'] }, want: /2 tiles for a grid of 1/ },
    { name: 'a tile that is not a camera', layout: { name: 'x', grid: 4, tiles: ['doff1'] }, want: /tile 0: "doff1" is not "SITE\/CAMERA"/ },
    { name: 'no name', layout: { grid: 4, tiles: [] }, want: /"name" missing/ },
  ]
  for (const c of badLayouts) {
    it(`refuses a layout with ${c.name}`, async () => {
      backend.route = () => json(200, { layouts: [c.layout] })
      await expect(client().layouts()).rejects.toThrow(c.want)
    })
  }

  const tour: Tour = {
    name: 'doffing-and-waste',
    steps: [
      { camera: 'site-01/doff1', dwellS: 15 },
      { layout: 'night-4', dwellS: 30 },
    ],
  }
  const tourWire = {
    name: 'doffing-and-waste',
    steps: [
      { camera: 'site-01/doff1', dwell_s: 15 },
      { layout: 'night-4', dwell_s: 30 },
    ],
  }

  it('lists tours', async () => {
    backend.route = () => json(200, { tours: [tourWire] })
    expect(await client().tours()).toEqual([tour])
  })

  it('saves a tour in the wire spelling', async () => {
    backend.route = (s) => ({ status: 200, body: s.body })
    expect(await client().saveTour(tour)).toEqual(tour)
    expect(JSON.parse(backend.seen[0]!.body)).toEqual(tourWire)
  })

  const badSteps: { name: string; step: unknown; want: RegExp }[] = [
    { name: 'no dwell', step: { camera: 'a/b' }, want: /step 0: "dwell_s" undefined is not a positive/ },
    { name: 'a zero dwell', step: { camera: 'a/b', dwell_s: 0 }, want: /"dwell_s" 0/ },
    { name: 'both camera and layout', step: { camera: 'a/b', layout: 'x', dwell_s: 5 }, want: /exactly one of "camera" and "layout"/ },
    { name: 'neither', step: { dwell_s: 5 }, want: /exactly one/ },
    { name: 'a bad camera', step: { camera: 'ab', dwell_s: 5 }, want: /camera "ab" is not "SITE\/CAMERA"/ },
  ]
  for (const c of badSteps) {
    it(`refuses a tour step with ${c.name}`, async () => {
      backend.route = () => json(200, { tours: [{ name: 't', steps: [c.step] }] })
      await expect(client().tours()).rejects.toThrow(c.want)
    })
  }
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
