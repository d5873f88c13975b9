import { afterEach, describe, expect, it } from 'vitest'
import { effectScope, nextTick, reactive, ref, type EffectScope } from 'vue'
import type { Finding } from '../api'
import { parseFinding } from '../api/findings'
import { loopbackForTests } from '../api/loopback'
import { i18n } from '../i18n'
import { resolve } from '../keys'
import { findingWire } from './fixtures'
import { findingActions } from './recheck'
import { toWallInput } from './shift'
import { recheckAsked, recheckBarOf, useFindingDetail, type DetailField } from './useFindingDetail'

// One finding's dialog against a real HTTP server standing in for the backend.
const tz = 'Asia/Shanghai'
const backend = loopbackForTests('s3cret')
i18n.global.locale.value = 'en'
// The dialog's clocks stop with it.
const scopes: EffectScope[] = []
afterEach(() => scopes.splice(0).forEach((s) => s.stop()))

const finding = (over: Record<string, unknown> = {}) => parseFinding(findingWire(over), 'fixture')

function open(f: Finding) {
  const api = backend.client()
  const target = reactive({ finding: f, timeZone: tz })
  const changed: Finding[] = []
  const focused: string[] = []
  let closed = 0
  const scope = effectScope()
  scopes.push(scope)
  const detail = scope.run(() =>
    useFindingDetail(api, target, {
      changed: (x) => changed.push(x),
      camera: () => {},
      close: () => closed++,
      focus: (field: DetailField, select?: boolean) => focused.push(select ? `${field}+select` : field),
    }),
  )!
  const key = (k: string) => detail.keydown({ key: k, target: null, defaultPrevented: false, preventDefault() {}, stopPropagation() {} })
  return { detail, target, changed, focused, key, closed: () => closed }
}

const rectified = () => finding({ status: 'rectified', status_note: 'gloves replaced' })

describe('useFindingDetail', () => {
  it('verifies by key: the note offered selected, then sent', async () => {
    const d = open(rectified())
    d.key('v')
    expect(d.detail.recheck.value).toBe('verify')
    expect(d.detail.recheckForm.value.note).toBe(i18n.global.t('recheck.verifyDefault'))
    // The keyboard goes to the note once the key is released, not before.
    expect(d.focused).toEqual([])
    d.detail.keyup()
    await nextTick()
    expect(d.focused).toEqual(['recheckNote+select'])

    backend.route = () => ({ status: 200, body: findingWire({ status: 'verified' }) })
    await d.detail.submitRecheck()
    expect(backend.seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([`POST /api/v1/findings/f1/verify {"note":"${i18n.global.t('recheck.verifyDefault')}"}`])
    expect(d.changed.map((x) => x.status)).toEqual(['verified'])
    expect(d.detail.message.value).toBe(i18n.global.t('recheck.verified'))
    expect(d.detail.recheck.value).toBe('')
  })

  it.each([
    { note: '', deadline: '2099-01-01T08:00', problem: 'needNote', field: 'note', focus: 'recheckNote' },
    { note: 'still torn', deadline: 'soon', problem: 'badDeadline', field: 'deadline', focus: 'recheckDeadline' },
    { note: 'still torn', deadline: '2020-01-01T08:00', problem: 'pastDeadline', field: 'deadline', focus: 'recheckDeadline' },
  ])('checks a reopening before sending it: $problem', async ({ note, deadline, problem, field, focus }) => {
    const d = open(rectified())
    d.detail.startRecheck('reopen', true)
    d.detail.recheckForm.value.note = note
    d.detail.recheckForm.value.deadline = deadline
    await d.detail.submitRecheck()
    expect(d.detail.problem.value).toBe(i18n.global.t(`recheck.${problem}`))
    expect(d.detail.recheckForm.value.field).toBe(field)
    expect(d.focused).toEqual([focus])
    expect(backend.seen).toEqual([])
  })

  it('offers a reopening a deadline by severity, in site time', () => {
    const d = open(rectified())
    const before = Date.now()
    d.detail.startRecheck('reopen', true)
    // Critical: 24 h.
    const offered = d.detail.recheckForm.value.deadline
    expect([toWallInput(new Date(before + 24 * 3600_000), tz), toWallInput(new Date(Date.now() + 24 * 3600_000), tz)]).toContain(offered)
  })

  it('re-checks only a rectified finding', () => {
    const d = open(finding())
    d.key('x')
    expect(d.detail.recheck.value).toBe('')
    expect(d.detail.problem.value).toBe(i18n.global.t('recheck.notRectified'))
  })

  it('closes the form when the site answers meanwhile', async () => {
    const d = open(rectified())
    d.detail.startRecheck('verify', true)
    d.target.finding = finding({ status: 'reopened' })
    await nextTick()
    expect(d.detail.recheck.value).toBe('')
  })

  it('walks back with Esc: the form, then the finding', () => {
    const d = open(rectified())
    d.key('v')
    d.key('Escape')
    expect(d.detail.recheck.value).toBe('')
    expect(d.closed()).toBe(0)
    d.key('Escape')
    expect(d.closed()).toBe(1)
  })

  it.each([
    // The console had not heard yet that the site has it.
    { what: 'an edit the site has', f: () => finding(), run: (d: ReturnType<typeof open>) => d.detail.save(), code: 'forwarded', says: 'findings.forwarded' },
    { what: 'a retry with nothing failing', f: rectified, run: (d: ReturnType<typeof open>) => d.detail.retry(), code: 'nothing_failing', says: 'recheck.nothingFailing' },
    { what: 'a verification of a closed finding', f: rectified, run: (d: ReturnType<typeof open>) => (d.detail.startRecheck('verify'), d.detail.submitRecheck()), code: 'bad_transition', says: 'recheck.notRectified' },
  ])('says a refusal in its own words: $what', async ({ f, run, code, says }) => {
    const d = open(f())
    backend.route = () => ({ status: 409, body: { error: { code, message: 'refused' } } })
    await run(d)
    expect(d.detail.problem.value).toBe(i18n.global.t(says))
    expect(d.detail.busy.value).toBe(false)
  })

  it('needs a reason to withdraw', async () => {
    const d = open(finding())
    await d.detail.withdraw()
    expect(d.detail.problem.value).toBe(i18n.global.t('findings.withdrawNeedReason'))
    expect(d.focused).toEqual(['reason'])
    d.detail.reason.value = ' duplicate '
    backend.route = () => ({ status: 200, body: findingWire({ status: 'withdrawn' }) })
    await d.detail.withdraw()
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ reason: 'duplicate' })
    expect(d.detail.message.value).toBe(i18n.global.t('findings.withdrawn', { reason: 'duplicate' }))
  })

  it('sends only what was changed', async () => {
    const d = open(finding())
    d.detail.edit.value.note = 'seen twice'
    backend.route = () => ({ status: 200, body: findingWire({ note: 'seen twice' }) })
    await d.detail.save()
    expect(JSON.parse(backend.seen[0]!.body)).toEqual({ note: 'seen twice' })
    expect(d.detail.message.value).toBe(i18n.global.t('findings.edited'))
  })

  it.each([
    { what: 'open, the site not told yet', over: {}, want: { edit: true, editRefused: false, withdraw: true, verify: false, reopen: false, retry: false } },
    { what: 'open, the site has it', over: { forward: { state: 'forwarded' } }, want: { edit: false, editRefused: true, withdraw: true, verify: false, reopen: false, retry: false } },
    { what: 'acknowledged', over: { status: 'acknowledged', forward: { state: 'forwarded' } }, want: { edit: false, editRefused: false, withdraw: true, verify: false, reopen: false, retry: false } },
    { what: 'rectified', over: { status: 'rectified', forward: { state: 'forwarded' } }, want: { edit: false, editRefused: false, withdraw: true, verify: true, reopen: true, retry: false } },
    { what: 'reopened', over: { status: 'reopened', forward: { state: 'local' } }, want: { edit: false, editRefused: false, withdraw: true, verify: false, reopen: false, retry: false } },
    // Its verification not yet at the relay: local again, and still closed.
    { what: 'verified, the verification still local', over: { status: 'verified', forward: { state: 'local' } }, want: { edit: false, editRefused: false, withdraw: false, verify: false, reopen: false, retry: false } },
    { what: 'withdrawn', over: { status: 'withdrawn' }, want: { edit: false, editRefused: false, withdraw: false, verify: false, reopen: false, retry: false } },
    { what: 'a change the relay refused', over: { forward: { state: 'failing', error: 'refused' } }, want: { edit: true, editRefused: false, withdraw: true, verify: false, reopen: false, retry: true } },
    { what: 'a change waiting for the relay to come back', over: { forward: { state: 'failing', error: 'down', retrying: true } }, want: { edit: true, editRefused: false, withdraw: true, verify: false, reopen: false, retry: false } },
  ])('offers only what the state allows: $what', ({ over, want }) => {
    expect(findingActions(finding(over))).toEqual(want)
    expect(open(finding(over)).detail.actions.value).toEqual(want)
  })

  it.each([
    { what: 'verified', status: 'verified' },
    { what: 'acknowledged', status: 'acknowledged' },
  ])('sends no edit or withdrawal of a finding $what', async ({ status }) => {
    const d = open(finding({ status, forward: { state: 'local' } }))
    d.detail.edit.value.note = 'changed'
    d.detail.reason.value = 'duplicate'
    backend.route = () => ({ status: 200, body: findingWire({ status }) })
    await d.detail.save()
    if (status === 'verified') await d.detail.withdraw()
    expect(backend.seen).toEqual([])
  })

  it('takes v and x from the wall over the camera opened for the re-check, and leaves the wall its other keys', async () => {
    const d = open(rectified())
    const wallKey = (key: string) => {
      let stopped = false
      const taken = d.detail.wallKey({ key, target: null, defaultPrevented: false, preventDefault() {}, stopPropagation: () => (stopped = true) })
      return { taken, stopped }
    }
    for (const key of ['o', 'r', '1', 'Enter', 'Escape', 'ArrowLeft']) expect(wallKey(key), key).toEqual({ taken: false, stopped: false })
    expect(wallKey('x')).toEqual({ taken: true, stopped: true })
    expect(d.detail.recheck.value).toBe('reopen')
    // The form open, its own keys are its own: a second x is not a command.
    expect(wallKey('v').taken).toBe(false)
    expect(d.detail.recheck.value).toBe('reopen')
    d.detail.stopRecheck()
    expect(wallKey('v').taken).toBe(true)
    d.detail.keyup()
    await nextTick()
    expect(d.focused).toContain('recheckNote+select')
    // Verified: nothing to take; x is the wall's again.
    const closed = open(finding({ status: 'verified' }))
    expect(closed.detail.wallKey({ key: 'x', target: null, defaultPrevented: false, preventDefault() {}, stopPropagation() {} })).toBe(false)
  })

  it('puts the re-check bar over the camera o opened for a rectified finding, while that camera is enlarged', () => {
    recheckAsked.value = undefined
    const d = open(rectified())
    const detail = ref<Finding | undefined>(d.target.finding)
    const enlarged = ref<string | undefined>()
    const bar = recheckBarOf(detail, () => enlarged.value)
    // Enlarged by hand, without o: no bar.
    enlarged.value = d.target.finding.camera
    expect(bar.value).toBeUndefined()
    d.key('o')
    expect(recheckAsked.value).toBe(d.target.finding.id)
    expect(bar.value?.id).toBe(d.target.finding.id)
    enlarged.value = 'site-01/other'
    expect(bar.value).toBeUndefined()
    // A finding not awaiting re-check opens its camera without a bar.
    recheckAsked.value = undefined
    open(finding({ status: 'acknowledged' })).key('o')
    expect(recheckAsked.value).toBeUndefined()
  })

  it('takes a command key only outside the fields and while idle', () => {
    const d = open(rectified())
    expect(resolve('finding', { key: 'v' })?.action).toBe('finding.verify')
    d.detail.busy.value = true
    d.key('v')
    expect(d.detail.recheck.value).toBe('')
  })
})
