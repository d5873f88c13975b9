import { describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { loopbackForTests, type Answer, type Seen } from '../api/loopback'
import { i18n } from '../i18n'
import { filledWall } from '../wall/layout'
import { useWall } from '../wall/useWall'
import { disinfectionWire, doffingWire } from './fixtures'
import type { Finding, FlagRequest } from '../api'
import type { Frame } from './flag'
import { parseRun } from '../api/findings'
import { parseRunRecord } from '../api/runs'
import { ChecklistRun } from './run'
import { useChecklist, useChecklistPlace } from './useChecklist'
import type { Resolved } from '../keys'
import { until } from '../testing/eventually'

const flushPromises = () => new Promise((r) => setTimeout(r, 0))

// The checklist's run against a real HTTP server standing in for the
// backend. Runs outlive the panel, so each test uses its own camera.
const backend = loopbackForTests('s3cret')
i18n.global.locale.value = 'en'

let runs = 0
/** The runs going on as GET /api/v1/runs?open=1 answers them (the recorded shape). */
let going: object[] = []
/** A run as the backend keeps it (docs/PROTOCOLS.md, issue 11.2). */
const runRecord = (id: string, camera: string, template: object, more: object = {}) => ({ id, camera, template, observations: [], officer: 'duty1', started_at: '2026-12-02T01:00:00Z', findings: [], ...more })

/** The backend's checklist API: the zone's two templates, runs, marks that raise `flags`. */
function checklistAPI(flags: { step: string; deviation: string }[] = []) {
  return (s: Seen): Answer => {
    if (s.url.startsWith('/api/v1/checklists')) return { status: 200, body: { templates: [disinfectionWire, doffingWire] } }
    if (s.url === '/api/v1/runs?open=1') return { status: 200, body: { runs: going } }
    const id = /^\/api\/v1\/runs\/([^/]+)\//.exec(s.url)?.[1] ?? ''
    if (s.url.endsWith('/end')) return { status: 200, body: runRecord(id, 's/cam', doffingWire, { ended_at: '2026-12-02T01:30:00Z', observations: [{ step: 'hh-gloves', mark: 'done', at: '2026-12-02T01:10:00Z' }] }) }
    if (s.url.endsWith('/findings')) {
      const { finding_id } = JSON.parse(s.body) as { finding_id: string }
      return { status: 200, body: runRecord(id, 's/cam', doffingWire, { findings: [finding_id] }) }
    }
    if (s.url === '/api/v1/runs') {
      const { template_id } = JSON.parse(s.body) as { template_id: string }
      return { status: 201, body: { id: `run-${++runs}`, template: template_id === doffingWire.id ? doffingWire : disinfectionWire, observations: [] } }
    }
    if (s.url.endsWith('/marks')) {
      const { step, mark, deviation_text } = JSON.parse(s.body) as { step: string; mark: string; deviation_text?: string }
      return { status: 200, body: { observations: mark ? [{ step, mark, deviation_text }] : [], flags: flags.map((f) => ({ ...f, reason: { 'zh-CN': '顺序', en: 'Out of order' } })) } }
    }
    return { status: 404, body: '' }
  }
}

/** What the panel's screen says: which proposals are wholly on it, and which were scrolled into view. */
function screen() {
  return { onScreen: new Set<string>(), revealed: [] as string[], filed: [] as FlagRequest[], noteFocused: [] as boolean[] }
}

function open(camera: string, view = screen()) {
  const api = backend.client()
  const templates: string[] = []
  const scope = effectScope()
  const checklist = scope.run(() =>
    useChecklist(api, { camera, zone: 'doffing_room_1', tileId: 'tile-1', timeZone: 'Asia/Shanghai' }, {
      file: (r) => {
        view.filed.push(r)
        return Promise.resolve({ id: `f-${view.filed.length}` } as Finding)
      },
      template: (id) => templates.push(id),
      close: () => {},
      focus: () => {},
      seen: (key) => view.onScreen.has(key),
      reveal: (key) => {
        view.revealed.push(key)
        view.onScreen.add(key)
      },
      focusDetails: (afterKey) => view.noteFocused.push(afterKey),
    }),
  )!
  return { checklist, templates, scope, view }
}

const frame: Frame = { camera: 's/cam', stream: 'main', jpegBase64: '/9j/', width: 320, height: 180 }
const press = (c: ReturnType<typeof open>['checklist'], action: 'proposal.confirm' | 'proposal.dismiss' | 'proposal.edit', key: string) =>
  c.commands[action]!({ action, key, binding: { action, scope: 'checklist', section: 'checklist', keys: [key] } })

const posted = (path: string) => backend.seen.filter((s) => s.method === 'POST' && s.url === path)

describe('useChecklist', () => {
  it('starts on the most specific checklist, and goes on with the same run when opened again', async () => {
    backend.route = checklistAPI()
    const first = open('s/cam-a')
    await first.checklist.load()
    expect(first.checklist.templates.value.map((t) => t.id)).toEqual(['ppe-doffing', 'disinfection'])
    expect(first.templates).toEqual(['ppe-doffing'])
    const id = first.checklist.run.value!.id
    first.scope.stop()

    const again = open('s/cam-a')
    await again.checklist.load()
    expect(again.checklist.run.value!.id).toBe(id)
    expect(posted('/api/v1/runs')).toHaveLength(1)
  })

  it('marks the step under the cursor and moves on to the next one not marked', async () => {
    backend.route = checklistAPI()
    const { checklist } = open('s/cam-b')
    await checklist.load()
    await checklist.mark('done')
    const r = checklist.run.value!
    expect(JSON.parse(posted(`/api/v1/runs/${r.id}/marks`)[0]!.body)).toEqual({ step: 'hh-gloves', mark: 'done' })
    expect(r.steps[0]!.mark).toBe('done')
    expect(r.current?.id).toBe('goggles')
  })

  it('acts on keys pressed while the run is being opened, once it is open, in order', async () => {
    backend.route = checklistAPI()
    const { checklist } = open('s/cam-keys')
    const opening = checklist.load()
    // Down, then d: the goggles, the step after the first, marked done.
    checklist.commands['step.move']!({ key: 'ArrowDown' } as Resolved)
    checklist.commands['step.done']!({} as Resolved)
    expect(checklist.run.value).toBeUndefined()
    await opening
    const r = checklist.run.value!
    await until(() => r.steps[1]!.mark === 'done', 'the goggles marked')
    expect(JSON.parse(posted(`/api/v1/runs/${r.id}/marks`)[0]!.body)).toEqual({ step: 'goggles', mark: 'done' })
    expect(r.steps[0]!.mark).toBe('')
  })

  it('says a failed mark in the backend’s words', async () => {
    backend.route = (s) => (s.url.endsWith('/marks') ? { status: 409, body: { error: { code: 'run_closed', message: 'run is closed' } } } : checklistAPI()(s))
    const { checklist } = open('s/cam-c')
    await checklist.load()
    await checklist.mark('done')
    expect(checklist.error.value).toBe('That did not work: run is closed')
  })

  it('keeps a proposal open when it has no picture to file, and dismisses it', async () => {
    backend.route = checklistAPI([{ step: 'goggles', deviation: 'wrong-order' }])
    const { checklist } = open('s/cam-d')
    await checklist.load()
    await checklist.mark('done')
    const p = checklist.run.value!.pending!
    expect(p.key).toBe('goggles:wrong-order')
    // No tile is playing here: the mark's picture is none.
    await checklist.confirm(p)
    expect(p.state).toBe('proposed')
    expect(p.error).toBe(`That did not work: ${i18n.global.t('flag.noPicture')}`)
    checklist.dismiss(p)
    expect(p.state).toBe('dismissed')
    expect(checklist.run.value!.pending).toBeUndefined()
  })

  it.each([
    { key: 'Enter', action: 'proposal.confirm' as const },
    { key: 'Delete', action: 'proposal.dismiss' as const },
    { key: 'e', action: 'proposal.edit' as const },
  ])('acts on a proposal by key ($key) only once it is wholly on screen: the first press brings it into view', async ({ key, action }) => {
    backend.route = checklistAPI()
    const c = open(`s/cam-seen-${key}`)
    await c.checklist.load()
    const r = c.checklist.run.value!
    r.apply({ observations: [], flags: [{ step: 'goggles', deviation: 'wrong-order', reason: { 'zh-CN': '顺序', en: 'Out of order' } }] }, Promise.resolve(frame))
    const p = r.pending!
    // Below the panel's fold: the key scrolls it into view and does nothing else.
    press(c.checklist, action, key)
    await flushPromises()
    expect(c.view.revealed).toEqual([p.key])
    expect(p.state).toBe('proposed')
    expect(c.checklist.details.key).toBe('')
    expect(c.view.filed).toEqual([])
    // Now seen: the same key acts.
    press(c.checklist, action, key)
    await flushPromises()
    expect(c.view.revealed).toEqual([p.key])
    if (action === 'proposal.confirm') {
      expect(p.state).toBe('confirmed')
      expect(c.view.filed).toHaveLength(1)
    } else if (action === 'proposal.dismiss') {
      expect(p.state).toBe('dismissed')
    } else {
      expect(c.checklist.details.key).toBe(p.key)
      expect(c.view.filed).toEqual([])
    }
  })

  it.each([
    { name: 'a rule the catalogue has no entry for keeps its words in both languages', deviation: 'skipped-hh', text: 'Skipped hand hygiene', title: { 'zh-CN': '漏做手卫生', en: 'Skipped hand hygiene' } },
    { name: 'a catalogue entry is named by its id, its words the catalogue’s', deviation: 'wrong-order', text: 'Doffed out of order', title: undefined },
  ])('files a proposal: $name', async ({ deviation, text, title }) => {
    backend.route = checklistAPI()
    const c = open(`s/cam-title-${deviation}`)
    await c.checklist.load()
    const r = c.checklist.run.value!
    r.apply({ observations: [], flags: [{ step: 'goggles', deviation, reason: { 'zh-CN': '漏做手卫生', en: 'Skipped hand hygiene' } }] }, Promise.resolve(frame))
    c.view.onScreen.add(r.pending!.key)
    await c.checklist.confirm(r.pending!)
    expect(c.view.filed).toHaveLength(1)
    expect(c.view.filed[0]!.deviationText).toBe(text)
    expect(c.view.filed[0]!.deviationTitle).toEqual(title)
  })

  it('confirms a proposal with the officer’s note and deadline (e, then Enter)', async () => {
    backend.route = checklistAPI()
    const c = open('s/cam-details')
    await c.checklist.load()
    const r = c.checklist.run.value!
    r.apply({ observations: [], flags: [{ step: 'goggles', deviation: 'wrong-order', reason: { 'zh-CN': '顺序', en: 'Out of order' } }] }, Promise.resolve(frame))
    const p = r.pending!
    c.view.onScreen.add(p.key)
    press(c.checklist, 'proposal.edit', 'e')
    // The note takes the keyboard once e is released, not with its letter in it.
    expect(c.view.noteFocused).toEqual([true])
    // The deadline offered is the catalogue's, in the site's time, to type over.
    expect(c.checklist.details.deadline).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
    c.checklist.details.deadline = 'soon'
    await c.checklist.saveDetails()
    expect(c.checklist.details.problem).toBe(i18n.global.t('flag.badDeadline'))
    expect(c.view.filed).toEqual([])
    c.checklist.details.deadline = '2099-01-02T08:30'
    c.checklist.details.note = ' gloves touched the face '
    await c.checklist.saveDetails()
    expect(p.state).toBe('confirmed')
    expect(c.view.filed).toHaveLength(1)
    expect(c.view.filed[0]!.note).toBe('gloves touched the face')
    // 08:30 in Shanghai is 00:30 UTC.
    expect(c.view.filed[0]!.deadline?.toISOString()).toBe('2099-01-02T00:30:00.000Z')
    expect(c.checklist.details.key).toBe('')
  })

  it('switches to the zone’s next checklist with t', async () => {
    backend.route = checklistAPI()
    const { checklist, templates } = open('s/cam-e')
    await checklist.load()
    checklist.commands['checklist.template']!({ action: 'checklist.template', key: 't', binding: { action: 'checklist.template', scope: 'checklist', section: 'checklist', keys: ['t'] } })
    await expect.poll(() => templates, { timeout: 60_000 }).toEqual(['ppe-doffing', 'disinfection'])
    expect(checklist.run.value!.template.id).toBe('disinfection')
  })
})

describe('a run is the backend\'s record (issue 11.2)', () => {
  it('goes on after a reload with the run going on for the camera: its template, marks, durations and words', async () => {
    backend.route = checklistAPI()
    going = [
      runRecord('run-other', 's/cam-else', doffingWire),
      runRecord('run-kept', 's/cam-reload', disinfectionWire, {
        observations: [{ step: disinfectionWire.steps[0]!.id, mark: 'done', at: '2026-12-02T01:05:00Z' }],
      }),
    ]
    try {
      const { checklist, templates } = open('s/cam-reload')
      await checklist.load()
      const r = checklist.run.value!
      // The open run's template, not the most specific one, and no new run.
      expect(r.id).toBe('run-kept')
      expect(templates).toEqual(['disinfection'])
      expect(posted('/api/v1/runs').filter((x) => JSON.parse(x.body).camera === 's/cam-reload')).toEqual([])
      expect(r.steps[0]!.mark).toBe('done')
      // Its one step marked: the check can be ended.
      expect(r.complete).toBe(true)
      expect(r.endedAt).toBeUndefined()

      // Switched to the doffing checklist, whose run here is another's camera's: a new one.
      await checklist.nextTemplate()
      await flushPromises()
      expect(checklist.run.value!.id).not.toBe('run-other')
    } finally {
      going = []
    }
  })

  it('restores a timed step\'s duration and a deviation in words from the record', () => {
    const r = new ChecklistRun('run-x', parseRun({ id: 'run-x', template: doffingWire }, 'test').template)
    r.restore(parseRunRecord(runRecord('run-x', 's/cam', doffingWire, {
      observations: [
        { step: 'hh-gloves', mark: 'done', duration_s: 21.5, at: '2026-12-02T01:05:00Z' },
        { step: 'goggles', mark: 'deviation', deviation_text: '护目镜未消毒', at: '2026-12-02T01:06:00Z' },
      ],
      findings: ['f-9'],
    }), 'test'))
    expect(r.steps.map((s) => [s.mark, s.durationS, s.freeText])).toEqual([
      ['done', 21.5, undefined],
      ['deviation', undefined, '护目镜未消毒'],
      ['', undefined, undefined],
    ])
    expect(r.cursor).toBe(2)
    expect(r.complete).toBe(false)
    expect(r.hook()).toMatchObject({ ended: false, findings: ['f-9'] })
  })

  it('ends the check with Q: no more marks, and opened again it starts a new run', async () => {
    backend.route = checklistAPI()
    const c = open('s/cam-end')
    await c.checklist.load()
    const id = c.checklist.run.value!.id
    c.checklist.commands['checklist.end']!({ action: 'checklist.end', key: 'q', binding: { action: 'checklist.end', scope: 'checklist', section: 'checklist', keys: ['q'] } })
    const r = c.checklist.run.value!
    // The key starts the end; the run is ended once the backend's answer is in.
    await vi.waitFor(() => expect(r.endedAt).toEqual(new Date('2026-12-02T01:30:00Z')))
    expect(posted(`/api/v1/runs/${id}/end`)).toHaveLength(1)
    await c.checklist.mark('done')
    expect(posted(`/api/v1/runs/${id}/marks`)).toEqual([])
    // Ending twice sends nothing more.
    await c.checklist.end()
    expect(posted(`/api/v1/runs/${id}/end`)).toHaveLength(1)
    c.scope.stop()

    const again = open('s/cam-end')
    await again.checklist.load()
    expect(again.checklist.run.value!.id).not.toBe(id)
    expect(again.checklist.run.value!.endedAt).toBeUndefined()
  })

  it('records a confirmed proposal as the run\'s finding, and says a failed link without losing the finding', async () => {
    backend.route = checklistAPI()
    const c = open('s/cam-link')
    await c.checklist.load()
    const r = c.checklist.run.value!
    r.apply({ observations: [], flags: [{ step: 'goggles', deviation: 'wrong-order', reason: { 'zh-CN': '顺序', en: 'Out of order' } }] }, Promise.resolve(frame))
    expect(await c.checklist.confirm(r.pending)).toBe(true)
    await vi.waitFor(() => expect(r.findings).toEqual(['f-1']))
    const linked = posted(`/api/v1/runs/${r.id}/findings`)
    expect(linked.map((x) => JSON.parse(x.body))).toEqual([{ finding_id: 'f-1' }])
    expect(c.checklist.error.value).toBe('')

    // Already recorded (a retry): nothing to say. Anything else is said.
    for (const [code, said] of [['already_recorded', ''], ['unknown_finding', 'That did not work: no such finding']] as const) {
      backend.route = (s) => (s.url.endsWith('/findings') ? { status: code === 'already_recorded' ? 409 : 400, body: { error: { code, message: 'no such finding' } } } : checklistAPI()(s))
      r.apply({ observations: [], flags: [{ step: 'gown', deviation: `wrong-${code}`, reason: { 'zh-CN': '顺序', en: 'Out of order' } }] }, Promise.resolve(frame))
      const before = backend.seen.length
      expect(await c.checklist.confirm(r.pending)).toBe(true)
      await vi.waitFor(() => expect(backend.seen.slice(before).some((x) => x.url.endsWith('/findings'))).toBe(true))
      await vi.waitFor(() => expect(c.checklist.error.value).toBe(said))
    }
    expect(c.view.filed).toHaveLength(3)
  })
})

describe('useChecklistPlace', () => {
  function place(cameras: (string | null)[]) {
    const said: string[] = []
    return effectScope().run(() => {
      const wall = useWall()
      wall.setOwn(filledWall(4, cameras.filter((c): c is string => c !== null)))
      const toggled: number[] = []
      const p = useChecklistPlace(wall, {
        inUse: () => wall.focused.value ?? wall.selected.value,
        toggleFocus: (i) => {
          toggled.push(i)
          wall.focused.value = i
        },
        say: (s) => said.push(s),
      })
      return { wall, p, said, toggled }
    })!
  }

  it('opens on the tile in use, enlarging it', () => {
    const s = place(['s/a', 's/b'])
    s.wall.select(1)
    expect(s.p.open()).toBe(true)
    expect(s.p.place.value).toEqual({ camera: 's/b', index: 1 })
    expect(s.toggled).toEqual([1])
  })

  it('says so on an empty tile', () => {
    const s = place(['s/a'])
    s.wall.select(3)
    expect(s.p.open()).toBe(false)
    expect(s.said).toEqual([i18n.global.t('flag.noTile')])
  })

  it('closes when the focus view does, or the tile changes camera', async () => {
    const s = place(['s/a', 's/b'])
    s.p.open()
    await nextTick()
    s.wall.focused.value = null
    await nextTick()
    expect(s.p.place.value).toBeUndefined()
    s.p.open()
    await nextTick()
    s.wall.assign(0, 's/z')
    await nextTick()
    expect(s.p.place.value).toBeUndefined()
  })

  it('offers the open run’s template to the quick flag on its camera only', () => {
    const s = place(['s/a', 's/b'])
    s.p.open()
    s.p.template.value = 'ppe-doffing'
    expect(s.p.templateOn('s/a')).toBe('ppe-doffing')
    expect(s.p.templateOn('s/b')).toBeUndefined()
  })
})
