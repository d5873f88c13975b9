// Watch coverage as the console passes it on from the relay (relay/wire/
// coverage.go; docs/PROTOCOLS.md, issue 11.4). Times are RFC 3339 strings,
// the relay's clock.
import { ContractError, isObject } from './parse'
import type { LocalizedName } from './types'

/** A camera on the officer's screen: "site/camera", in a tile or focused. */
export interface Watching {
  camera: string
  mode: 'tile' | 'focus'
}

export interface ZonePolicy {
  max_gap_seconds: number
  min_per_shift_seconds: number
  once_per_shift: boolean
}

export interface ZoneCoverage {
  zone: string
  watched_seconds: number
  last_watched: string | null
  since_seconds: number | null
  policy: ZonePolicy | null
  seen_seconds?: number
  longest_gap_seconds?: number
  met: boolean | null
  unwatched: boolean
}

export interface CameraCoverage {
  camera: string
  zone: string
  watched_seconds: number
  last_watched: string | null
}

export interface Moment {
  id: string
  name: LocalizedName
  site: string
  zones: string[]
  cameras: string[]
  at: string
  window_seconds: number
  state: 'upcoming' | 'due' | 'watched' | 'missed' | string
}

export interface SiteCoverage {
  site: string
  watched_seconds: number
  last_watched: string | null
  policy_met: boolean | null
  unwatched: boolean
  zones: ZoneCoverage[]
  cameras: CameraCoverage[]
  moments: Moment[]
}

export interface Coverage {
  from: string
  to: string
  at: string
  sites: SiteCoverage[]
}

export interface Moments {
  now: string
  moments: Moment[]
}

export interface UnwatchedZone {
  site: string
  zone: string
  last_watched: string | null
  since_seconds: number | null
  max_gap_seconds: number
}

export interface Unwatched {
  at: string
  zones: UnwatchedZone[]
}

function withArray<T>(v: unknown, what: string, field: string): T {
  if (!isObject(v) || !Array.isArray(v[field])) throw new ContractError(what, `want an object with ${field} a list`)
  return v as T
}

export const parseCoverage = (v: unknown, what: string) => withArray<Coverage>(v, what, 'sites')
export const parseMoments = (v: unknown, what: string) => withArray<Moments>(v, what, 'moments')
export const parseUnwatched = (v: unknown, what: string) => withArray<Unwatched>(v, what, 'zones')
