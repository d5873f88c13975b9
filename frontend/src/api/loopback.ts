// A real HTTP server on loopback standing in for the console backend, for
// the tests: it answers what `route` says to a request with the secret,
// 401 to one without, and `seen` records what arrived. Not part of the view.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { ApiClient } from './client'

export interface Seen {
  method: string
  url: string
  auth?: string
  type?: string
  body: string
}

/** A body given as a string goes as it is; anything else as JSON. */
export interface Answer {
  status: number
  body?: unknown
}

export const notFound: Answer = { status: 404, body: { error: { code: 'not_found', message: 'no such path' } } }
const unauthorized: Answer = { status: 401, body: { error: { code: 'unauthorized', message: 'missing or wrong secret' } } }

export interface LoopbackBackend {
  /** http://127.0.0.1:PORT */
  base: string
  seen: Seen[]
  /** May answer later (a slow backend), to test answers that cross. */
  route: (s: Seen) => Answer | Promise<Answer>
  /** Forgets what was seen and answers 404 to everything again. */
  reset(): void
  close(): Promise<void>
}

export async function loopbackBackend(secret: string): Promise<LoopbackBackend> {
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, type: req.headers['content-type'], body }
      backend.seen.push(s)
      void Promise.resolve(s.auth === `Bearer ${secret}` ? backend.route(s) : unauthorized).then((a) => {
        res.writeHead(a.status, { 'Content-Type': 'application/json' })
        res.end(a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const backend: LoopbackBackend = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen: [],
    route: () => notFound,
    reset() {
      backend.seen = []
      backend.route = () => notFound
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
  return backend
}

/**
 * The stand-in for every test of a file: started before them, answering
 * 404 again before each, closed after.
 */
export function loopbackForTests(secret: string): LoopbackBackend & { client(): ApiClient } {
  let started: LoopbackBackend | undefined
  beforeAll(async () => void (started = await loopbackBackend(secret)))
  afterAll(() => started?.close())
  beforeEach(() => started?.reset())
  const b = () => {
    if (!started) throw new Error('the loopback backend starts before the tests')
    return started
  }
  return {
    get base() {
      return b().base
    },
    get seen() {
      return b().seen
    },
    get route() {
      return b().route
    },
    set route(r) {
      b().route = r
    },
    reset: () => b().reset(),
    close: () => b().close(),
    client: () => new ApiClient({ base: b().base, secret }),
  }
}
