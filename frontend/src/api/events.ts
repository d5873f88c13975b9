// The backend's event stream (GET /api/v1/events): the whole camera list on
// connect and every 5 s, a camera whenever its state changes, and the end of
// the session. Read with fetch rather than EventSource so that the secret can
// travel as a header and a dead connection can be noticed and replaced.
import { backoffDelay, defaultBackoff, type BackoffOptions } from '../player/backoff'
import { ApiError, clientCodes, errorFrom, errorText } from './errors'
import { ContractError, isObject, parseCamera, parseCameraList, parseSession, time } from './parse'
import { parseFindingsEvent } from './findings'
import { SSEParser } from './sse'
import type { Camera, Session } from './types'

export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  /** Lost or refused for a reason that may pass; the next attempt follows in retryInMs. */
  | { state: 'retrying'; error: ApiError; retryInMs: number }
  /** The backend has no event stream (404): the caller polls instead. Final. */
  | { state: 'unsupported'; error: ApiError }
  /** The backend refused (401): signed out or the session expired. Final. */
  | { state: 'refused'; error: ApiError }

export interface StreamHandlers {
  cameras(list: Camera[]): void
  camera(c: Camera): void
  /** The sign-in started or ended (a stream opened while signed out starts with one). */
  session(s: Session): void
  /** Findings changed outside this view's own calls (the site answered, a change reached the relay): read them again. */
  findings?(ids: string[]): void
  /** The console's data disk filled or has room again (sent again to a stream that reconnects). */
  disk?(d: DiskState): void
  status?(s: StreamStatus): void
  /** An event that breaks the contract; skipped. */
  invalid?(reason: string): void
}

/** The console's data disk: while full, nothing the officer does can be saved. */
export interface DiskState {
  full: boolean
  since?: Date
}

export function parseDiskEvent(v: unknown, where: string): DiskState {
  if (!isObject(v) || typeof v.full !== 'boolean') throw new ContractError(where, 'no "full" flag')
  return { full: v.full, since: time(v.since) }
}

export interface EventStreamOptions {
  url: string
  headers: Record<string, string>
  backoff: BackoffOptions
  /**
   * With no byte for this long the connection counts as dead and is
   * replaced: the backend sends the list every 5 s and a comment every 15 s.
   */
  silenceMs: number
  random?: () => number
}

export class EventStream {
  private readonly opts: EventStreamOptions
  private abort: AbortController | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private watchdog: ReturnType<typeof setInterval> | undefined
  private attempt = 0
  private stopped = false
  private started = false
  private heardAt = 0

  constructor(opts: Partial<EventStreamOptions> & Pick<EventStreamOptions, 'url' | 'headers'>, private readonly handlers: StreamHandlers) {
    this.opts = { backoff: defaultBackoff, silenceMs: 40_000, ...opts }
  }

  start(): void {
    if (this.started || this.stopped) return
    this.started = true
    void this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    clearInterval(this.watchdog)
    this.abort?.abort()
  }

  private async connect(): Promise<void> {
    if (this.stopped) return
    this.handlers.status?.({ state: 'connecting' })
    const abort = new AbortController()
    this.abort = abort
    let res: Response
    try {
      res = await fetch(this.opts.url, { headers: this.opts.headers, signal: abort.signal, cache: 'no-store' })
    } catch (err) {
      return this.retry(new ApiError(0, clientCodes.network, `GET /api/v1/events: ${errorText(err)}`))
    }
    if (!res.ok) {
      const err = await errorFrom(res, 'GET /api/v1/events')
      if (res.status === 404) return this.finish({ state: 'unsupported', error: err })
      if (res.status === 401) return this.finish({ state: 'refused', error: err })
      return this.retry(err)
    }
    if (!res.body) return this.retry(new ApiError(res.status, clientCodes.badResponse, 'GET /api/v1/events: no body'))
    this.handlers.status?.({ state: 'open' })
    this.heardAt = Date.now()
    clearInterval(this.watchdog)
    this.watchdog = setInterval(() => {
      if (Date.now() - this.heardAt > this.opts.silenceMs) abort.abort(new Error(`silent for over ${this.opts.silenceMs} ms`))
    }, Math.min(5000, this.opts.silenceMs / 2))

    const parser = new SSEParser()
    const decoder = new TextDecoder()
    const reader = res.body.getReader()
    let reason = 'the backend closed the stream'
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        this.heardAt = Date.now()
        for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
          // Only a stream that delivers resets the backoff.
          this.attempt = 0
          this.dispatch(ev.event, ev.data)
        }
      }
    } catch (err) {
      reason = abort.signal.reason instanceof Error ? abort.signal.reason.message : errorText(err)
    } finally {
      clearInterval(this.watchdog)
    }
    this.retry(new ApiError(0, clientCodes.network, `GET /api/v1/events: ${reason}`))
  }

  private dispatch(event: string, data: string): void {
    let v: unknown
    try {
      v = JSON.parse(data)
    } catch {
      this.handlers.invalid?.(`event ${event}: data is not JSON`)
      return
    }
    try {
      switch (event) {
        case 'cameras':
          this.handlers.cameras(parseCameraList(v, 'event cameras'))
          return
        case 'camera':
          this.handlers.camera(parseCamera(v, 'event camera'))
          return
        case 'session':
          this.handlers.session(parseSession(v, 'event session'))
          return
        case 'findings':
          this.handlers.findings?.(parseFindingsEvent(v, 'event findings'))
          return
        case 'disk':
          this.handlers.disk?.(parseDiskEvent(v, 'event disk'))
          return
        default:
        // Events this view does not know: the backend may add some.
      }
    } catch (err) {
      if (!(err instanceof ContractError)) throw err
      this.handlers.invalid?.(err.message)
    }
  }

  private retry(error: ApiError): void {
    if (this.stopped) return
    const retryInMs = backoffDelay(this.attempt, this.opts.backoff, this.opts.random)
    this.attempt++
    this.handlers.status?.({ state: 'retrying', error, retryInMs })
    this.retryTimer = setTimeout(() => void this.connect(), retryInMs)
  }

  private finish(s: StreamStatus): void {
    if (this.stopped) return
    this.stopped = true
    this.handlers.status?.(s)
  }
}
