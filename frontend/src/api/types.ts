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

export interface Camera {
  site: string
  id: string
  zone: string
  name: LocalizedName
  site_name: LocalizedName
  district: LocalizedName
  time_zone: string
  online: boolean
}

export interface Bootstrap {
  /** Absolute ws:// URL of the video bridge. */
  bridge: string
  /** Secret for the bridge's `?token=`. */
  token: string
  relay: string
  user: User
  /** "SITE/CAMERA". */
  default_camera: string
}

export type StreamKind = 'main' | 'sub'

/** The key a camera goes by everywhere in the view: "SITE/CAMERA". */
export function cameraKey(c: Pick<Camera, 'site' | 'id'>): string {
  return `${c.site}/${c.id}`
}
