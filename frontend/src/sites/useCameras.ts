// The camera list with live health: fetched once for a quick first paint,
// then kept current by the backend's event stream. A backend without the
// stream (404) is polled instead, every pollMs.
import { computed, onBeforeUnmount, ref, shallowRef, type ComputedRef, type Ref, type ShallowRef } from 'vue'
import { ApiError, cameraKey, type ApiClient, type Camera } from '../api'
import { cameraLabel, currentLocale } from '../i18n'

export type LiveStatus = 'connecting' | 'open' | 'retrying' | 'polling'

export interface CameraFeed {
  cameras: ShallowRef<Camera[]>
  byKey: ComputedRef<ReadonlyMap<string, Camera>>
  /** The list has arrived at least once. */
  loaded: Ref<boolean>
  error: ShallowRef<ApiError | undefined>
  live: Ref<LiveStatus>
  /** The time zone of the default camera (else the first): where shifts are counted. */
  timeZone: ComputedRef<string>
  /** A camera's time zone, or the default one for a camera not in the list. */
  timeZoneOf(key: string): string
  /** "Site · camera" in the view's language, or the key. */
  label(key: string): string
}

export interface CameraFeedOptions {
  /** The backend's default camera, whose time zone the console keeps. */
  defaultCamera?: string
  /** Where the event stream is when the page is not served by the backend (the Wails window). */
  events?: { base?: string; token?: string }
  /** The backend ended the session (session_expired, signed_out). */
  signedOut(reason: string): void
  pollMs?: number
  /** The backend's `findings` event: these findings changed. */
  findingsChanged?(ids: string[]): void
  /** The backend's `disk` event: the console's data disk is full (nothing can be saved) or has room again. */
  diskChanged?(full: boolean): void
  /**
   * The stream (re)opened: events sent while it was down are not replayed,
   * so what they would have said is read afresh.
   */
  streamOpened?(): void
  /** The list asked for already (with the bootstrap), taken instead of asking again; asked again if it failed. */
  first?: Promise<Camera[]>
}

const sessionCodes = new Set(['session_expired', 'signed_out'])

export function useCameras(api: ApiClient, opts: CameraFeedOptions): CameraFeed {
  const cameras = shallowRef<Camera[]>([])
  const loaded = ref(false)
  const error = shallowRef<ApiError>()
  const live = ref<LiveStatus>('connecting')
  const byKey = computed<ReadonlyMap<string, Camera>>(() => new Map(cameras.value.map((c) => [cameraKey(c), c])))
  let poll: ReturnType<typeof setInterval> | undefined
  let ended = false

  function endSession(reason: string): void {
    if (ended) return
    ended = true
    stream.stop()
    clearInterval(poll)
    opts.signedOut(reason)
  }

  function take(list: Camera[]): void {
    cameras.value = list
    loaded.value = true
    error.value = undefined
  }

  async function load(first?: Promise<Camera[]>): Promise<void> {
    try {
      take(await (first ? first.catch(() => api.cameras()) : api.cameras()))
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'internal', String(err))
      if (e.status === 401 && sessionCodes.has(e.code)) endSession(e.code)
      else error.value = e
    }
  }

  const stream = api.events(
    {
      cameras: take,
      camera: (c) => (cameras.value = withCamera(cameras.value, c)),
      session: (s) => {
        if (!s.signedIn) endSession(s.reason || 'signed_out')
      },
      findings: (ids) => opts.findingsChanged?.(ids),
      disk: (d) => opts.diskChanged?.(d.full),
      status: (s) => {
        switch (s.state) {
          case 'open':
            live.value = 'open'
            opts.streamOpened?.()
            break
          case 'connecting':
            if (live.value !== 'retrying') live.value = 'connecting'
            break
          case 'retrying':
            live.value = 'retrying'
            break
          case 'unsupported':
            live.value = 'polling'
            poll = setInterval(() => void load(), opts.pollMs ?? 10_000)
            break
          case 'refused':
            endSession(sessionCodes.has(s.error.code) ? s.error.code : 'session_expired')
            break
        }
      },
    },
    opts.events ?? {},
  )

  void load(opts.first)
  stream.start()
  onBeforeUnmount(() => {
    stream.stop()
    clearInterval(poll)
  })
  const timeZone = computed(() => byKey.value.get(opts.defaultCamera ?? '')?.time_zone ?? cameras.value[0]?.time_zone ?? 'Asia/Shanghai')
  return {
    cameras,
    byKey,
    loaded,
    error,
    live,
    timeZone,
    timeZoneOf: (key) => byKey.value.get(key)?.time_zone ?? timeZone.value,
    label: (key) => cameraLabel(byKey.value.get(key), key, currentLocale()),
  }
}

/** The list with one camera's new entry in its place, or added at the end. */
export function withCamera(list: readonly Camera[], c: Camera): Camera[] {
  const key = cameraKey(c)
  const i = list.findIndex((x) => cameraKey(x) === key)
  return i < 0 ? [...list, c] : list.map((x, j) => (j === i ? c : x))
}
