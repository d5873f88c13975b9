import { afterEach, describe, expect, it } from 'vitest'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiClient } from './client'
import type { DiskState } from './events'

const servers: http.Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }
})

describe('disk event', () => {
  it('delivers the data disk filling and having room again, and skips one without its flag', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' })
      res.write('event: disk\ndata: {"full":true,"since":"2026-12-02T01:00:00Z"}\n\n')
      res.write('event: disk\ndata: {"since":"2026-12-02T01:00:30Z"}\n\n')
      res.write('event: disk\ndata: {"full":false,"since":"2026-12-02T01:01:00Z"}\n\n')
    })
    servers.push(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const got: DiskState[] = []
    const invalid: string[] = []
    const s = new ApiClient({ base, secret: 's' }).events(
      { cameras: () => {}, camera: () => {}, session: () => {}, disk: (d) => got.push(d), invalid: (why) => invalid.push(why) },
      { backoff: { baseMs: 20, maxMs: 80, jitter: 0 } },
    )
    s.start()
    const end = Date.now() + 60_000
    while (got.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    s.stop()
    expect(got).toEqual([
      { full: true, since: new Date('2026-12-02T01:00:00Z') },
      { full: false, since: new Date('2026-12-02T01:01:00Z') },
    ])
    expect(invalid).toHaveLength(1)
  })
})
