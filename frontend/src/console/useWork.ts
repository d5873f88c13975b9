// The work beside the wall: the checklist of the enlarged camera, the
// findings panel, a finding open in its dialog, and its camera enlarged
// for the re-check. Opening and closing them moves the keyboard with them.
import { nextTick, ref } from 'vue'
import type { ChecklistPlaceState } from '../findings/useChecklist'
import type { FindingsState } from '../findings/useFindings'
import { i18n } from '../i18n'
import type { CameraFeed } from '../sites/useCameras'
import type { ToursState } from '../tour/useTours'
import type { WallControl } from '../wall/useWallControl'
import type { Say } from './useNotice'
import type { Overlays } from './useOverlays'

export interface WorkParts {
  overlays: Overlays
  findings: FindingsState
  checklist: ChecklistPlaceState
  control: WallControl
  tours: ToursState
  feed: Pick<CameraFeed, 'loaded' | 'byKey'>
  say: Say
  /** Whether a tile is enlarged now. */
  wallFocused(): boolean
}

export function useWork(p: WorkParts) {
  const { overlays, findings, checklist } = p
  const { wallView, checklistView, findingsView } = overlays
  const focusWall = () => wallView.value?.focus()
  // The finding whose camera is enlarged for its re-check, until the
  // officer leaves that view: Esc then goes back to the finding in the list.
  const recheckOf = ref<{ id: string; tile: number }>()

  function openChecklist(): void {
    if (checklist.open()) void nextTick(() => checklistView.value?.focus())
  }

  function closeChecklist(): void {
    checklist.close()
    focusWall()
  }

  function openFindings(): void {
    findings.open.value = true
    void findings.load()
    void nextTick(() => findingsView.value?.focus())
  }

  function closeFindings(): void {
    findings.open.value = false
    focusWall()
  }

  function showFinding(id: string, withdrawing = false): void {
    findings.show(id, withdrawing)
    overlays.open('finding')
  }

  /** Back to the list, on the finding that was open. */
  function closeFinding(): void {
    const id = findings.detailId.value
    overlays.close(() => {
      if (!findings.open.value) return focusWall()
      findingsView.value?.choose(id)
      findingsView.value?.focus()
    })
  }

  /**
   * The re-check on video: the finding's camera enlarged on the main
   * stream. The dialog closes so that the picture is seen; Esc leaves the
   * focus view back to the panel, on the finding, for Enter to open it.
   */
  function openCamera(camera: string): void {
    if (p.feed.loaded.value && !p.feed.byKey.value.has(camera)) {
      p.say(i18n.global.t('recheck.cameraGone', { camera }))
      return
    }
    if (p.tours.state.value.status !== 'stopped') p.tours.engine.stop()
    overlays.overlay.value = null
    recheckOf.value = { id: findings.detailId.value, tile: p.control.enlarge(camera) }
    if (findings.open.value) findingsView.value?.choose(findings.detailId.value)
    void nextTick(focusWall)
  }

  /**
   * Esc on the wall while a finding's camera is enlarged for its re-check:
   * the focus view closes and the keyboard goes back to the findings list,
   * on that finding, one level back. False when the focus view is not a
   * re-check's (the wall's own Esc then does its work).
   */
  function leaveRecheck(): boolean {
    const r = recheckOf.value
    recheckOf.value = undefined
    if (!r || !p.wallFocused() || p.control.inUse() !== r.tile) return false
    p.control.toggleFocus(r.tile)
    if (findings.open.value) {
      findingsView.value?.choose(r.id)
      findingsView.value?.focus()
    } else focusWall()
    return true
  }

  return { openChecklist, closeChecklist, openFindings, closeFindings, showFinding, closeFinding, openCamera, leaveRecheck }
}
