// The checklist beside the enlarged camera: which camera it is open on
// (useChecklistPlace), and the run on it (useChecklist): the zone's
// templates, marks sent to the backend, the timers of timed steps, the
// findings the backend's order rules propose, and a deviation marked with
// the picker (the proposals' answers are useProposals'). Runs are the
// backend's records (issue 11.2): closed and opened again on the same
// camera, or after a reload or a console restart, the officer goes on with
// the run going on there; it ends only when the officer ends the check.
import { computed, onScopeDispose, reactive, ref, shallowRef, watch } from 'vue'
import type { ApiClient, Finding, FlagRequest, Mark, RunRecord, Template } from '../api'
import type { Say } from '../console/useNotice'
import { useSubmit } from '../console/useSubmit'
import { currentLocale, failedText, i18n, localName } from '../i18n'
import type { Action, Commands, Resolved } from '../keys'
import { debug } from '../player'
import type { WallState } from '../wall/useWall'
import { captureTile } from './capture'
import { flagRequest, type FlagDraft } from './flag'
import { bySpecificity, ChecklistRun, openRunFor, openRuns, openTemplateOn, type OpenRuns } from './run'
import { linkToRun } from './runLink'
import { useProposals, type ProposalSight, type Shot } from './useProposals'

export type { ProposalDetails } from './useProposals'

/** Which camera the checklist is open on, in which tile. */
export interface ChecklistPlace {
  camera: string
  index: number
}

/**
 * The checklist belongs to the enlarged camera: opening it enlarges the
 * tile in use; leaving the focus view, or the tile changing camera, closes it.
 */
export function useChecklistPlace(wall: WallState, opts: { inUse(): number; toggleFocus(i: number): void; say: Say }) {
  const place = shallowRef<ChecklistPlace>()
  /** The template the open run follows, whose deviations the quick flag offers first. */
  const template = ref<string>()

  /** Opens the checklist on the tile in use; false when that tile is empty. */
  function open(): boolean {
    const i = opts.inUse()
    const camera = wall.tiles.value[i]
    if (!camera) {
      opts.say(i18n.global.t('flag.noTile'))
      return false
    }
    if (wall.focused.value !== i) opts.toggleFocus(i)
    place.value = { camera, index: i }
    return true
  }

  function close(): void {
    place.value = undefined
  }

  watch(wall.focused, (now) => {
    if (now === null && place.value) place.value = undefined
  })
  watch(
    () => (place.value ? wall.tiles.value[place.value.index] : undefined),
    (camera) => {
      if (place.value && camera !== place.value.camera) place.value = undefined
    },
  )

  return {
    place,
    template,
    open,
    close,
    /** The open run's template when the checklist is open on this camera. */
    templateOn: (camera: string) => (place.value?.camera === camera ? template.value : undefined),
  }
}

export type ChecklistPlaceState = ReturnType<typeof useChecklistPlace>


export interface ChecklistTarget {
  camera: string
  zone: string
  tileId: string
  /** The site's, where a proposal's deadline is read and typed. */
  timeZone?: string
}

/** file and focus (the picker or a proposal's fields closed) are the proposals' too. */
export interface ChecklistOptions extends ProposalSight {
  /** The run now follows this template. */
  template?(id: string): void
  /** Esc: the panel closes. */
  close(): void
  /** Milliseconds between timer redraws while one runs. */
  tickMs?: number
}

/** The run on the target's camera; `target` may be a component's props, read as they change. */
export function useChecklist(api: ApiClient, target: Readonly<ChecklistTarget>, opts: ChecklistOptions) {
  const runs = openRuns as OpenRuns<Shot>
  const templates = shallowRef<Template[]>([])
  const loading = ref(true)
  const error = ref('')
  const run = shallowRef<ChecklistRun<Shot>>()
  /** Clock for redrawing running timers. */
  const now = ref(Date.now())
  let ticker: ReturnType<typeof setInterval> | undefined

  /** The runs going on at the backend, read once per opening of the panel. */
  let going: RunRecord[] = []

  async function load(): Promise<void> {
    loading.value = true
    error.value = ''
    try {
      // The most specific checklist first: the doffing checklist of a doffing
      // room before the disinfection one that covers every zone.
      const [list, open] = await Promise.all([api.checklists(target.zone), api.openRuns()])
      templates.value = bySpecificity(list)
      going = open
      const last = runs.lastTemplate.get(target.camera) ?? openTemplateOn(going, target.camera)
      const first = templates.value.find((x) => x.id === last) ?? templates.value[0]
      if (first) await use(first)
    } catch (err) {
      error.value = failedText(err)
    } finally {
      loading.value = false
      const keys = held
      held = []
      for (const k of keys) k()
    }
  }

  async function use(tpl: Template): Promise<void> {
    const key = `${target.camera}|${tpl.id}`
    let r = runs.byKey.get(key)
    if (!r) {
      // The run going on here (this page's before a reload, or before the
      // console restarted) before a new one: a check is one run, however
      // often the panel closes.
      const state = openRunFor(going, target.camera, tpl.id) ?? (await api.startRun(tpl.id, target.camera))
      r = reactive(new ChecklistRun<Shot>(state.id, state.template)) as ChecklistRun<Shot>
      if ('findings' in state) r.restore(state as RunRecord)
      else r.observe(state.observations)
      runs.byKey.set(key, r)
    }
    runs.lastTemplate.set(target.camera, tpl.id)
    run.value = r
    opts.template?.(tpl.id)
    publish()
  }

  function publish(): void {
    const d = debug()
    if (d) d.checklist = run.value ? run.value.hook() : null
  }

  function shoot(): Shot {
    return captureTile(target.tileId).catch(() => undefined)
  }

  async function mark(m: Mark): Promise<void> {
    const r = run.value
    const s = r?.current
    if (!r || !s || r.endedAt) return
    const shot = shoot()
    error.value = ''
    if (m === '') s.freeText = undefined
    try {
      r.apply(await api.mark(r.id, s.id, m), shot)
      if (m) r.advance()
    } catch (err) {
      error.value = failedText(err)
    }
    publish()
  }

  async function toggleTimer(): Promise<void> {
    const r = run.value
    const s = r?.current
    if (!r || !s || r.endedAt || s.step.minDurationS === undefined) return
    const shot = shoot()
    error.value = ''
    try {
      if (r.running(s.id)) {
        r.stopTimer(s.id)
        r.apply(await api.timer(r.id, s.id, 'stop'), shot)
      } else {
        r.startTimer(s.id)
        r.apply(await api.timer(r.id, s.id, 'start'))
      }
    } catch (err) {
      error.value = failedText(err)
    }
    publish()
  }

  /** The links being sent; the end waits for them (a link after the end is refused). */
  let linking: Promise<void> = Promise.resolve()

  /**
   * Files a finding the run produced and records it as the run's: the one
   * place both a confirmed proposal and a deviation marked with the picker
   * go through. The finding is saved once filed; the link follows, and if
   * it fails the officer is told.
   */
  async function fileForRun(req: FlagRequest): Promise<Finding> {
    const f = await opts.file(req)
    const r = run.value
    if (r && !r.endedAt) linking = linking.then(() => link(r, f.id))
    return f
  }

  async function link(r: ChecklistRun<Shot>, finding: string): Promise<void> {
    try {
      await linkToRun(api, r, finding)
    } catch (err) {
      error.value = failedText(err)
    }
    publish()
  }

  // ---- the end of the check
  const ending = ref(false)

  /** Ends the check: the run is recorded as done and counts in the relay's statistics. */
  async function end(): Promise<void> {
    const r = run.value
    if (!r || r.endedAt || ending.value) return
    ending.value = true
    error.value = ''
    try {
      await linking
      const rec = await api.endRun(r.id)
      r.restore(rec)
      // Opened again on this camera, the checklist starts a new check.
      for (const [k, v] of runs.byKey) if (v === r) runs.byKey.delete(k)
      going = going.filter((x) => x.id !== r.id)
    } catch (err) {
      error.value = failedText(err)
    } finally {
      ending.value = false
    }
    publish()
  }

  const proposals = useProposals(run, target, { ...opts, file: fileForRun }, publish)
  const { details, confirm, dismiss, seenPending, openDetails, closeDetails, saveDetails } = proposals

  /** t: the zone's next checklist. */
  function nextTemplate(): void {
    const list = templates.value
    if (list.length < 2 || !run.value) return
    const i = list.findIndex((x) => x.id === run.value!.template.id)
    void use(list[(i + 1) % list.length]!).catch((err) => (error.value = failedText(err)))
  }

  // ---- a deviation at a step: the picker, limited to this checklist's catalogue
  const pickSubmit = useSubmit()
  const picker = reactive({ open: false, preview: '', busy: pickSubmit.busy, error: pickSubmit.error })
  let pickShot: Shot | undefined

  function pick(): void {
    if (!run.value?.current) return
    const shot = shoot()
    pickShot = shot
    picker.error = ''
    picker.open = true
    void shot.then((f) => {
      if (f?.jpegBase64 && picker.open) picker.preview = `data:image/jpeg;base64,${f.jpegBase64}`
    })
  }

  function closePicker(): void {
    picker.open = false
    picker.preview = ''
    opts.focus()
  }

  async function saveDeviation(d: FlagDraft): Promise<void> {
    const r = run.value
    const s = r?.current
    if (!r || !s || r.endedAt) return
    await pickSubmit.submit(async () => {
      const frame = await pickShot
      if (!frame) throw new Error(i18n.global.t('flag.noPicture'))
      // A deviation in the officer's words is the run's record too, not only the finding's.
      if (d.entry) r.apply(await api.mark(r.id, s.id, 'deviation', d.entry.deviation.id), pickShot)
      else r.apply(await api.mark(r.id, s.id, 'deviation', '', d.freeText.trim()), pickShot)
      const text = d.entry ? localName(d.entry.deviation.text, currentLocale()) : d.freeText
      await fileForRun(flagRequest({ ...d, step: s.id, template: r.template }, frame, text))
      closePicker()
      r.advance()
    })
    publish()
  }

  const anyRunning = computed(() => run.value?.steps.some((s) => s.timerStartedAt !== undefined) ?? false)
  watch(anyRunning, (on) => {
    clearInterval(ticker)
    ticker = on ? setInterval(() => (now.value = Date.now()), opts.tickMs ?? 250) : undefined
  })

  watch(() => [target.camera, target.zone], load)
  onScopeDispose(() => {
    clearInterval(ticker)
    const d = debug()
    if (d) d.checklist = null
  })

  // Keys pressed while the run is being opened (the panel asks the backend
  // for it as it opens) act on it once it is open, in order: an officer who
  // opens the checklist and marks at once loses none of it (the window's
  // proposal test lost its marks so on a busy machine).
  let held: (() => void)[] = []
  function onceOpen(cmds: Commands): Commands {
    const out: Commands = {}
    for (const [name, f] of Object.entries(cmds) as [Action, (r: Resolved) => void][]) {
      out[name] = (r) => (loading.value ? void held.push(() => f(r)) : f(r))
    }
    return out
  }

  const commands: Commands = {
    ...onceOpen({
      'step.move': (k) => run.value?.move(k.key === 'ArrowDown' ? 1 : -1),
      'step.done': () => void mark('done'),
      'step.notSeen': () => void mark('not_seen'),
      'step.clear': () => void mark(''),
      'step.deviation': pick,
      'step.timer': () => void toggleTimer(),
      'proposal.confirm': () => void confirm(seenPending()),
      'proposal.edit': () => openDetails(seenPending(), true),
      'proposal.dismiss': () => dismiss(seenPending()),
    }),
    'checklist.template': nextTemplate,
    'checklist.end': () => void end(),
    'checklist.close': () => opts.close(),
  }

  return { templates, loading, error, run, now, picker, details, ending, commands, load, mark, toggleTimer, confirm, dismiss, openDetails, closeDetails, saveDetails, nextTemplate, pick, closePicker, saveDeviation, end }
}

export type ChecklistState = ReturnType<typeof useChecklist>
