import { describe, expect, it } from 'vitest'
import { SSEParser, type ServerEvent } from './sse'

function feed(pieces: string[]): ServerEvent[] {
  const p = new SSEParser()
  return pieces.flatMap((s) => p.push(s))
}

describe('SSEParser', () => {
  const cases: { name: string; pieces: string[]; want: ServerEvent[] }[] = [
    {
      name: 'a named event',
      pieces: ['event: cameras\ndata: {"cameras":[]}\n\n'],
      want: [{ event: 'cameras', data: '{"cameras":[]}', id: '' }],
    },
    { name: 'no event line means "message"', pieces: ['data: x\n\n'], want: [{ event: 'message', data: 'x', id: '' }] },
    { name: 'data lines joined with newlines', pieces: ['data: a\ndata:b\ndata\n\n'], want: [{ event: 'message', data: 'a\nb\n', id: '' }] },
    {
      name: 'pieces split anywhere',
      pieces: ['ev', 'ent: cam', 'era\nda', 'ta: {"a":', '1}\n', '\n'],
      want: [{ event: 'camera', data: '{"a":1}', id: '' }],
    },
    { name: 'CRLF and CR line ends', pieces: ['data: a\r\n\r\ndata: b\r\rdata: c\r', '\n\r\n'], want: ['a', 'b', 'c'].map((d) => ({ event: 'message', data: d, id: '' })) },
    { name: 'comments are not events', pieces: [': keep-alive\n\n:\n\n'], want: [] },
    { name: 'an event without data is not dispatched', pieces: ['event: camera\n\n'], want: [] },
    { name: 'an unfinished event waits', pieces: ['event: camera\ndata: {}\n'], want: [] },
    { name: 'ids carry over', pieces: ['id: 7\ndata: a\n\ndata: b\n\n'], want: [{ event: 'message', data: 'a', id: '7' }, { event: 'message', data: 'b', id: '7' }] },
    { name: 'only one leading space is stripped', pieces: ['data:  two\n\n'], want: [{ event: 'message', data: ' two', id: '' }] },
    { name: 'the event name resets after dispatch', pieces: ['event: a\ndata: 1\n\ndata: 2\n\n'], want: [{ event: 'a', data: '1', id: '' }, { event: 'message', data: '2', id: '' }] },
  ]
  for (const c of cases) it(c.name, () => expect(feed(c.pieces)).toEqual(c.want))

  it('counts lines, comments included, as signs of life', () => {
    const p = new SSEParser()
    p.push(': ping\n')
    expect(p.lines).toBe(1)
  })
})
