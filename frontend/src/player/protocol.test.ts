import { describe, expect, it } from 'vitest'
import { headerLength, parseMessage, type Message } from './protocol'

function unit(flags: number, pts: bigint, payload: number[]): ArrayBuffer {
  const b = new Uint8Array(headerLength + payload.length)
  b[0] = flags
  new DataView(b.buffer).setBigUint64(1, pts, false)
  b.set(payload, headerLength)
  return b.buffer
}

const idr = [0, 0, 0, 1, 0x65, 0x88, 0x84]
const slice = [0, 0, 1, 0x41, 0x9a]

describe('parseMessage', () => {
  const cases: { name: string; in: string | ArrayBuffer; want: Partial<Message> & { kind: Message['kind'] } }[] = [
    {
      name: 'config',
      in: '{"type":"config","codec":"avc1.42c01f","width":640,"height":360}',
      want: { kind: 'config', codec: 'avc1.42c01f', width: 640, height: 360 },
    },
    { name: 'config with bad codec', in: '{"type":"config","codec":"hvc1.1","width":640,"height":360}', want: { kind: 'invalid' } },
    { name: 'config with zero width', in: '{"type":"config","codec":"avc1.42c01f","width":0,"height":360}', want: { kind: 'invalid' } },
    { name: 'config with fractional height', in: '{"type":"config","codec":"avc1.42c01f","width":640,"height":36.5}', want: { kind: 'invalid' } },
    { name: 'config with width as text', in: '{"type":"config","codec":"avc1.42c01f","width":"640","height":360}', want: { kind: 'invalid' } },
    {
      name: 'state live',
      in: '{"type":"state","state":"live","since":"2026-05-09T08:00:00Z","reason":""}',
      want: { kind: 'state', state: 'live', since: new Date('2026-05-09T08:00:00Z'), reason: '' },
    },
    {
      name: 'state without since or reason',
      in: '{"type":"state","state":"offline"}',
      want: { kind: 'state', state: 'offline', since: undefined, reason: '' },
    },
    {
      name: 'state with unreadable since',
      in: '{"type":"state","state":"stalled","since":"yesterday","reason":"no packets"}',
      want: { kind: 'state', state: 'stalled', since: undefined, reason: 'no packets' },
    },
    { name: 'unknown state', in: '{"type":"state","state":"melting"}', want: { kind: 'invalid' } },
    { name: 'unknown event type', in: '{"type":"motion","zone":"door"}', want: { kind: 'unknown', type: 'motion' } },
    { name: 'event without type', in: '{"state":"live"}', want: { kind: 'invalid' } },
    { name: 'JSON array', in: '[1,2]', want: { kind: 'invalid' } },
    { name: 'JSON null', in: 'null', want: { kind: 'invalid' } },
    { name: 'not JSON', in: '{"type":"conf', want: { kind: 'invalid' } },
    { name: 'empty text', in: '', want: { kind: 'invalid' } },
    { name: 'keyframe', in: unit(1, 1_000_000n, idr), want: { kind: 'unit', keyframe: true, pts: 1_000_000 } },
    { name: 'delta frame', in: unit(0, 66_667n, slice), want: { kind: 'unit', keyframe: false, pts: 66_667 } },
    { name: 'catch-up', in: unit(3, 1_000_000n, idr), want: { kind: 'unit', keyframe: true, catchUp: true, pts: 1_000_000 } },
    { name: 'shown', in: unit(1, 1_000_000n, idr), want: { kind: 'unit', keyframe: true, catchUp: false, pts: 1_000_000 } },
    { name: 'reserved flag bits ignored', in: unit(0xfc, 5n, slice), want: { kind: 'unit', keyframe: false, catchUp: false, pts: 5 } },
    { name: 'empty binary', in: new ArrayBuffer(0), want: { kind: 'invalid' } },
    { name: 'truncated header', in: unit(1, 7n, []).slice(0, 5), want: { kind: 'invalid' } },
    { name: 'header without payload', in: unit(1, 7n, []), want: { kind: 'invalid' } },
    { name: 'payload without start code', in: unit(1, 7n, [0x65, 0x88, 0x84, 0x00]), want: { kind: 'invalid' } },
    { name: 'truncated start code', in: unit(1, 7n, [0, 0]), want: { kind: 'invalid' } },
    { name: 'PTS beyond 2^53', in: unit(1, 2n ** 60n, idr), want: { kind: 'invalid' } },
    { name: 'garbage bytes', in: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]).buffer, want: { kind: 'invalid' } },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const got = parseMessage(c.in)
      expect(got).toMatchObject(c.want)
      if (got.kind === 'invalid') expect(got.reason).not.toBe('')
    })
  }

  it('returns the payload after the header, without copying', () => {
    const buf = unit(1, 42n, idr)
    const got = parseMessage(buf)
    if (got.kind !== 'unit') throw new Error(`got ${got.kind}`)
    expect([...got.data]).toEqual(idr)
    expect(got.data.buffer).toBe(buf)
  })

  it('reads a view into a larger buffer at an offset', () => {
    const inner = new Uint8Array(unit(0, 9n, slice))
    const outer = new Uint8Array(inner.length + 3)
    outer.set(inner, 3)
    const got = parseMessage(outer.subarray(3))
    expect(got).toMatchObject({ kind: 'unit', keyframe: false, pts: 9 })
  })
})
