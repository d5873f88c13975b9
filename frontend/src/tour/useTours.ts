// The tours: the saved list, editing and deleting one, and the one running
// (the engine through useTour), whose steps this puts on the wall. The
// officer working in a tile pauses it; the focus view holds it.
import { computed, ref, shallowRef, watch } from 'vue'
import { ApiError, type ApiClient, type Layout, type Tour, type TourStep } from '../api'
import type { MenuItem } from '../console/menu'
import type { Say } from '../console/useNotice'
import { useSubmit } from '../console/useSubmit'
import { failedText, i18n } from '../i18n'
import type { Commands } from '../keys'
import type { CameraFeed } from '../sites/useCameras'
import { filledWall, fromLayout } from '../wall/layout'
import type { WallState } from '../wall/useWall'
import { tourName, tourNameOf } from './name'
import { useTour } from './useTour'

/** A step in words: the layout's name, or where the camera is. */
export function stepText(step: TourStep, cameraLabel: (key: string) => string): string {
  return 'layout' in step ? i18n.global.t('tours.stepLayout', { name: step.layout }) : cameraLabel(step.camera)
}

export interface ToursOptions {
  /** The cameras, to skip a step whose camera is gone and to name a step's camera. */
  feed: Pick<CameraFeed, 'loaded' | 'byKey' | 'label'>
  /** The saved layouts, which layout steps show. */
  layouts(): readonly Layout[]
  say: Say
  /** Space with no tour running, t: the menu to choose one. */
  choose(): void
}

export function useTours(api: ApiClient, wall: WallState, opts: ToursOptions) {
  const { t } = i18n.global
  const { feed, say } = opts
  const list = shallowRef<Tour[]>([])
  const available = ref(true)
  const { busy: saving, error: saveError, submit } = useSubmit()
  /** The tour being edited; undefined for a new one. */
  const editing = shallowRef<Tour>()
  let lastTour = ''

  const { state, at, engine } = useTour({
    show: showStep,
    stopped: (s) => {
      wall.showTour(undefined)
      if (s.stoppedBecause === 'nothing_to_show') say(t('tours.nothingToShow', { name: tourNameOf(list.value, lastTour) }))
    },
  })

  function showStep(step: TourStep): boolean {
    if ('camera' in step) {
      if (feed.loaded.value && !feed.byKey.value.has(step.camera)) return false
      wall.showTour(filledWall(1, [step.camera]))
      return true
    }
    const l = opts.layouts().find((x) => x.name === step.layout)
    if (!l) return false
    wall.showTour(fromLayout(l))
    return true
  }

  watch(wall.focused, (now, before) => {
    if (before === null && now !== null) engine.hold()
    if (before !== null && now === null) engine.release()
  })

  async function load(): Promise<void> {
    try {
      list.value = await api.tours()
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) available.value = false
      else say(failedText(err))
    }
  }

  function start(name: string): void {
    const found = list.value.find((x) => x.name === name)
    if (!found) return
    lastTour = name
    if (engine.start(found)) say(t('tours.started', { name: tourName(found) }))
  }

  function edit(name: string | undefined): void {
    editing.value = name === undefined ? undefined : list.value.find((x) => x.name === name)
  }

  /** Saves the tour being edited as `next`; `saved` runs once the backend has it (the editor closes). */
  async function save(next: Tour, saved: () => void): Promise<void> {
    const before = editing.value
    await submit(async () => {
      await api.saveTour(next)
      // Renamed: the old name goes, or the menu would show both.
      if (before && before.name !== next.name) await api.deleteTour(before.name)
      say(t('tourEditor.saved', { name: next.name }))
      const s = state.value
      if (s.status !== 'stopped' && (s.tour === next.name || s.tour === before?.name)) {
        lastTour = next.name
        engine.start(next)
      }
      saved()
      await load()
    })
  }

  async function remove(name: string): Promise<void> {
    try {
      await api.deleteTour(name)
      say(t('tours.deleted', { name: tourNameOf(list.value, name) }))
      if (state.value.tour === name) engine.stop()
    } catch (err) {
      say(failedText(err))
    }
    await load()
  }

  const stepLabel = computed(() => (state.value.step ? stepText(state.value.step, feed.label) : ''))
  /** The running tour's name in the reader's language. */
  const shownName = computed(() => tourNameOf(list.value, state.value.tour))
  const items = computed<MenuItem[]>(() =>
    list.value.map((x) => ({ id: x.name, label: tourName(x), detail: t('tours.detail', { steps: x.steps.length }), current: state.value.tour === x.name })),
  )

  const commands: Commands = {
    'tour.toggle': () => (state.value.status === 'stopped' ? opts.choose() : engine.toggle()),
    'tour.next': () => engine.next(),
    'tour.previous': () => engine.previous(),
    'tour.choose': () => opts.choose(),
    'tour.stop': () => engine.stop(),
  }

  return { list, available, saving, saveError, editing, state, at, engine, items, stepLabel, shownName, commands, load, start, edit, save, remove }
}

export type ToursState = ReturnType<typeof useTours>
