// The dashboard's data: every chart's answer of the relay for one filter,
// asked at once; a chart whose answer fails says so and the others stand.
// A newer filter makes the older answers stale: they are dropped.
import { shallowRef, watch, type Ref } from 'vue'
import type { ApiClient } from '../api'
import type {
  CheckStats,
  FindingStats,
  Followup,
  OverdueStats,
  RankedSite,
  RectificationStats,
  RepeatSite,
  ShiftCoverage,
} from '../api/supervision'
import { dayOf, type ReviewFilter } from '../review/filter'
import { checksQuery, coverageQuery, dashboardFilter, statsQuery, timeGroup } from './query'

export interface Loaded<T> {
  value?: T
  error?: unknown
}

export interface DashboardData {
  byActivity: Loaded<FindingStats>
  bySeverity: Loaded<FindingStats>
  byDistrict: Loaded<FindingStats>
  bySite: Loaded<FindingStats>
  rectification: Loaded<RectificationStats>
  overdue: Loaded<OverdueStats>
  repeats: Loaded<RepeatSite[]>
  sites: Loaded<RankedSite[]>
  checks: Loaded<CheckStats>
  coverage: Loaded<ShiftCoverage[]>
  followups: Loaded<Followup[]>
}

/** The repeat window the dashboard counts in (days). */
export const repeatDays = 30

async function settle<T>(p: Promise<T>): Promise<Loaded<T>> {
  try {
    return { value: await p }
  } catch (error) {
    return { error }
  }
}

export function useDashboard(api: ApiClient, query: Ref<string>, timeZone: Ref<string>) {
  const filter = shallowRef<ReviewFilter>(dashboardFilter(query.value))
  const data = shallowRef<Partial<DashboardData>>({})
  const loading = shallowRef(false)
  let generation = 0

  async function load(): Promise<void> {
    const mine = ++generation
    const f = dashboardFilter(query.value)
    filter.value = f
    loading.value = true
    const over = timeGroup(f, dayOf(new Date(), timeZone.value))
    const q = (extra: Record<string, string> = {}) => statsQuery(f, extra)
    const parts = {
      byActivity: settle(api.findingStats(q({ group: over, split: 'template' }))),
      bySeverity: settle(api.findingStats(q({ group: over, split: 'severity' }))),
      byDistrict: settle(api.findingStats(q({ group: 'district', split: 'severity' }))),
      bySite: settle(api.findingStats(q({ group: 'site' }))),
      rectification: settle(api.rectificationStats(q({ group: 'district' }))),
      overdue: settle(api.overdueStats(q())),
      repeats: settle(api.repeatStats(q({ days: String(repeatDays) }))),
      sites: settle(api.siteRanking(q({ limit: '20' }))),
      checks: settle(api.checkStats(checksQuery(f, timeZone.value))),
      coverage: settle(api.shiftCoverage(coverageQuery(f))),
      followups: settle(api.followups()),
    }
    const keys = Object.keys(parts) as (keyof DashboardData)[]
    const done = await Promise.all(keys.map((k) => parts[k]))
    if (mine !== generation) return
    data.value = Object.fromEntries(keys.map((k, i) => [k, done[i]])) as unknown as DashboardData
    loading.value = false
  }

  /** Puts a site on the on-site follow-up list, or takes it off. */
  async function follow(site: string, on: boolean, reason: string): Promise<void> {
    if (on) await api.follow(site, reason, statsQuery(filter.value))
    else await api.unfollow(site)
    const [sites, followups] = await Promise.all([settle(api.siteRanking(statsQuery(filter.value, { limit: '20' }))), settle(api.followups())])
    data.value = { ...data.value, sites, followups }
  }

  watch([query, timeZone], () => void load())
  return { filter, data, loading, load, follow }
}
