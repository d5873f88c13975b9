import type { Bootstrap, Camera, LocalizedName, StreamKind, User } from './types'

/** An API call that failed: HTTP status (0: no answer) and the backend's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface ClientOptions {
  /** Per-launch secret, sent as Bearer; none in the Wails window. */
  secret?: string
  /** Origin to call; empty means the page's own. */
  base?: string
  timeoutMs?: number
}

/** The console backend's HTTP API. The only place in the view that calls fetch. */
export class ApiClient {
  private readonly base: string
  private readonly timeoutMs: number

  constructor(private readonly opts: ClientOptions = {}) {
    this.base = (opts.base ?? '').replace(/\/$/, '')
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  async bootstrap(): Promise<Bootstrap> {
    return parseBootstrap(await this.get('/api/v1/bootstrap'))
  }

  async cameras(): Promise<Camera[]> {
    const body = await this.get('/api/v1/cameras')
    if (!isObject(body) || !Array.isArray(body.cameras)) {
      throw badResponse('/api/v1/cameras', 'no "cameras" list')
    }
    return body.cameras.map((c, i) => parseCamera(c, `/api/v1/cameras: camera ${i}`))
  }

  private async get(path: string): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (this.opts.secret) headers.Authorization = `Bearer ${this.opts.secret}`
    let res: Response
    try {
      res = await fetch(this.base + path, { headers, signal: AbortSignal.timeout(this.timeoutMs) })
    } catch (err) {
      throw new ApiError(0, 'network', `GET ${path}: ${errorText(err)}`)
    }
    const text = await res.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : undefined
    } catch {
      body = undefined
    }
    if (!res.ok) {
      const e = isObject(body) && isObject(body.error) ? body.error : undefined
      const code = typeof e?.code === 'string' ? e.code : `http_${res.status}`
      const message = typeof e?.message === 'string' ? e.message : text.slice(0, 200) || res.statusText
      throw new ApiError(res.status, code, `GET ${path}: ${message}`)
    }
    if (body === undefined) throw badResponse(path, 'not JSON')
    return body
  }
}

/** The bridge URL for one camera's stream, with the bridge secret. */
export function videoURL(boot: Pick<Bootstrap, 'bridge' | 'token'>, camera: string, stream: StreamKind): string {
  const url = new URL(boot.bridge)
  url.searchParams.set('camera', camera)
  url.searchParams.set('stream', stream)
  url.searchParams.set('token', boot.token)
  return url.toString()
}

/** Opens the video bridge for one camera. The only place in the view that opens a WebSocket. */
export function openVideoSocket(boot: Pick<Bootstrap, 'bridge' | 'token'>, camera: string, stream: StreamKind): WebSocket {
  const ws = new WebSocket(videoURL(boot, camera, stream))
  ws.binaryType = 'arraybuffer'
  return ws
}

function parseBootstrap(v: unknown): Bootstrap {
  const where = '/api/v1/bootstrap'
  if (!isObject(v)) throw badResponse(where, 'not an object')
  const bridge = str(v.bridge, where, 'bridge')
  if (!/^wss?:\/\//.test(bridge)) throw badResponse(where, `"bridge" is not a ws:// URL: ${bridge}`)
  return {
    bridge,
    token: str(v.token, where, 'token'),
    relay: typeof v.relay === 'string' ? v.relay : '',
    user: parseUser(v.user, where),
    default_camera: typeof v.default_camera === 'string' ? v.default_camera : '',
  }
}

function parseUser(v: unknown, where: string): User {
  if (!isObject(v)) throw badResponse(where, 'no "user"')
  return { name: str(v.name, where, 'user.name'), role: typeof v.role === 'string' ? v.role : '' }
}

function parseCamera(v: unknown, where: string): Camera {
  if (!isObject(v)) throw badResponse(where, 'not an object')
  return {
    site: str(v.site, where, 'site'),
    id: str(v.id, where, 'id'),
    zone: typeof v.zone === 'string' ? v.zone : '',
    name: parseName(v.name, where, 'name'),
    site_name: parseName(v.site_name, where, 'site_name'),
    district: parseName(v.district, where, 'district'),
    time_zone: typeof v.time_zone === 'string' && v.time_zone ? v.time_zone : 'Asia/Shanghai',
    online: v.online === true,
  }
}

function parseName(v: unknown, where: string, field: string): LocalizedName {
  if (!isObject(v)) throw badResponse(where, `"${field}" is not a name`)
  const zh = typeof v['zh-CN'] === 'string' ? v['zh-CN'] : ''
  const en = typeof v.en === 'string' ? v.en : ''
  if (!zh && !en) throw badResponse(where, `"${field}" has neither zh-CN nor en`)
  return { 'zh-CN': zh, en }
}

function str(v: unknown, where: string, field: string): string {
  if (typeof v !== 'string' || v === '') throw badResponse(where, `"${field}" missing`)
  return v
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function badResponse(where: string, what: string): ApiError {
  return new ApiError(200, 'bad_response', `${where}: ${what}`)
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
