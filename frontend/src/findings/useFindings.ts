// The findings as the console keeps them: the lists read from the backend
// (the last hours, whatever awaits a re-check, whatever is overdue), kept
// current by the backend's `findings` events, in the panel's order, and
// published as window.__qly.findings for the end-to-end tests. Filing a
// finding and the one open in the dialog are here too.
import { computed, onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue'
import { ApiError, type ApiClient, type Finding, type FlagRequest, type Freshness } from '../api'
import type { Say } from '../console/useNotice'
import { failedText, i18n } from '../i18n'
import { debug } from '../player'
import type { LiveStatus } from '../sites/useCameras'
import { FindingsRefresher, isOverdue, mergeFindings, panelSections, withFinding } from './recheck'
import { findingTitle } from './text'

export interface FindingsOptions {
  /** Where duty shifts are counted. */
  timeZone: Readonly<Ref<string>>
  /** The event stream's state: without it the open panel is polled. */
  live: Readonly<Ref<LiveStatus>>
  say: Say
  /** How often clips still recording (and, without events, the open panel) are read again. */
  pollMs?: number
  /** How far back the list goes: the shift before this one, at least. */
  backMs?: number
}

/** A backend before round 5 answers the status and overdue filters with 400: the last hours still list. */
const orNone = () => [] as Finding[]

/** One finding as window.__qly.findings lists it. */
export function hookOf(f: Finding, now: Date) {
  return {
    id: f.id,
    camera: f.camera,
    step: f.step,
    deviation: f.deviation,
    deviationText: f.deviationText,
    severity: f.severity,
    status: f.status,
    statusNote: f.statusNote ?? '',
    deadline: f.deadline?.toISOString() ?? '',
    overdue: isOverdue(f, now),
    clip: f.clip?.state ?? '',
    snapshot: f.snapshot?.file ?? '',
    forward: f.forward?.state ?? '',
    forwardError: f.forward?.error ?? '',
    origin: f.origin ?? '',
    observer: f.observer,
    photos: f.photos?.length ?? 0,
    rechecks: f.rechecks?.length ?? 0,
  }
}

export function useFindings(api: ApiClient, opts: FindingsOptions) {
  const list = shallowRef<Finding[]>([])
  const loading = ref(false)
  const error = ref('')
  /**
   * How current the relay's findings in the list are: with the relay out
   * of reach the list is the last known, as of then (issue 11).
   */
  const freshness = shallowRef<Freshness>()
  /** The findings panel is open. */
  const open = ref(false)
  /** The time the list was last read against (overdue, what is left). */
  const clock = ref(new Date())
  let timer: ReturnType<typeof setInterval> | undefined

  // The panel's order (the re-check queue, then by shift), for the panel
  // and for window.__qly.findings.
  const shown = computed(() => panelSections(list.value, opts.timeZone.value, clock.value).order)
  watch(
    shown,
    (order) => {
      const d = debug()
      if (d) d.findings = order.map((f) => hookOf(f, clock.value))
    },
    { immediate: true },
  )

  let loads = 0
  async function load(): Promise<void> {
    loading.value = true
    const n = ++loads
    try {
      const [page, queue, overdue] = await Promise.all([
        api.findingsPage({ since: new Date(Date.now() - (opts.backMs ?? 36 * 3600_000)) }),
        api.findings({ statuses: ['rectified'] }).catch(orNone),
        api.findings({ overdue: true }).catch(orNone),
      ])
      // A slower older answer must not undo a newer one.
      if (n === loads) {
        list.value = mergeFindings(overdue, queue, page.findings)
        freshness.value = page.freshness
        const d = debug()
        if (d) d.findingsFreshness = page.freshness ? { reachable: page.freshness.reachable, asOf: page.freshness.asOf?.toISOString() ?? '' } : undefined
      }
      error.value = ''
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) error.value = failedText(err)
    } finally {
      loading.value = false
      clock.value = new Date()
    }
  }

  function upsert(f: Finding): void {
    list.value = withFinding(list.value, f)
  }

  // The backend says which findings changed behind the view's back (the
  // site acknowledged or rectified, a change reached the relay or was
  // refused): those are read again, so the panel and an open finding
  // follow by themselves, without polling.
  const refresher = new FindingsRefresher({
    read: (id) => api.finding(id),
    apply: (f) => {
      upsert(f)
      clock.value = new Date()
    },
    reloadAll: () => void load(),
  })

  /** The backend's `findings` event. */
  function changed(ids: string[]): Promise<void> {
    const d = debug()
    if (d) {
      d.findingsEvents ??= { events: 0, ids: 0 }
      d.findingsEvents.events++
      d.findingsEvents.ids += ids.length
    }
    // No ids: the relay's feed came or went, and with it whether the list
    // is the last known (issue 11): read it whole.
    if (ids.length === 0) return load()
    return refresher.changed(ids)
  }

  /** Files a finding; it counts as flagged only once the backend has committed it. */
  async function file(r: FlagRequest): Promise<Finding> {
    try {
      const f = await api.flag(r)
      upsert(f)
      opts.say(i18n.global.t('flag.saved', { text: findingTitle(f) }))
      return f
    } catch (err) {
      if (err instanceof ApiError && err.code === 'camera_not_pulled') throw new Error(i18n.global.t('flag.notPulled'))
      if (err instanceof ApiError && err.code === 'disk_full') throw new Error(i18n.global.t('flag.diskFull'))
      throw err
    }
  }

  /**
   * Reads the lists now and keeps them current: clips finish recording some
   * seconds after a flag. What the site does comes as findings events; only
   * without the event stream is the open panel polled.
   */
  function start(): void {
    void load()
    clearInterval(timer)
    timer = setInterval(() => {
      const recording = list.value.some((f) => f.clip?.state === 'recording')
      if (recording || (open.value && opts.live.value !== 'open')) void load()
      else clock.value = new Date()
    }, opts.pollMs ?? 5000)
  }
  onScopeDispose(() => clearInterval(timer))

  // One finding open in a dialog, and whether it opened for withdrawal (w).
  const detailId = ref('')
  const withdrawing = ref(false)
  const detail = computed(() => list.value.find((f) => f.id === detailId.value))
  function show(id: string, withdraw = false): void {
    detailId.value = id
    withdrawing.value = withdraw
  }

  return { list, shown, loading, error, freshness, open, clock, detailId, detail, withdrawing, load, upsert, changed, file, start, show }
}

export type FindingsState = ReturnType<typeof useFindings>
