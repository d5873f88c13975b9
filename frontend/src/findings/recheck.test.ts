import { describe, expect, it } from 'vitest'
import type { Finding } from '../api'
import { toWallInput } from './shift'
import { checkReopen, due, FindingsRefresher, isOverdue, mergeFindings, panelSections, recheckQueue, reopenDeadline, spanText, withFinding } from './recheck'

const tz = 'Asia/Shanghai'
// Hour seven of a night shift: 03:00 at the site.
const now = new Date('2026-11-24T19:00:00Z')
const hours = (h: number) => new Date(now.getTime() + h * 3600_000)

function finding(id: string, over: Partial<Finding> = {}): Finding {
  return {
    id,
    site: 'site-01',
    camera: 'site-01/doff1',
    zone: 'doffing_room_1',
    deviationText: id,
    severity: 'major',
    note: '',
    observer: 'duty',
    status: 'open',
    revision: 1,
    flaggedAt: hours(-1),
    deadline: hours(47),
    ...over,
  }
}

describe('recheckQueue', () => {
  it('lists rectified findings of any age, the longest waiting first', () => {
    const list = [
      finding('fresh', { status: 'rectified', updatedAt: hours(-0.5) }),
      finding('open'),
      finding('old', { status: 'rectified', flaggedAt: hours(-24 * 9), updatedAt: hours(-30) }),
      finding('verified', { status: 'verified', updatedAt: hours(-40) }),
      finding('mid', { status: 'rectified', updatedAt: hours(-3) }),
      // No report time known: waits since it was flagged.
      finding('unknown', { status: 'rectified', flaggedAt: hours(-5) }),
    ]
    expect(recheckQueue(list).map((f) => f.id)).toEqual(['old', 'unknown', 'mid', 'fresh'])
  })

  it('orders ties by id, so the list does not shuffle between reads', () => {
    const at = hours(-2)
    const list = [finding('b', { status: 'rectified', updatedAt: at }), finding('a', { status: 'rectified', updatedAt: at })]
    expect(recheckQueue(list).map((f) => f.id)).toEqual(['a', 'b'])
  })
})

describe('panelSections', () => {
  it('puts the queue first and each finding once', () => {
    const list = [
      finding('this-shift', { flaggedAt: hours(-1) }),
      finding('rectified', { status: 'rectified', flaggedAt: hours(-2), updatedAt: hours(-1) }),
      finding('last-shift', { flaggedAt: hours(-14) }),
    ]
    const s = panelSections(list, tz, now)
    expect(s.queue.map((f) => f.id)).toEqual(['rectified'])
    expect(s.order.map((f) => f.id)).toEqual(['rectified', 'this-shift', 'last-shift'])
    expect(s.groups.flatMap((g) => g.items).some((f) => f.id === 'rectified')).toBe(false)
  })
})

describe('overdue', () => {
  const cases: { name: string; f: Finding; overdue: boolean; due: ReturnType<typeof due> }[] = [
    { name: 'open, deadline to come', f: finding('a', { deadline: hours(2.5) }), overdue: false, due: { kind: 'left', ms: 2.5 * 3600_000 } },
    { name: 'open, deadline passed', f: finding('a', { deadline: hours(-26) }), overdue: true, due: { kind: 'overdue', ms: 26 * 3600_000 } },
    { name: 'rectified, deadline passed: still awaits the re-check', f: finding('a', { status: 'rectified', deadline: hours(-1) }), overdue: true, due: { kind: 'overdue', ms: 3600_000 } },
    { name: 'verified, deadline passed', f: finding('a', { status: 'verified', deadline: hours(-1) }), overdue: false, due: { kind: 'closed' } },
    { name: 'withdrawn, deadline passed', f: finding('a', { status: 'withdrawn', deadline: hours(-1) }), overdue: false, due: { kind: 'closed' } },
    { name: 'no deadline', f: finding('a', { deadline: undefined }), overdue: false, due: { kind: 'none' } },
  ]
  for (const c of cases) {
    it(c.name, () => {
      expect(isOverdue(c.f, now)).toBe(c.overdue)
      expect(due(c.f, now)).toEqual(c.due)
    })
  }
})

describe('spanText', () => {
  const m = 60_000
  const cases: [number, string, string][] = [
    [30_000, '不到 1 分钟', 'under a minute'],
    [7 * m, '7 分钟', '7 min'],
    [60 * m, '1 小时', '1 h'],
    [(2 * 60 + 20) * m, '2 小时 20 分钟', '2 h 20 min'],
    [(26 * 60 + 59) * m, '1 天 2 小时', '1 d 2 h'],
    [3 * 24 * 60 * m, '3 天', '3 d'],
    [-(90 * m), '1 小时 30 分钟', '1 h 30 min'],
  ]
  for (const [ms, zh, en] of cases) {
    it(`${ms} ms`, () => {
      expect(spanText(ms, 'zh-CN')).toBe(zh)
      expect(spanText(ms, 'en')).toBe(en)
    })
  }
})

describe('reopening', () => {
  it('suggests a deadline by severity', () => {
    expect(reopenDeadline('critical', now)).toEqual(hours(24))
    expect(reopenDeadline('major', now)).toEqual(hours(48))
    expect(reopenDeadline('minor', now)).toEqual(hours(72))
    expect(reopenDeadline('something else', now)).toEqual(hours(48))
  })

  const later = toWallInput(hours(48), tz)
  const cases: { name: string; note: string; deadline: string; want: object }[] = [
    { name: 'a note and a deadline to come', note: '  still no mirror  ', deadline: later, want: { note: 'still no mirror', deadline: new Date('2026-11-26T19:00:00Z') } },
    { name: 'no note', note: '   ', deadline: later, want: { problem: 'needNote', field: 'note' } },
    { name: 'no deadline', note: 'x', deadline: '', want: { problem: 'badDeadline', field: 'deadline' } },
    { name: 'a deadline that is no time', note: 'x', deadline: '2026-13-40T25:00', want: { problem: 'badDeadline', field: 'deadline' } },
    { name: 'a deadline passed', note: 'x', deadline: toWallInput(hours(-1), tz), want: { problem: 'pastDeadline', field: 'deadline' } },
    // The deadline is read at the site: 03:30 in Shanghai is 19:30 UTC.
    { name: 'site time', note: 'x', deadline: '2026-11-25T03:30', want: { note: 'x', deadline: new Date('2026-11-24T19:30:00Z') } },
  ]
  for (const c of cases) {
    it(c.name, () => {
      expect(checkReopen({ note: c.note, deadline: c.deadline }, tz, now)).toEqual(c.want)
    })
  }
})

describe('merging lists', () => {
  it('keeps each finding once, the later list winning', () => {
    const a = finding('a', { status: 'acknowledged' })
    const merged = mergeFindings([a, finding('b')], [finding('a', { status: 'rectified' }), finding('c')])
    expect(merged.map((f) => `${f.id}:${f.status}`)).toEqual(['a:rectified', 'b:open', 'c:open'])
    expect(withFinding(merged, finding('b', { status: 'verified' })).map((f) => `${f.id}:${f.status}`)).toEqual(['a:rectified', 'b:verified', 'c:open'])
    expect(withFinding(merged, finding('d')).map((f) => f.id)).toEqual(['d', 'a', 'b', 'c'])
  })
})

describe('FindingsRefresher', () => {
  function rig(maxIds?: number) {
    const reads: string[] = []
    const applied: string[] = []
    let reloads = 0
    const gates: (() => void)[] = []
    const r = new FindingsRefresher({
      read: (id) =>
        new Promise((resolve, reject) => {
          reads.push(id)
          gates.push(() => (id === 'gone' ? reject(new Error('404 unknown_finding')) : resolve(finding(id, { status: 'rectified' }))))
        }),
      apply: (f) => applied.push(`${f.id}:${f.status}`),
      reloadAll: () => reloads++,
      maxIds,
    })
    const open = () => gates.splice(0).forEach((g) => g())
    return { r, reads, applied, open, reloads: () => reloads }
  }

  it('reads the named findings and hands them over', async () => {
    const x = rig()
    const done = x.r.changed(['f1', 'f2'])
    x.open()
    await done
    expect(x.reads).toEqual(['f1', 'f2'])
    expect(x.applied).toEqual(['f1:rectified', 'f2:rectified'])
  })

  it('gathers ids that come during a read and reads each once after it', async () => {
    const x = rig()
    const first = x.r.changed(['f1'])
    const second = x.r.changed(['f2', 'f1'])
    const third = x.r.changed(['f2'])
    expect(second).toBe(first)
    expect(third).toBe(first)
    expect(x.reads).toEqual(['f1'])
    x.open()
    await new Promise((r) => setTimeout(r, 0))
    expect(x.reads).toEqual(['f1', 'f2', 'f1'])
    x.open()
    await first
    expect(x.applied).toEqual(['f1:rectified', 'f2:rectified', 'f1:rectified'])
  })

  it('passes over a finding it cannot read and goes on', async () => {
    const x = rig()
    const done = x.r.changed(['gone', 'f1'])
    x.open()
    await done
    expect(x.applied).toEqual(['f1:rectified'])
  })

  it('reloads everything for a burst of many ids', async () => {
    const x = rig(3)
    await x.r.changed(['a', 'b', 'c', 'd'])
    expect(x.reads).toEqual([])
    expect(x.reloads()).toBe(1)
  })
})
