// One finding open in its dialog: the edits allowed while the site does
// not have it yet, withdrawal with a reason, the re-check (回头看) of a
// finding the site reported rectified (verify, or reopen with a new
// deadline), sending again what the relay refused, and the clip looked for
// until it is cut. Nothing is deleted.
import { computed, nextTick, onScopeDispose, ref, shallowRef, watch, type ComputedRef, type Ref } from 'vue'
import { severities, type ApiClient, type Finding, type Severity } from '../api'
import { useSubmit } from '../console/useSubmit'
import { i18n, siteTime } from '../i18n'
import { elementOf, resolve, type Commands, type KeyEventLike } from '../keys'
import { checkReopen, findingActions, reopenDeadline } from './recheck'
import { captureCamera } from './recheckShot'
import { fromWallInput, toWallInput } from './shift'

/** The dialog's fields the keyboard is sent to. */
export type DetailField = 'reason' | 'recheckNote' | 'recheckDeadline' | 'dialog'

export interface FindingDetailTarget {
  finding: Finding
  /** The site's, where deadlines are read and typed. */
  timeZone: string
}

export interface FindingDetailOptions {
  /** The backend answered with the finding as it is now. */
  changed(f: Finding): void
  /** o: its camera, to re-check on video. */
  camera(camera: string): void
  /** Esc with no form open. */
  close(): void
  /** Puts the keyboard in a field; `select`: its text selected, to type over. */
  focus(field: DetailField, select?: boolean): void
  /** How often a clip still recording is looked for. */
  clipPollMs?: number
}

/**
 * The finding whose camera the officer opened for its re-check (o), until
 * the bar over that camera goes (FindingRecheckBar clears it).
 */
export const recheckAsked = shallowRef<string>()

/**
 * The finding the re-check bar is for: the one asked for with o while its
 * camera is the one enlarged and nothing is open over the wall.
 */
export function recheckBarOf(detail: Ref<Finding | undefined>, enlarged: () => string | undefined): ComputedRef<Finding | undefined> {
  return computed(() => {
    const f = detail.value
    return f && recheckAsked.value === f.id && enlarged() === f.camera ? f : undefined
  })
}

/** `target` may be the component's props, read as they change. */
export function useFindingDetail(api: ApiClient, target: Readonly<FindingDetailTarget>, opts: FindingDetailOptions) {
  const { t } = i18n.global
  const f = () => target.finding
  const edit = ref({
    note: f().note,
    severity: ((severities as readonly string[]).includes(f().severity) ? f().severity : 'major') as Severity,
    deadline: f().deadline ? toWallInput(f().deadline!, target.timeZone) : '',
  })
  const reason = ref('')
  // A failed request's words are the dialog's problem, as are the form's own.
  const { busy, error: problem, submit: send } = useSubmit()
  const message = ref('')
  const now = ref(new Date())

  // The re-check: a form for the verification's note, or the reopening's
  // note and new deadline; `field` is the one found wrong.
  const recheck = ref<'' | 'verify' | 'reopen'>('')
  const recheckForm = ref({ note: '', deadline: '', field: '' as '' | 'note' | 'deadline' })

  // What can be done now, from the finding's state: the fields, buttons
  // and keys offered all follow this, and nothing else decides.
  const actions = computed(() => findingActions(f()))
  const withdrawn = computed(() => f().status === 'withdrawn')
  const rectified = computed(() => actions.value.verify)
  const failing = computed(() => f().forward?.state === 'failing')
  const editable = computed(() => actions.value.edit)
  const recording = computed(() => f().clip?.state === 'recording')

  function said(): void {
    problem.value = ''
    message.value = ''
  }

  async function save(): Promise<void> {
    said()
    if (!actions.value.edit) return
    const e = edit.value
    const d = fromWallInput(e.deadline, target.timeZone)
    if (!d) {
      problem.value = t('flag.badDeadline')
      return
    }
    await send(
      async () => {
        const changes: { note?: string; severity?: Severity; deadline?: Date } = {}
        if (e.note !== f().note) changes.note = e.note.trim()
        if (e.severity !== f().severity) changes.severity = e.severity
        if (!f().deadline || toWallInput(f().deadline!, target.timeZone) !== e.deadline) changes.deadline = d
        opts.changed(await api.editFinding(f().id, changes))
        message.value = t('findings.edited')
      },
      { forwarded: 'findings.forwarded' },
    )
  }

  async function withdraw(): Promise<void> {
    said()
    if (!actions.value.withdraw) return
    const why = reason.value.trim()
    if (!why) {
      problem.value = t('findings.withdrawNeedReason')
      opts.focus('reason')
      return
    }
    await send(async () => {
      opts.changed(await api.withdrawFinding(f().id, why))
      message.value = t('findings.withdrawn', { reason: why })
    })
  }

  // A form opened by its key takes the keyboard once the key is released:
  // focused at keydown, the key's own character could still land in the note.
  let focusOnKeyUp = false

  function startRecheck(kind: 'verify' | 'reopen', byKey = false): void {
    said()
    if (!rectified.value) {
      problem.value = t('recheck.notRectified')
      return
    }
    recheck.value = kind
    recheckForm.value = {
      note: kind === 'verify' ? t('recheck.verifyDefault') : '',
      deadline: kind === 'reopen' ? toWallInput(reopenDeadline(f().severity, new Date()), target.timeZone) : '',
      field: '',
    }
    if (byKey) focusOnKeyUp = true
    else void nextTick(() => opts.focus('recheckNote', true))
  }

  function keyup(): void {
    if (!focusOnKeyUp) return
    focusOnKeyUp = false
    void nextTick(() => opts.focus('recheckNote', true))
  }

  function stopRecheck(): void {
    recheck.value = ''
    problem.value = ''
    void nextTick(() => opts.focus('dialog'))
  }

  function refuse(text: string, field: 'note' | 'deadline'): void {
    problem.value = text
    recheckForm.value.field = field
    opts.focus(field === 'note' ? 'recheckNote' : 'recheckDeadline')
  }

  async function submitRecheck(): Promise<void> {
    said()
    const kind = recheck.value
    if (!kind) return
    const form = recheckForm.value
    let request: { note: string; deadline?: Date }
    if (kind === 'reopen') {
      const checked = checkReopen(form, target.timeZone, new Date())
      if ('problem' in checked) return refuse(t(`recheck.${checked.problem}`), checked.field)
      request = checked
    } else {
      if (!form.note.trim()) return refuse(t('recheck.needNote'), 'note')
      request = { note: form.note.trim() }
    }
    await send(
      async () => {
        const id = f().id
        // The frame of the finding's camera on screen, kept as the re-check's evidence.
        const shot = await captureCamera(f().camera)
        const answer = request.deadline ? await api.reopenFinding(id, request.note, request.deadline, shot) : await api.verifyFinding(id, request.note, shot)
        opts.changed(answer)
        message.value = answer.status === 'reopened' && answer.deadline ? t('recheck.reopened', { time: siteTime(answer.deadline, target.timeZone) }) : t('recheck.verified')
        recheck.value = ''
        void nextTick(() => opts.focus('dialog'))
      },
      { bad_transition: 'recheck.notRectified' },
    )
  }

  async function retry(): Promise<void> {
    said()
    await send(
      async () => {
        opts.changed(await api.retryFinding(f().id))
        message.value = t('recheck.retried')
      },
      { nothing_failing: 'recheck.nothingFailing' },
    )
  }

  /** o: the finding's camera enlarged; a rectified one's re-check goes on over it. */
  function openCamera(): void {
    if (actions.value.verify) recheckAsked.value = f().id
    opts.camera(f().camera)
  }

  const commands: Commands = {
    'finding.verify': () => startRecheck('verify', true),
    'finding.reopen': () => startRecheck('reopen', true),
    'finding.camera': openCamera,
    'finding.retry': () => {
      if (actions.value.retry) void retry()
      else message.value = failing.value ? t('recheck.retryingByItself') : t('recheck.nothingFailing')
    },
  }

  /** The dialog is modal: no key goes past it. Esc closes the re-check form, then the finding. */
  function keydown(e: KeyEventLike): void {
    e.stopPropagation()
    if (e.key === 'Escape') {
      e.preventDefault()
      if (recheck.value) stopRecheck()
      else opts.close()
      return
    }
    // Letters typed into a field are words, not commands.
    if (elementOf(e.target)?.closest('input, textarea, select') || busy.value) return
    const r = resolve('finding', e)
    const command = r && commands[r.action]
    if (!command) return
    e.preventDefault()
    command(r)
  }

  /**
   * A key pressed on the wall while the finding's camera is enlarged for
   * its re-check (the bar over it): v and x start the verification or the
   * reopening right there, without going back to the finding; every other
   * key stays the wall's. True when the key was taken.
   */
  function wallKey(e: KeyEventLike): boolean {
    if (e.defaultPrevented || recheck.value || busy.value || !actions.value.verify) return false
    if (elementOf(e.target)?.closest('input, textarea, select')) return false
    const r = resolve('finding', e)
    if (r?.action !== 'finding.verify' && r?.action !== 'finding.reopen') return false
    e.preventDefault()
    e.stopPropagation()
    startRecheck(r.action === 'finding.verify' ? 'verify' : 'reopen', true)
    return true
  }

  // The clip is cut some seconds after the flag: look again until it is there.
  let clipPoll: ReturnType<typeof setInterval> | undefined
  watch(
    recording,
    (on) => {
      clearInterval(clipPoll)
      clipPoll = on
        ? setInterval(async () => {
            try {
              opts.changed(await api.finding(f().id))
            } catch {
              // Try again at the next tick.
            }
          }, opts.clipPollMs ?? 2000)
        : undefined
    },
    { immediate: true },
  )
  // The site answered while the dialog is open: a re-check form for a
  // finding no longer rectified has nothing left to do.
  watch(rectified, (on) => {
    if (!on && recheck.value) recheck.value = ''
  })
  const ticker = setInterval(() => (now.value = new Date()), 30_000)
  onScopeDispose(() => {
    clearInterval(clipPoll)
    clearInterval(ticker)
  })

  return { edit, reason, busy, message, problem, now, recheck, recheckForm, actions, withdrawn, rectified, failing, editable, recording, save, withdraw, startRecheck, stopRecheck, submitRecheck, retry, openCamera, keydown, keyup, wallKey }
}

export type FindingDetailState = ReturnType<typeof useFindingDetail>
