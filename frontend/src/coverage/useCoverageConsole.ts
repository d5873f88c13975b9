// The coverage wiring of the signed-in screen: what is on screen told to
// the backend (useWatch), the live panel (G), the key-moment prompt (J to
// go) and the "least recently watched first" tour, in one place so that
// ConsoleView only calls this.
import { onScopeDispose, ref } from 'vue'
import type { ApiClient } from '../api'
import type { Moment } from '../api/coverage'
import type { Commands } from '../keys'
import type { CameraFeed } from '../sites/useCameras'
import { useLeastWatched } from '../tour/leastWatched'
import type { ToursState } from '../tour/useTours'
import type { WallState } from '../wall/useWall'
import { useCoverage } from './useCoverage'
import { browserScreen, useWatch } from './useWatch'

export function useCoverageConsole(api: ApiClient, wall: WallState, tours: ToursState, feed: Pick<CameraFeed, 'cameras'>, commands: Commands) {
  const screen = browserScreen()
  const watching = useWatch({ tiles: wall.tiles, focused: wall.focused, screen, put: (v) => api.putWatching(v) })
  const open = ref(false)
  const least = useLeastWatched(tours, {
    cameras: () => feed.cameras.value.map((c) => `${c.site}/${c.id}`),
    lastWatched: (c) => coverage.lastWatched(c),
  })
  const coverage = useCoverage({
    api,
    visible: watching.visible,
    // A running tour goes to the moment at once; the banner stays until seen.
    due: (m) => void least.jumpTo(m.cameras.map((c) => `${m.site}/${c}`)),
  })
  void coverage.refresh()

  /** J: the moment's first camera on screen, in the tour or enlarged on the wall. */
  function go(m: Moment | undefined = coverage.dueMoment.value): void {
    if (!m || m.cameras.length === 0) return
    const cams = m.cameras.map((c) => `${m.site}/${c}`)
    if (!least.jumpTo(cams)) {
      wall.assign(wall.selected.value, cams[0]!)
      wall.focused.value = wall.selected.value
    }
    coverage.dismiss(m.id)
  }
  commands['coverage.open'] = () => {
    open.value = !open.value
    if (open.value) void coverage.refresh()
  }
  commands['moment.go'] = () => go()
  commands['tour.leastWatched'] = () => void least.start()
  // The officer's own tiles change: the panel shows it at once (useCoverage),
  // and the relay's view of everyone's soon after the backend forwards it.
  onScopeDispose(() => (open.value = false))
  return { watching, coverage, open, go, startLeastWatched: () => least.start() }
}

export type CoverageConsole = ReturnType<typeof useCoverageConsole>
