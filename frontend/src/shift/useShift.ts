// The duty room's shift on this console (issue 11.3): the header's shift,
// who is on duty and the time left; the outgoing officer's handover (the
// relay's suggested checklist, ticks, a note); and the incoming officer's
// handover screen, shown first until they confirm receipt. The relay is
// the record: a handover the relay did not take (unreachable: 503) is not
// queued but kept here, note and id, so the officer sees it is not done
// and sending again with the same id cannot hand over twice.
import { computed, onScopeDispose, ref, shallowRef, type Ref } from 'vue'
import { ApiError, type ApiClient } from '../api'
import type { ChecklistItem, HandoverDraft, HandoverView, ShiftNow } from '../api/shifts'

export type ShiftApi = Pick<ApiClient, 'shift' | 'handoverDraft' | 'handOver' | 'currentHandover' | 'confirmHandover'>

export interface ShiftOptions {
  /** The signed-in officer's name. */
  user: string
  /** Where the unsent note is kept across a reload (localStorage). */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>
  /** How often the shift is asked again (60 s). */
  refreshMs?: number
  /** How often the time left is counted down (15 s: the minute shown is never late by more). */
  tickMs?: number
  now?: () => number
}

/** A handover being written: kept until the relay has it. */
interface Unsent {
  id: string
  note: string
  ticks: Record<string, boolean>
}

const unsentKey = (user: string) => `qly.handover.unsent.${user}`

export function useShift(api: ShiftApi, opts: ShiftOptions) {
  const now = opts.now ?? Date.now
  const storage = opts.storage ?? globalThis.localStorage
  const shift = shallowRef<ShiftNow>()
  let fetchedAt = 0
  const tick = ref(now())

  /** Seconds left in the shift, counted down from the relay's answer. */
  const leftSeconds = computed(() => {
    const s = shift.value
    if (!s) return undefined
    return Math.max(0, s.left_seconds - Math.floor((tick.value - fetchedAt) / 1000))
  })
  /** Who else is on duty. */
  const colleagues = computed(() => (shift.value?.on_duty ?? []).map((d) => d.user).filter((u) => u !== opts.user))

  async function loadShift(): Promise<void> {
    try {
      const s = await api.shift()
      fetchedAt = now()
      tick.value = fetchedAt
      shift.value = s
    } catch {
      // The header keeps the last answer; the next minute asks again.
    }
  }

  // --- the incoming officer's screen
  const view = shallowRef<HandoverView>()
  const screenOpen = ref(false)
  /** Put off with "later": a banner stays until confirmed. */
  const deferred = ref(false)
  const confirming = ref(false)
  const screenError = shallowRef<ApiError>()

  /** The handovers shown that this officer has not confirmed, their own not counted. */
  const pending = computed(() => (view.value?.handovers ?? []).filter((h) => h.by !== opts.user && !h.receipts.some((r) => r.by === opts.user)))

  // A handover is for this officer when it closed the shift under way or
  // the one just before it; an older unconfirmed one is no longer news.
  function recent(v: HandoverView, s: ShiftNow | undefined): boolean {
    if (!v.shift) return false
    if (!s) return true
    return Date.parse(v.shift.end) >= Date.parse(s.shift.start)
  }

  async function loadHandover(): Promise<void> {
    try {
      const v = await api.currentHandover()
      view.value = v
      screenError.value = undefined
      const due = !v.received && recent(v, shift.value) && pending.value.length > 0
      if (due && !deferred.value) screenOpen.value = true
      if (!due) {
        screenOpen.value = false
        deferred.value = false
      }
    } catch (err) {
      screenError.value = asApiError(err)
    }
  }

  /** Records receipt of every pending handover, then shows the wall. */
  async function confirm(): Promise<boolean> {
    if (confirming.value) return false
    confirming.value = true
    try {
      for (const h of pending.value) await api.confirmHandover(h.id)
      screenOpen.value = false
      deferred.value = false
      screenError.value = undefined
      await Promise.all([loadHandover(), loadShift()])
      return true
    } catch (err) {
      screenError.value = asApiError(err)
      return false
    } finally {
      confirming.value = false
    }
  }

  function later(): void {
    screenOpen.value = false
    deferred.value = true
  }

  function reopenScreen(): void {
    screenOpen.value = true
  }

  // --- the outgoing officer's handover
  const dialogOpen = ref(false)
  const draft = shallowRef<HandoverDraft>()
  const note = ref('')
  const ticks = ref<Record<string, boolean>>({})
  const sending = ref(false)
  const sendError = shallowRef<ApiError>()
  const handedOver = ref(false)
  let unsentId = ''

  function readUnsent(): Unsent | undefined {
    try {
      const raw = storage?.getItem(unsentKey(opts.user))
      return raw ? (JSON.parse(raw) as Unsent) : undefined
    } catch {
      return undefined
    }
  }

  function keep(): void {
    try {
      storage?.setItem(unsentKey(opts.user), JSON.stringify({ id: unsentId, note: note.value, ticks: ticks.value } satisfies Unsent))
    } catch {
      // A full or absent storage: the note is still in the dialog.
    }
  }

  async function openDialog(): Promise<void> {
    const u = readUnsent()
    unsentId = u?.id || newId()
    note.value = u?.note ?? note.value
    ticks.value = u?.ticks ?? ticks.value
    sendError.value = undefined
    dialogOpen.value = true
    try {
      draft.value = await api.handoverDraft()
    } catch (err) {
      sendError.value = asApiError(err)
    }
  }

  function closeDialog(): void {
    keep()
    dialogOpen.value = false
  }

  function toggle(item: ChecklistItem): void {
    ticks.value = { ...ticks.value, [item.key]: !ticks.value[item.key] }
    keep()
  }

  /** Hands over; true once the relay has it (the duty ended). */
  async function submit(): Promise<boolean> {
    if (sending.value) return false
    sending.value = true
    sendError.value = undefined
    keep()
    try {
      const items = draft.value?.checklist ?? []
      await api.handOver({ id: unsentId, note: note.value, checklist: items.map((i) => ({ key: i.key, checked: !!ticks.value[i.key] })) })
      storage?.removeItem(unsentKey(opts.user))
      note.value = ''
      ticks.value = {}
      dialogOpen.value = false
      handedOver.value = true
      await loadShift()
      return true
    } catch (err) {
      sendError.value = asApiError(err)
      return false
    } finally {
      sending.value = false
    }
  }

  /** Starts the header's minute and asks the relay what it needs first. */
  function start(): Promise<void> {
    stop()
    timer = setInterval(() => {
      tick.value = now()
      if (now() - fetchedAt >= (opts.refreshMs ?? 60_000)) void loadShift()
    }, opts.tickMs ?? 15_000)
    return loadShift().then(loadHandover)
  }
  let timer: ReturnType<typeof setInterval> | undefined
  function stop(): void {
    clearInterval(timer)
  }
  onScopeDispose(stop)

  return {
    shift,
    leftSeconds,
    colleagues,
    view,
    pending,
    screenOpen,
    deferred,
    confirming,
    screenError,
    dialogOpen,
    draft,
    note: note as Ref<string>,
    ticks,
    sending,
    sendError,
    handedOver,
    start,
    stop,
    loadShift,
    loadHandover,
    confirm,
    later,
    reopenScreen,
    openDialog,
    closeDialog,
    toggle,
    submit,
    keep,
  }
}

export type ShiftState = ReturnType<typeof useShift>

function asApiError(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError(0, 'internal', err instanceof Error ? err.message : String(err))
}

function newId(): string {
  return `handover-${globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`}`
}

/** Seconds as hours and minutes, for the words "{h} h {m} min". */
export function hoursMinutes(seconds: number): { h: number; m: number } {
  const min = Math.floor(Math.max(0, seconds) / 60)
  return { h: Math.floor(min / 60), m: min % 60 }
}
