// The shapes of the console backend's API (docs/PROTOCOLS.md).

/** A display name in both UI languages. */
export interface LocalizedName {
  'zh-CN': string
  en: string
}

export interface User {
  name: string
  role: string
}

export type StreamKind = 'main' | 'sub'

/** What the relay knows of a camera or one of its streams. */
export type CameraState = 'online' | 'stalled' | 'offline'

/** One stream's health as the relay reports it; the numbers only while it runs. */
export interface StreamHealth {
  state: CameraState
  since?: Date
  width?: number
  height?: number
  fps?: number
  bitrateKbps?: number
  keyframeIntervalMs?: number
  lastFrameAgeMs?: number
  viewers?: number
}

export interface Camera {
  site: string
  id: string
  zone: string
  name: LocalizedName
  site_name: LocalizedName
  district: LocalizedName
  time_zone: string
  online: boolean
  /** The best of its streams' states; derived from `online` when the backend sends none. */
  state: CameraState
  since?: Date
  streams: Partial<Record<StreamKind, StreamHealth>>
}

export interface Bootstrap {
  /** Absolute ws:// URL of the video bridge. */
  bridge: string
  /** Secret for the bridge's `?token=`. */
  token: string
  relay: string
  /** Absent while nobody is signed in. */
  user?: User
  /** "SITE/CAMERA". */
  default_camera: string
}

/** The console's sign-in to a relay. */
export interface Session {
  signedIn: boolean
  /** The relay signed in to, or the last one used. */
  relay: string
  user?: User
  expiresAt?: Date
  /** Signed out: why (session_expired, signed_out, relay_unreachable…), when the backend says. */
  reason?: string
  /** The backend's words about it, e.g. the address it cannot reach. */
  message?: string
  /** The sign-in given at launch is being retried: the relay could not be reached yet. */
  retrying?: boolean
}

export interface SignIn {
  relay: string
  user: string
  password: string
}

export const grids = [1, 4, 9, 16, 25] as const
export type Grid = (typeof grids)[number]

/** A saved wall: which camera ("SITE/CAMERA") each tile shows; null leaves a tile empty. */
export interface Layout {
  name: string
  grid: Grid
  tiles: (string | null)[]
}

/** A tour step shows one camera (single view) or a saved layout for dwellS seconds. */
export type TourStep = { camera: string; dwellS: number } | { layout: string; dwellS: number }

export interface Tour {
  name: string
  /** A built-in tour's name in words, each language; a tour the officer named has none (tour/name.ts). */
  title?: LocalizedName
  steps: TourStep[]
}

/** The key a camera goes by everywhere in the view: "SITE/CAMERA". */
export function cameraKey(c: Pick<Camera, 'site' | 'id'>): string {
  return `${c.site}/${c.id}`
}

/** Whether s looks like "SITE/CAMERA". */
export function isCameraKey(s: string): boolean {
  return /^[^/\s]+\/[^/\s]+$/.test(s)
}
