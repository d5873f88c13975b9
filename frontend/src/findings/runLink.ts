// A finding filed on a camera while a check goes on there is the check's:
// whether the checklist panel filed it or the quick flag (f) did, it is
// recorded as the run's, so the relay counts it among the run's deviations
// (issue 11.2). The run's finding list is the backend's answer to the link.
import type { ApiClient, Finding, FlagRequest } from '../api'
import { openRuns, type ChecklistRun } from './run'

/** Records the finding as the run's; resolves to the run's findings, or undefined if already recorded. */
export async function linkToRun(api: ApiClient, run: ChecklistRun<unknown>, finding: string): Promise<void> {
  try {
    run.findings = (await api.linkRunFinding(run.id, finding)).findings
  } catch (err) {
    if ((err as { code?: string }).code !== 'already_recorded') throw err
  }
}

/** The newest run of this page going on on a camera, whatever its template. */
export function pageRunOn(camera: string): ChecklistRun<unknown> | undefined {
  let found: ChecklistRun<unknown> | undefined
  for (const [key, r] of openRuns.byKey) if (key.startsWith(`${camera}|`) && !r.endedAt) found = r
  return found
}

/**
 * Files through file and links the finding to the run going on on its
 * camera: this page's, or after a reload the backend's newest open one. A
 * failed link leaves the finding filed and is told through failed.
 */
export function fileOnOpenRun(api: ApiClient, file: (r: FlagRequest) => Promise<Finding>, failed: (err: unknown) => void) {
  return async (req: FlagRequest): Promise<Finding> => {
    const f = await file(req)
    void (async () => {
      const page = pageRunOn(req.camera)
      if (page) return linkToRun(api, page, f.id)
      const open = (await api.openRuns()).filter((r) => r.camera === req.camera && !r.endedAt).at(-1)
      if (open) await api.linkRunFinding(open.id, f.id)
    })().catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'already_recorded') failed(err)
    })
    return f
  }
}
