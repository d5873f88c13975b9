// A proposed finding (run.ts's Proposal) answered by the officer: Enter
// confirms it as is, E opens a note and a deadline in place to confirm it
// with, Delete dismisses it. A key acts only on a proposal wholly on
// screen; one out of sight is brought into view by the key instead, so
// nothing is confirmed unseen.
import { reactive, type ShallowRef } from 'vue'
import type { Finding, FlagRequest } from '../api'
import { currentLocale, failedText, i18n, localName } from '../i18n'
import { catalogue, draftFor, flagRequest, type Frame } from './flag'
import type { ChecklistRun, Proposal } from './run'
import { fromWallInput, toWallInput } from './shift'

/** The picture on screen when a key was pressed; a tile without one gives none. */
export type Shot = Promise<Frame | undefined>

/** What the proposals need of the panel showing them. */
export interface ProposalSight {
  /** Files a finding (useFindings' file). */
  file(r: FlagRequest): Promise<Finding>
  /** The keyboard back to the panel. */
  focus(): void
  /** Whether the proposal is wholly on screen now; without it, every one is. */
  seen?(key: string): boolean
  /** Scrolls the proposal into view. */
  reveal?(key: string): void
  /**
   * Puts the keyboard in the proposal's note once its fields are drawn;
   * `afterKey`: once the key that opened them is released, so that the
   * key's own letter does not land in the note.
   */
  focusDetails?(afterKey: boolean): void
}

/** The fields a proposal is confirmed with when the officer adds to it (e). */
export interface ProposalDetails {
  /** The proposal's key; '' when no fields are open. */
  key: string
  note: string
  /** "YYYY-MM-DD HH:MM", in the site's time. */
  deadline: string
  problem: string
}

/** `target.timeZone`: the site's, where the deadline is read and typed. */
export function useProposals(run: Readonly<ShallowRef<ChecklistRun<Shot> | undefined>>, target: Readonly<{ timeZone?: string }>, opts: ProposalSight, publish: () => void) {
  const entryOf = (r: ChecklistRun<Shot>, p: Proposal<Shot>) => catalogue([r.template]).find((e) => e.deviation.id === p.flag.deviation)

  /** Files a proposed finding with the picture of the mark that raised it; `added`: the officer's note and deadline. */
  async function confirm(p: Proposal<Shot> | undefined, added?: { note: string; deadline: Date }): Promise<boolean> {
    const r = run.value
    if (!r || !p || p.state !== 'proposed') return false
    p.state = 'saving'
    p.error = undefined
    publish()
    try {
      const frame = await p.snapshot
      if (!frame) throw new Error(i18n.global.t('flag.noPicture'))
      const entry = entryOf(r, p)
      const draft = { ...draftFor(entry, new Date()), step: p.flag.step, template: r.template, ...added }
      const text = entry ? localName(entry.deviation.text, currentLocale()) : localName(p.flag.reason, currentLocale())
      if (!entry) draft.freeText = text
      // A rule's proposal without a catalogue entry keeps its words in both
      // languages, so every reader sees it in theirs (issue 10.8).
      const f = await opts.file({ ...flagRequest(draft, frame, text), ...(entry ? {} : { deviationTitle: p.flag.reason }) })
      p.state = 'confirmed'
      p.findingId = f.id
      return true
    } catch (err) {
      p.state = 'proposed'
      p.error = failedText(err)
      return false
    } finally {
      publish()
    }
  }

  /**
   * The pending proposal, if the officer can see it: one wholly on screen.
   * One that is not is brought into view instead, and the key does nothing
   * more: the next press acts on what is now seen.
   */
  function seenPending(): Proposal<Shot> | undefined {
    const p = run.value?.pending
    if (!p) return undefined
    if (opts.seen && !opts.seen(p.key)) {
      opts.reveal?.(p.key)
      return undefined
    }
    return p
  }

  // ---- a proposal confirmed with the officer's note and deadline (e)
  const details = reactive<ProposalDetails>({ key: '', note: '', deadline: '', problem: '' })
  const zone = () => target.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone

  function openDetails(p: Proposal<Shot> | undefined, byKey = false): void {
    const r = run.value
    if (!r || !p || p.state !== 'proposed') return
    Object.assign(details, { key: p.key, note: '', deadline: toWallInput(draftFor(entryOf(r, p), new Date()).deadline, zone()), problem: '' })
    opts.focusDetails?.(byKey)
  }

  function closeDetails(): void {
    details.key = ''
    details.problem = ''
    opts.focus()
  }

  async function saveDetails(): Promise<void> {
    const p = run.value?.proposals.find((x) => x.key === details.key)
    if (!p) return closeDetails()
    const deadline = fromWallInput(details.deadline, zone())
    if (!deadline) {
      details.problem = i18n.global.t('flag.badDeadline')
      return
    }
    if (deadline.getTime() <= Date.now()) {
      details.problem = i18n.global.t('flag.pastDeadline')
      return
    }
    details.problem = ''
    if (await confirm(p, { note: details.note.trim(), deadline })) closeDetails()
  }

  function dismiss(p: Proposal<Shot> | undefined): void {
    if (!p) return
    run.value?.dismiss(p.key)
    publish()
  }

  return { details, confirm, dismiss, seenPending, openDetails, closeDetails, saveDetails }
}
