// Checks the backend's JSON against the contract and turns it into the view's
// types. Every failure names the place and the field.
import {
  grids,
  isCameraKey,
  type Bootstrap,
  type Camera,
  type CameraState,
  type Grid,
  type Layout,
  type LocalizedName,
  type Session,
  type StreamHealth,
  type StreamKind,
  type Tour,
  type TourStep,
  type User,
} from './types'

/** A response that breaks the contract. */
export class ContractError extends Error {
  constructor(where: string, what: string) {
    super(`${where}: ${what}`)
    this.name = 'ContractError'
  }
}

export function parseBootstrap(v: unknown, where = '/api/v1/bootstrap'): Bootstrap {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const bridge = str(v.bridge, where, 'bridge')
  if (!/^wss?:\/\//.test(bridge)) throw new ContractError(where, `"bridge" is not a ws:// URL: ${bridge}`)
  return {
    bridge,
    token: str(v.token, where, 'token'),
    relay: typeof v.relay === 'string' ? v.relay : '',
    user: v.user === undefined || v.user === null ? undefined : parseUser(v.user, where),
    default_camera: typeof v.default_camera === 'string' ? v.default_camera : '',
  }
}

export function parseSession(v: unknown, where = '/api/v1/session'): Session {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  if (typeof v.signed_in !== 'boolean') throw new ContractError(where, '"signed_in" is not true or false')
  const s: Session = { signedIn: v.signed_in, relay: typeof v.relay === 'string' ? v.relay : '' }
  if (v.signed_in) {
    s.user = parseUser(v.user, where)
    s.expiresAt = time(v.expires_at)
    return s
  }
  if (typeof v.reason === 'string' && v.reason) s.reason = v.reason
  if (typeof v.message === 'string' && v.message) s.message = v.message
  if (v.retrying === true) s.retrying = true
  return s
}

export function parseCameraList(v: unknown, where: string): Camera[] {
  if (!isObject(v) || !Array.isArray(v.cameras)) throw new ContractError(where, 'no "cameras" list')
  return v.cameras.map((c, i) => parseCamera(c, `${where}: camera ${i}`))
}

const cameraStates: readonly CameraState[] = ['online', 'stalled', 'offline']

export function parseCamera(v: unknown, where: string): Camera {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const online = v.online === true
  const streams: Camera['streams'] = {}
  if (isObject(v.streams)) {
    for (const kind of ['main', 'sub'] as StreamKind[]) {
      const h = parseHealth(v.streams[kind])
      if (h) streams[kind] = h
    }
  }
  return {
    site: str(v.site, where, 'site'),
    id: str(v.id, where, 'id'),
    zone: typeof v.zone === 'string' ? v.zone : '',
    name: parseName(v.name, where, 'name'),
    site_name: parseName(v.site_name, where, 'site_name'),
    district: parseName(v.district, where, 'district'),
    time_zone: typeof v.time_zone === 'string' && v.time_zone ? v.time_zone : 'Asia/Shanghai',
    online,
    // A backend from before stream health sends only "online".
    state: cameraStates.includes(v.state as CameraState) ? (v.state as CameraState) : online ? 'online' : 'offline',
    since: time(v.since),
    streams,
  }
}

// Health numbers are informative: a missing or odd one is left out, not an error.
function parseHealth(v: unknown): StreamHealth | undefined {
  if (!isObject(v) || !cameraStates.includes(v.state as CameraState)) return undefined
  const h: StreamHealth = { state: v.state as CameraState, since: time(v.since) }
  const nums: [keyof StreamHealth, string][] = [
    ['width', 'width'],
    ['height', 'height'],
    ['fps', 'fps'],
    ['bitrateKbps', 'bitrate_kbps'],
    ['keyframeIntervalMs', 'keyframe_interval_ms'],
    ['lastFrameAgeMs', 'last_frame_age_ms'],
    ['viewers', 'viewers'],
  ]
  for (const [field, json] of nums) {
    const n = v[json]
    if (typeof n === 'number' && Number.isFinite(n) && n >= 0) (h as unknown as Record<string, number>)[field] = n
  }
  return h
}

export function parseLayoutList(v: unknown, where: string): Layout[] {
  if (!isObject(v) || !Array.isArray(v.layouts)) throw new ContractError(where, 'no "layouts" list')
  return v.layouts.map((l, i) => parseLayout(l, `${where}: layout ${i}`))
}

export function parseLayout(v: unknown, where: string): Layout {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const name = str(v.name, where, 'name')
  if (!grids.includes(v.grid as Grid)) {
    throw new ContractError(where, `"grid" ${JSON.stringify(v.grid)} is not one of ${grids.join(', ')}`)
  }
  const grid = v.grid as Grid
  if (!Array.isArray(v.tiles)) throw new ContractError(where, '"tiles" is not a list')
  if (v.tiles.length > grid) throw new ContractError(where, `${v.tiles.length} tiles for a grid of ${grid}`)
  const tiles = v.tiles.map((t, i) => {
    if (t === null || t === '') return null
    if (typeof t !== 'string' || !isCameraKey(t)) {
      throw new ContractError(where, `tile ${i}: ${JSON.stringify(t)} is not "SITE/CAMERA" or null`)
    }
    return t
  })
  return { name, grid, tiles }
}

export function parseTourList(v: unknown, where: string): Tour[] {
  if (!isObject(v) || !Array.isArray(v.tours)) throw new ContractError(where, 'no "tours" list')
  return v.tours.map((t, i) => parseTour(t, `${where}: tour ${i}`))
}

export function parseTour(v: unknown, where: string): Tour {
  if (!isObject(v)) throw new ContractError(where, 'not an object')
  const name = str(v.name, where, 'name')
  if (!Array.isArray(v.steps)) throw new ContractError(where, '"steps" is not a list')
  const steps = v.steps.map((s, i): TourStep => {
    const at = `${where}: step ${i}`
    if (!isObject(s)) throw new ContractError(at, 'not an object')
    const dwell = s.dwell_s
    if (typeof dwell !== 'number' || !Number.isFinite(dwell) || dwell <= 0) {
      throw new ContractError(at, `"dwell_s" ${JSON.stringify(dwell)} is not a positive number of seconds`)
    }
    const hasCamera = typeof s.camera === 'string' && s.camera !== ''
    const hasLayout = typeof s.layout === 'string' && s.layout !== ''
    if (hasCamera === hasLayout) throw new ContractError(at, 'wants exactly one of "camera" and "layout"')
    if (hasCamera) {
      if (!isCameraKey(s.camera as string)) throw new ContractError(at, `camera ${JSON.stringify(s.camera)} is not "SITE/CAMERA"`)
      return { camera: s.camera as string, dwellS: dwell }
    }
    return { layout: s.layout as string, dwellS: dwell }
  })
  if (isObject(v.title) && (v.title['zh-CN'] || v.title.en)) return { name, title: parseName(v.title, where, 'title'), steps }
  return { name, steps }
}

/** The JSON the backend takes for a tour (snake_case, as the contract spells it). */
export function tourJSON(t: Tour): unknown {
  return {
    name: t.name,
    steps: t.steps.map((s) => ('camera' in s ? { camera: s.camera, dwell_s: s.dwellS } : { layout: s.layout, dwell_s: s.dwellS })),
  }
}

function parseUser(v: unknown, where: string): User {
  if (!isObject(v)) throw new ContractError(where, 'no "user"')
  return { name: str(v.name, where, 'user.name'), role: typeof v.role === 'string' ? v.role : '' }
}

/** A zh-CN/en text; one of the two may be empty, not both. */
export function parseName(v: unknown, where: string, field: string): LocalizedName {
  if (!isObject(v)) throw new ContractError(where, `"${field}" is not a name`)
  const zh = typeof v['zh-CN'] === 'string' ? v['zh-CN'] : ''
  const en = typeof v.en === 'string' ? v.en : ''
  if (!zh && !en) throw new ContractError(where, `"${field}" has neither zh-CN nor en`)
  return { 'zh-CN': zh, en }
}

export function str(v: unknown, where: string, field: string): string {
  if (typeof v !== 'string' || v === '') throw new ContractError(where, `"${field}" missing`)
  return v
}

// An unreadable time is left out rather than refused: it only labels a state.
export function time(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : new Date(t)
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
