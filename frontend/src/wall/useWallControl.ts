// The officer's hands on the wall: the keys and clicks that select, move,
// enlarge, fill and swap tiles. Each is an interaction, which pauses a
// running tour (tour/useTours.ts).
import { computed } from 'vue'
import { TileNumberEntry, type Commands } from '../keys'
import { stepGrid, type Direction } from './layout'
import type { WallState } from './useWall'

const arrows: Record<string, Direction> = { ArrowUp: 'up', ArrowDown: 'down', ArrowLeft: 'left', ArrowRight: 'right' }

export interface WallControlOptions {
  /** The officer did something on the wall. */
  interacted(): void
  /** Gives the keyboard to the wall. */
  focusWall(): void
  /** Milliseconds on a monotonic clock, for two-digit tile numbers. */
  clock?: () => number
}

export function useWallControl(wall: WallState, opts: WallControlOptions) {
  const numbers = new TileNumberEntry()
  const clock = opts.clock ?? (() => performance.now())
  const { interacted } = opts

  /** Tile numbers (1-based) showing each camera, for the camera list. */
  const onWall = computed(() => {
    const m = new Map<string, number[]>()
    wall.tiles.value.forEach((c, i) => {
      if (c) m.set(c, [...(m.get(c) ?? []), i + 1])
    })
    return m
  })

  /** The tile a key acts on: the enlarged one in the focus view, else the selected one. */
  function inUse(): number {
    return wall.focused.value ?? wall.selected.value
  }

  /** Enter and double-click: a tile full size, or back to the grid. */
  function toggleFocus(i: number): void {
    interacted()
    if (wall.focused.value === i) {
      wall.focused.value = null
      return
    }
    if (!wall.tiles.value[i]) return
    wall.selected.value = i
    wall.focused.value = i
  }

  /** A camera enlarged: the tile already showing it, else the tile in use gets it. */
  function enlarge(camera: string): number {
    let i = wall.tiles.value.indexOf(camera)
    if (i < 0) {
      i = inUse()
      wall.assign(i, camera)
    }
    if (wall.focused.value !== i) {
      wall.focused.value = null
      toggleFocus(i)
    }
    return i
  }

  const commands: Commands = {
    'tile.number': (r) => {
      const i = numbers.push(r.key, wall.view.value.grid, clock())
      if (i >= 0) wall.select(i)
      interacted()
    },
    'tile.move': (r) => {
      wall.move(arrows[r.key]!)
      interacted()
    },
    'tile.focus': () => {
      if (wall.focused.value === null) toggleFocus(wall.selected.value)
    },
    // Esc walks back one level a press: a tile marked to move is put down,
    // then the focus view is left, and the keyboard stays on the wall.
    back: () => {
      if (wall.marked.value !== null) {
        wall.marked.value = null
      } else if (wall.focused.value !== null) {
        wall.focused.value = null
        interacted()
      }
      opts.focusWall()
    },
    'tile.clear': () => {
      wall.assign(wall.selected.value, null)
      interacted()
    },
    'tile.swap': () => {
      wall.markOrSwap()
      interacted()
    },
    'grid.fewer': () => {
      wall.setGrid(stepGrid(wall.view.value.grid, -1))
      interacted()
    },
    'grid.more': () => {
      wall.setGrid(stepGrid(wall.view.value.grid, 1))
      interacted()
    },
  }

  return {
    onWall,
    inUse,
    toggleFocus,
    enlarge,
    commands,
    /** A camera from the list into the selected tile. */
    assignSelected(camera: string): void {
      wall.assign(wall.selected.value, camera)
      interacted()
    },
    /** The wall's own events: a click, a camera dropped on a tile, a tile dropped on another. */
    select(i: number): void {
      wall.select(i)
      interacted()
    },
    drop(i: number, camera: string): void {
      wall.assign(i, camera)
      wall.select(i)
      interacted()
    },
    swap(from: number, to: number): void {
      wall.swap(from, to)
      wall.select(to)
      interacted()
    },
  }
}

export type WallControl = ReturnType<typeof useWallControl>
