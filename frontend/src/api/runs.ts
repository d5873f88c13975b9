// A checklist run as the console backend keeps it (issue 11.2): a record
// that outlives the page and the console, read back to go on with it.
import { parseRun, type RunState } from './findings'
import { ContractError, isObject, str, time } from './parse'

export interface RunRecord extends RunState {
  camera: string
  officer: string
  startedAt?: Date
  /** Absent while the run goes on. */
  endedAt?: Date
  /** The findings the run produced. */
  findings: string[]
  /** The steps whose timer runs, and since when. */
  timers: { step: string; startedAt: Date }[]
}

export function parseRunRecord(v: unknown, where: string): RunRecord {
  const base = parseRun(v, where)
  const o = v as Record<string, unknown>
  const findings = o.findings ?? []
  if (!Array.isArray(findings)) throw new ContractError(where, '"findings" is not a list')
  const timers = o.timers ?? []
  if (!Array.isArray(timers)) throw new ContractError(where, '"timers" is not a list')
  const r: RunRecord = {
    ...base,
    camera: str(o.camera, where, 'camera'),
    officer: typeof o.officer === 'string' ? o.officer : '',
    findings: findings.map((f, i) => str(f, `${where}: finding ${i}`, 'id')),
    timers: timers.map((t: unknown, i) => {
      const at = isObject(t) ? time(t.started_at) : undefined
      if (!isObject(t) || !at) throw new ContractError(`${where}: timer ${i}`, 'wants a step and its started_at')
      return { step: str(t.step, `${where}: timer ${i}`, 'step'), startedAt: at }
    }),
  }
  const started = time(o.started_at)
  if (started) r.startedAt = started
  const ended = time(o.ended_at)
  if (ended) r.endedAt = ended
  return r
}

export function parseRunRecords(v: unknown, where: string): RunRecord[] {
  if (!isObject(v) || !Array.isArray(v.runs)) throw new ContractError(where, '"runs" is not a list')
  return v.runs.map((r, i) => parseRunRecord(r, `${where}: run ${i}`))
}
