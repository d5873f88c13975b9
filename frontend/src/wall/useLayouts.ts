// The saved layouts: the list from the backend, saving the wall under a
// name, restoring and deleting one. A backend without layouts (404) says
// so in the menu instead of failing.
import { computed, ref, shallowRef } from 'vue'
import { ApiError, type ApiClient, type Layout } from '../api'
import type { MenuItem } from '../console/menu'
import type { Say } from '../console/useNotice'
import { useSubmit } from '../console/useSubmit'
import { failedText, i18n } from '../i18n'
import { toLayout } from './layout'
import type { WallState } from './useWall'

export interface LayoutsOptions {
  say: Say
  /** A layout restored ends the tour: the officer chose what to see. */
  stopTour(): void
}

export function useLayouts(api: ApiClient, wall: WallState, opts: LayoutsOptions) {
  const { t } = i18n.global
  const list = shallowRef<Layout[]>([])
  const available = ref(true)
  const { busy: saving, error: saveError, submit } = useSubmit()

  async function load(): Promise<void> {
    try {
      list.value = await api.layouts()
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) available.value = false
      else opts.say(failedText(err))
    }
  }

  /** Puts a saved layout on the officer's wall; false when there is none of that name. */
  function restore(name: string): boolean {
    const l = list.value.find((x) => x.name === name)
    if (!l) return false
    opts.stopTour()
    wall.restore(l)
    opts.say(t('layouts.restored', { name }))
    return true
  }

  async function remove(name: string): Promise<void> {
    try {
      await api.deleteLayout(name)
      opts.say(t('layouts.deleted', { name }))
      if (wall.layoutName.value === name) wall.layoutName.value = ''
    } catch (err) {
      opts.say(failedText(err))
    }
    await load()
  }

  /** Saves the wall as it is under a name; `saved` runs once the backend has it (the dialog closes). */
  async function save(name: string, saved: () => void): Promise<void> {
    await submit(async () => {
      await api.saveLayout(toLayout(name, wall.view.value))
      wall.layoutName.value = name
      opts.say(t('layouts.saved', { name }))
      saved()
      await load()
    })
  }

  const items = computed<MenuItem[]>(() =>
    list.value.map((l) => ({
      id: l.name,
      label: l.name,
      detail: t('layouts.detail', { grid: l.grid, cameras: l.tiles.filter(Boolean).length }),
      current: wall.layoutName.value === l.name && !wall.touring.value,
    })),
  )
  const names = computed(() => list.value.map((l) => l.name))

  return { list, names, available, saving, saveError, items, load, restore, remove, save }
}

export type LayoutsState = ReturnType<typeof useLayouts>
