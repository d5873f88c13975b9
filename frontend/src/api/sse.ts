// Server-Sent Events framing (the WHATWG "text/event-stream" format), fed
// with decoded text in whatever pieces the network delivers.

export interface ServerEvent {
  /** "message" when the event has no "event:" line. */
  event: string
  data: string
  id: string
}

export class SSEParser {
  private buffer = ''
  private event = ''
  private data: string[] = []
  private hasData = false
  private lastId = ''
  // A piece may end between "\r" and "\n"; the "\n" then starts the next one.
  private skipLF = false

  /** Lines seen since the last call, comments included: the stream is alive. */
  lines = 0

  /** Feeds text; returns the events it completes. */
  push(text: string): ServerEvent[] {
    const out: ServerEvent[] = []
    let s = this.buffer + text
    this.buffer = ''
    if (this.skipLF && s.startsWith('\n')) s = s.slice(1)
    this.skipLF = false
    let start = 0
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.line(s.slice(start, i), out)
      if (c === 13) {
        if (i + 1 < s.length) {
          if (s.charCodeAt(i + 1) === 10) i++
        } else {
          this.skipLF = true
        }
      }
      start = i + 1
    }
    this.buffer = s.slice(start)
    return out
  }

  private line(line: string, out: ServerEvent[]): void {
    this.lines++
    if (line === '') {
      if (this.hasData) out.push({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastId })
      this.event = ''
      this.data = []
      this.hasData = false
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        this.event = value
        break
      case 'data':
        this.data.push(value)
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      default:
      // "retry" and unknown fields: the reconnect policy is ours.
    }
  }
}
