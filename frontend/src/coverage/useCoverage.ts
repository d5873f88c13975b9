// The live coverage panel's state (G): every site by how long since anyone
// last watched it and how much of the shift's policy is met, from the
// relay's coverage (polled every pollMs) with this officer's own screen
// added at once (a site on screen now is being watched, whatever the relay
// last said); the zones past their policy's gap (a warning); and the key
// moments, whose being due prompts the officer and jumps a running tour.
import { computed, onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import type { Coverage, Moment, Unwatched, Watching } from '../api/coverage'

export interface CoverageApi {
  coverage(): Promise<Coverage>
  moments(back?: string, ahead?: string): Promise<{ now: string; moments: Moment[] }>
  unwatched(): Promise<Unwatched>
}

export type Tone = 'now' | 'fresh' | 'aging' | 'stale' | 'never'

export interface SiteRow {
  site: string
  /** Seconds since anyone last watched it, by the relay's clock; null never. */
  sinceS: number | null
  watchingNow: boolean
  /** Zones of the policy met, of those it asks of. */
  met: number
  asked: number
  unwatched: boolean
  tone: Tone
}

/** The default policy's longest gap: the tone's scale when a site has none. */
const defaultGapS = 3600

export function toneOf(sinceS: number | null, watchingNow: boolean, gapS = defaultGapS): Tone {
  if (watchingNow) return 'now'
  if (sinceS === null) return 'never'
  if (sinceS >= gapS) return 'stale'
  return sinceS >= gapS / 2 ? 'aging' : 'fresh'
}

/**
 * The rows, least recently watched first: the relay's coverage as of
 * `relayNow` (its clock) with the cameras on this screen now.
 */
export function siteRows(cov: Coverage | undefined, visible: readonly Watching[], relayNow: number): SiteRow[] {
  if (!cov) return []
  const onScreen = new Set(visible.map((w) => w.camera.split('/')[0]))
  const rows = cov.sites.map((s): SiteRow => {
    const watchingNow = onScreen.has(s.site)
    const last = s.last_watched ? Date.parse(s.last_watched) : undefined
    const sinceS = watchingNow ? 0 : last === undefined ? null : Math.max(0, Math.round((relayNow - last) / 1000))
    const withPolicy = s.zones.filter((z) => z.policy)
    const gaps = withPolicy.map((z) => z.policy!.max_gap_seconds).filter((g) => g > 0)
    return {
      site: s.site,
      sinceS,
      watchingNow,
      met: withPolicy.filter((z) => z.met === true).length,
      asked: withPolicy.length,
      unwatched: s.unwatched && !watchingNow,
      tone: toneOf(sinceS, watchingNow, gaps.length ? Math.min(...gaps) : defaultGapS),
    }
  })
  const key = (r: SiteRow) => (r.sinceS === null ? Number.POSITIVE_INFINITY : r.sinceS)
  return rows.sort((a, b) => key(b) - key(a) || a.site.localeCompare(b.site))
}

export interface CoverageOptions {
  api: CoverageApi
  /** What is on this officer's screen now (useWatch). */
  visible: Readonly<Ref<readonly Watching[]>>
  /** A key moment became due: prompt, and jump a running tour. */
  due?(m: Moment): void
  pollMs?: number
}

export function useCoverage(opts: CoverageOptions) {
  const cov = shallowRef<Coverage>()
  const unwatched = shallowRef<Unwatched>()
  const moments = shallowRef<Moment[]>([])
  const error = ref('')
  // The relay's clock minus this one's, from its last answer: since is by the relay's clock.
  let offset = 0
  const now = ref(Date.now())
  /** When each camera left this screen, by the relay's clock (the officer's own share, at once). */
  const ownLast = new Map<string, number>()
  const prompted = new Set<string>()
  const dismissed = ref(new Set<string>())

  async function refresh(): Promise<void> {
    try {
      const [c, u, m] = await Promise.all([opts.api.coverage(), opts.api.unwatched(), opts.api.moments('1h', '1h')])
      offset = Date.parse(c.at) - Date.now()
      cov.value = c
      unwatched.value = u
      moments.value = m.moments
      error.value = ''
      for (const mo of m.moments) {
        if (mo.state !== 'due' || prompted.has(mo.id)) continue
        prompted.add(mo.id)
        opts.due?.(mo)
      }
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
    }
  }

  watch(
    () => opts.visible.value,
    (v, before) => {
      now.value = Date.now()
      const still = new Set(v.map((w) => w.camera))
      for (const w of before ?? []) if (!still.has(w.camera)) ownLast.set(w.camera, now.value + offset)
    },
  )
  const timer = setInterval(() => void refresh(), opts.pollMs ?? 30_000)
  const clockTimer = setInterval(() => (now.value = Date.now()), 1000)
  onScopeDispose(() => {
    clearInterval(timer)
    clearInterval(clockTimer)
  })

  const rows = computed(() => siteRows(cov.value, opts.visible.value, now.value + offset))
  /** The key moment to prompt: due, not yet watched here, not dismissed. */
  const dueMoment = computed(() => {
    const onScreen = new Set(opts.visible.value.map((w) => w.camera))
    return moments.value.find((m) => m.state === 'due' && !dismissed.value.has(m.id) && !m.cameras.some((c) => onScreen.has(`${m.site}/${c}`)))
  })

  /** When anyone last watched a camera ("site/camera"), by the relay's clock; undefined never. */
  function lastWatched(camera: string): number | undefined {
    if (opts.visible.value.some((w) => w.camera === camera)) return now.value + offset
    const [site, id] = camera.split('/')
    const c = cov.value?.sites.find((s) => s.site === site)?.cameras.find((x) => x.camera === id)
    const relay = c?.last_watched ? Date.parse(c.last_watched) : undefined
    const own = ownLast.get(camera)
    if (relay === undefined) return own
    return own === undefined ? relay : Math.max(relay, own)
  }

  return {
    cov,
    rows,
    unwatched,
    moments,
    dueMoment,
    error,
    refresh,
    lastWatched,
    dismiss: (id: string) => (dismissed.value = new Set([...dismissed.value, id])),
  }
}

export type CoverageState = ReturnType<typeof useCoverage>
