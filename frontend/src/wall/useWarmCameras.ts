// Which cameras the officer is likely to put on the wall next, kept warm
// (player/warm.ts): while the camera list has the keys or the pointer, the
// sub streams of the cameras in it that are online and not on the wall, the
// current tile's site first. A one-tile wall shows the main stream
// (VideoWall), about six times a sub stream's bits: none is kept warm. The relay lets a user hold 32 WHEP sessions
// (docs/SECURITY.md), so warm ones never take the room of the wall's tiles
// and a focus view's main stream.
import { computed, onBeforeUnmount, watch, type Ref } from 'vue'
import { cameraKey, type Camera } from '../api'
import { debug } from '../player'
import type { WarmPool } from '../player'
import type { WarmKey } from '../player/warm'

/** At most this many warm at once. */
export const maxWarm = 8
/** The relay's WHEP sessions a user may hold (limits.whep_sessions_per_user's default). */
const relaySessions = 32
/** Kept free beside the wall's: the focus view's main stream and one more window. */
const spare = 2

export interface WarmCamerasOptions {
  cameras: Readonly<Ref<readonly Camera[]>>
  /** The wall's tiles' cameras ("SITE/CAMERA", null for an empty tile). */
  tiles: Readonly<Ref<readonly (string | null)[]>>
  /** The camera of the tile in use. */
  current: Readonly<Ref<string | null>>
  /** The camera list has the keys or the pointer. */
  choosing: Readonly<Ref<boolean>>
  /** The wall's grid: 1, 4, 9, 16 or 25 tiles. */
  grid: Readonly<Ref<number>>
}

/** The cameras to keep warm, in order of likelihood. */
export function warmCandidates(cameras: readonly Camera[], tiles: readonly (string | null)[], current: string | null, choosing: boolean, grid = 4): WarmKey[] {
  if (!choosing || grid === 1) return []
  const onWall = new Set(tiles.filter((t): t is string => t !== null))
  const room = Math.max(0, Math.min(maxWarm, relaySessions - spare - onWall.size))
  const site = current?.split('/')[0]
  const off = cameras.filter((c) => c.state === 'online' && !onWall.has(cameraKey(c)))
  const ordered = [...off.filter((c) => c.site === site), ...off.filter((c) => c.site !== site)]
  return ordered.slice(0, room).map((c) => ({ camera: cameraKey(c), stream: 'sub' }))
}

export function useWarmCameras(pool: WarmPool, opts: WarmCamerasOptions) {
  const wanted = computed(() => warmCandidates(opts.cameras.value, opts.tiles.value, opts.current.value, opts.choosing.value, opts.grid.value))
  const ids = computed(() => wanted.value.map((k) => k.camera).join(' '))
  // The list of cameras changes with every camera's health: only a change
  // of the cameras wanted opens or releases sockets.
  watch(
    ids,
    () => {
      pool.want(wanted.value)
      // What is wanted warm now (those let go linger a while), for tests.
      const d = debug()
      if (d) d.warm = wanted.value.map((k) => k.camera)
    },
    { immediate: true },
  )
  onBeforeUnmount(() => pool.stop())
  return { wanted }
}

