// The wall at start-up: the one the officer had (kept across reloads), or
// what the address asks for (?layout=, ?grid=, ?tour=: a wall display that
// boots into its tour), or else a first wall of the cameras.
import { watch } from 'vue'
import type { CameraFeed } from '../sites/useCameras'
import type { ToursState } from '../tour/useTours'
import { defaultWall } from './defaults'
import { isGrid } from './layout'
import type { LayoutsState } from './useLayouts'
import type { WallState } from './useWall'

export interface FirstWallOptions {
  feed: Pick<CameraFeed, 'loaded' | 'cameras'>
  layouts: LayoutsState
  tours: ToursState
  /** The backend's default camera, first on a first wall. */
  defaultCamera: string
  /** The address's query. */
  address: URLSearchParams
}

export function useFirstWall(wall: WallState, opts: FirstWallOptions) {
  const { feed, address } = opts
  let started = false

  function firstWall(): void {
    wall.setOwn(defaultWall(feed.cameras.value, opts.defaultCamera))
  }

  function asked(): void {
    const grid = Number(address.get('grid'))
    if (isGrid(grid)) wall.setGrid(grid)
  }

  /**
   * Sets the wall up, and reads the saved layouts and tours. Only a wall the
   * address names (?layout=) waits for them: a first wall needs the camera
   * list alone, so its tiles open their video while the rest still loads
   * (before issue 10 every start waited for both lists, one more round trip
   * before any video socket opened).
   */
  async function start(): Promise<void> {
    const layout = address.get('layout')
    const tour = address.get('tour')
    const saved = Promise.all([opts.layouts.load(), opts.tours.load()])
    if (!layout) {
      if (!wall.restoredFromStorage && feed.loaded.value) firstWall()
      asked()
      started = true
    }
    await saved
    if (layout) {
      const l = opts.layouts.list.value.find((x) => x.name === layout)
      if (l) wall.restore(l)
      else if (!wall.restoredFromStorage && feed.loaded.value) firstWall()
      asked()
      started = true
    }
    if (tour) opts.tours.start(tour)
  }

  watch([feed.loaded, () => feed.cameras.value.length], ([loaded, count]) => {
    // The list came after the layouts, or came empty first (the window opens
    // while its backend is still signing in): the first wall still wants cameras.
    if (loaded && count > 0 && started && !wall.restoredFromStorage && wall.tiles.value.every((c) => c === null) && !address.get('layout')) {
      firstWall()
      asked()
    }
  })

  return { start }
}
