// The review list (issue 13): the relay's findings under the filter the
// address holds, a page at a time ("more" follows the relay's cursor), the
// one under the keys, and its detail with what a supervisor records on it
// (reviewed, comments, outcomes). Duty staff read; the relay refuses their
// writes, and the view does not offer them.
import { computed, ref, shallowRef, watch, type Ref } from 'vue'
import type { ApiClient } from '../api'
import type { Facets, OutcomeRequest, ReviewDetail, ReviewItem } from '../api/review'
import { failedText } from '../i18n'
import { formatFilter, parseFilter, type ReviewFilter } from './filter'

export const pageSize = 50

export function canWrite(role: string | undefined): boolean {
  return role === 'supervisor' || role === 'admin'
}

export function useReview(api: ApiClient, query: Ref<string>) {
  const filter = computed<ReviewFilter>(() => parseFilter(query.value).filter)
  const dropped = computed(() => parseFilter(query.value).dropped)
  const items = shallowRef<ReviewItem[]>([])
  const total = ref(0)
  const next = ref('')
  const loading = ref(false)
  const error = ref('')
  const selected = ref(0)
  const facets = shallowRef<Facets>()
  const detail = shallowRef<ReviewDetail>()
  const detailError = ref('')
  const busy = ref(false)

  // Answers to an older filter that arrive late are dropped.
  let asked = 0
  async function load(): Promise<void> {
    const mine = ++asked
    loading.value = true
    error.value = ''
    try {
      const page = await api.reviewFindings(formatFilter(filter.value), '', pageSize)
      if (mine !== asked) return
      items.value = page.items
      total.value = page.total
      next.value = page.next
      selected.value = 0
    } catch (err) {
      if (mine !== asked) return
      items.value = []
      total.value = 0
      next.value = ''
      error.value = failedText(err)
    } finally {
      if (mine === asked) loading.value = false
    }
  }

  async function more(): Promise<void> {
    if (!next.value || loading.value) return
    const mine = asked
    loading.value = true
    try {
      const page = await api.reviewFindings(formatFilter(filter.value), next.value, pageSize)
      if (mine !== asked) return
      items.value = [...items.value, ...page.items]
      total.value = page.total
      next.value = page.next
    } catch (err) {
      if (mine === asked) error.value = failedText(err)
    } finally {
      if (mine === asked) loading.value = false
    }
  }

  async function loadFacets(): Promise<void> {
    try {
      facets.value = await api.reviewFacets()
    } catch {
      // The filter bar offers what the address holds; the list says what failed.
    }
  }

  function move(by: number): void {
    if (!items.value.length) return
    selected.value = Math.min(items.value.length - 1, Math.max(0, selected.value + by))
  }

  async function open(i = selected.value): Promise<void> {
    const item = items.value[i]
    if (!item) return
    selected.value = i
    detailError.value = ''
    // The row's own fields show at once; the whole record follows.
    detail.value = { ...item, comments: [] }
    try {
      const d = await api.reviewFinding(item.finding.id)
      if (detail.value?.finding.id === d.finding.id) detail.value = d
    } catch (err) {
      detailError.value = failedText(err)
    }
  }

  function close(): void {
    detail.value = undefined
    detailError.value = ''
  }

  /** The list's row follows what was recorded in the detail. */
  function took(d: ReviewDetail): void {
    if (detail.value?.finding.id === d.finding.id) detail.value = d
    items.value = items.value.map((x) => (x.finding.id === d.finding.id ? { ...x, review: d.review, outcomes: d.outcomes } : x))
  }

  async function act(id: string, call: () => Promise<ReviewDetail>): Promise<boolean> {
    busy.value = true
    detailError.value = ''
    try {
      took(await call())
      return true
    } catch (err) {
      if (detail.value?.finding.id === id) detailError.value = failedText(err)
      return false
    } finally {
      busy.value = false
    }
  }

  /** Marks the finding reviewed, or takes the mark back. */
  function toggleReviewed(id: string, reviewed: boolean): Promise<boolean> {
    return act(id, () => api.setReviewed(id, reviewed))
  }
  function comment(id: string, text: string): Promise<boolean> {
    return act(id, () => api.commentFinding(id, text))
  }
  function recordOutcome(id: string, o: OutcomeRequest): Promise<boolean> {
    return act(id, () => api.recordOutcome(id, o))
  }

  watch(query, () => void load())

  return {
    filter,
    dropped,
    items,
    total,
    next,
    loading,
    error,
    selected,
    facets,
    detail,
    detailError,
    busy,
    load,
    more,
    loadFacets,
    move,
    open,
    close,
    toggleReviewed,
    comment,
    recordOutcome,
  }
}

export type ReviewState = ReturnType<typeof useReview>
