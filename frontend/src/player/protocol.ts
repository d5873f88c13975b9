// The video bridge's messages (docs/PROTOCOLS.md, /ws/video): text messages
// are JSON events, binary messages are access units.

export type StreamState = 'connecting' | 'live' | 'stalled' | 'offline'

export interface ConfigEvent {
  kind: 'config'
  codec: string
  width: number
  height: number
}

export interface StateEvent {
  kind: 'state'
  state: StreamState
  /** When the state began; undefined when the event had none or an unreadable one. */
  since?: Date
  reason: string
}

export interface AccessUnit {
  kind: 'unit'
  keyframe: boolean
  /**
   * Part of the picture the console held when this connection opened, with
   * a newer unit of it behind: decode it, do not show it.
   */
  catchUp: boolean
  /** Presentation time in microseconds. */
  pts: number
  /** Annex-B access unit; a view into the message, not a copy. */
  data: Uint8Array
}

/** An event type this view does not know: skipped, so the backend may add events. */
export interface UnknownEvent {
  kind: 'unknown'
  type: string
}

/** A message that breaks the contract, with what was wrong. */
export interface InvalidMessage {
  kind: 'invalid'
  reason: string
}

export type Message = ConfigEvent | StateEvent | AccessUnit | UnknownEvent | InvalidMessage

export const headerLength = 9
const keyframeFlag = 0x01
const catchUpFlag = 0x02
const states: readonly StreamState[] = ['connecting', 'live', 'stalled', 'offline']
// avc1.PPCCLL: profile, constraint flags and level, in hex (RFC 6381).
const avcCodec = /^avc1\.[0-9a-fA-F]{6}$/
// Frames wider or taller than this are not a camera but a corrupt message.
const maxDimension = 16384

/** Parses one WebSocket message; never throws. */
export function parseMessage(data: string | ArrayBuffer | ArrayBufferView): Message {
  if (typeof data === 'string') return parseEvent(data)
  const bytes =
    data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return parseUnit(bytes)
}

function parseUnit(b: Uint8Array): AccessUnit | InvalidMessage {
  if (b.length < headerLength) {
    return invalid(`binary message of ${b.length} bytes is shorter than the ${headerLength}-byte header`)
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const pts = view.getBigUint64(1, false)
  if (pts > BigInt(Number.MAX_SAFE_INTEGER)) return invalid(`PTS ${pts} µs is out of range`)
  const data = b.subarray(headerLength)
  if (data.length === 0) return invalid('access unit is empty')
  if (!startsWithStartCode(data)) return invalid('access unit does not start with an Annex-B start code')
  const flags = b[0]!
  return { kind: 'unit', keyframe: (flags & keyframeFlag) !== 0, catchUp: (flags & catchUpFlag) !== 0, pts: Number(pts), data }
}

function startsWithStartCode(d: Uint8Array): boolean {
  if (d.length >= 4 && d[0] === 0 && d[1] === 0 && d[2] === 1) return true
  return d.length >= 5 && d[0] === 0 && d[1] === 0 && d[2] === 0 && d[3] === 1
}

function parseEvent(text: string): Message {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return invalid(`text message is not JSON: ${preview(text)}`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return invalid('event is not a JSON object')
  const e = v as Record<string, unknown>
  if (typeof e.type !== 'string') return invalid('event has no "type"')
  switch (e.type) {
    case 'config':
      return parseConfig(e)
    case 'state':
      return parseState(e)
    default:
      return { kind: 'unknown', type: e.type }
  }
}

function parseConfig(e: Record<string, unknown>): ConfigEvent | InvalidMessage {
  if (typeof e.codec !== 'string' || !avcCodec.test(e.codec)) {
    return invalid(`config: codec ${JSON.stringify(e.codec)} is not avc1.PPCCLL`)
  }
  for (const f of ['width', 'height'] as const) {
    const n = e[f]
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > maxDimension) {
      return invalid(`config: ${f} ${JSON.stringify(n)} is not a size in pixels`)
    }
  }
  return { kind: 'config', codec: e.codec, width: e.width as number, height: e.height as number }
}

function parseState(e: Record<string, unknown>): StateEvent | InvalidMessage {
  const state = e.state
  if (typeof state !== 'string' || !states.includes(state as StreamState)) {
    return invalid(`state: ${JSON.stringify(state)} is not one of ${states.join(', ')}`)
  }
  let since: Date | undefined
  if (typeof e.since === 'string') {
    const t = Date.parse(e.since)
    if (!Number.isNaN(t)) since = new Date(t)
  }
  return { kind: 'state', state: state as StreamState, since, reason: typeof e.reason === 'string' ? e.reason : '' }
}

function invalid(reason: string): InvalidMessage {
  return { kind: 'invalid', reason }
}

function preview(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)
}
