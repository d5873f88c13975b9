// The video wall as data: a grid size and which camera each cell shows.
// The wall keeps all 25 cells whatever the grid, so going from 16 tiles to 4
// and back brings the other twelve cameras back. Every function returns a new
// wall; nothing here touches the screen.
import { grids, isCameraKey, type Grid, type Layout } from '../api'

export const maxCells = 25

export interface Wall {
  grid: Grid
  /** maxCells entries: "SITE/CAMERA" or null; only the first `grid` are shown. */
  cells: readonly (string | null)[]
}

export type Direction = 'up' | 'down' | 'left' | 'right'

export function isGrid(n: unknown): n is Grid {
  return grids.includes(n as Grid)
}

/** Tiles a row (and rows): the grids are squares. */
export function columns(grid: Grid): number {
  return Math.sqrt(grid)
}

export function emptyWall(grid: Grid = 4): Wall {
  return { grid, cells: Array<string | null>(maxCells).fill(null) }
}

/** The cameras on screen, tile by tile. */
export function shown(w: Wall): (string | null)[] {
  return w.cells.slice(0, w.grid)
}

/** A wall of `grid` tiles filled with the first cameras. */
export function filledWall(grid: Grid, cameras: readonly string[]): Wall {
  return withCells(grid, cameras.slice(0, grid))
}

export function resize(w: Wall, grid: Grid): Wall {
  return { grid, cells: w.cells }
}

/** The next grid size up (+1) or down (-1), stopping at the ends. */
export function stepGrid(grid: Grid, step: 1 | -1): Grid {
  const i = grids.indexOf(grid) + step
  return grids[Math.min(grids.length - 1, Math.max(0, i))]!
}

/** Puts a camera (or nothing) in tile `index` (0-based). Out of range: unchanged. */
export function assign(w: Wall, index: number, camera: string | null): Wall {
  if (!inRange(w, index)) return w
  const cells = [...w.cells]
  cells[index] = camera
  return { grid: w.grid, cells }
}

/** Swaps two tiles: a tile dragged onto another. */
export function swap(w: Wall, from: number, to: number): Wall {
  if (!inRange(w, from) || !inRange(w, to) || from === to) return w
  const cells = [...w.cells]
  ;[cells[from], cells[to]] = [cells[to]!, cells[from]!]
  return { grid: w.grid, cells }
}

/** The tile after `index` in reading order, wrapping: where the next picked camera goes. */
export function nextTile(w: Wall, index: number): number {
  return (index + 1) % w.grid
}

/** The first empty tile on screen, or -1. */
export function firstEmpty(w: Wall): number {
  return shown(w).indexOf(null)
}

/** The tile an arrow key moves to; the edges stop it. */
export function neighbour(grid: Grid, index: number, dir: Direction): number {
  const n = columns(grid)
  const row = Math.floor(index / n)
  const col = index % n
  switch (dir) {
    case 'up':
      return row > 0 ? index - n : index
    case 'down':
      return row < n - 1 ? index + n : index
    case 'left':
      return col > 0 ? index - 1 : index
    case 'right':
      return col < n - 1 ? index + 1 : index
  }
}

/** The wall as a named layout, as the backend stores it: trailing empty tiles left out. */
export function toLayout(name: string, w: Wall): Layout {
  const tiles = shown(w)
  while (tiles.length > 0 && tiles[tiles.length - 1] === null) tiles.pop()
  return { name, grid: w.grid, tiles }
}

/** A saved layout on the wall. Cells beyond its grid keep what the wall had there. */
export function fromLayout(l: Layout, keep: Wall = emptyWall(l.grid)): Wall {
  const cells = [...keep.cells]
  for (let i = 0; i < l.grid; i++) cells[i] = l.tiles[i] ?? null
  return { grid: l.grid, cells }
}

export type NameProblem = 'empty' | 'tooLong' | 'badCharacter'

export const maxNameLength = 64

/** What is wrong with a layout or tour name, or undefined. Names go in URL paths and menus. */
export function nameProblem(name: string): NameProblem | undefined {
  const n = name.trim()
  if (n === '') return 'empty'
  if ([...n].length > maxNameLength) return 'tooLong'
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(n)) return 'badCharacter'
  return undefined
}

/** A wall read back from storage, or undefined when it is not one. */
export function parseWall(v: unknown): Wall | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as { grid?: unknown; cells?: unknown }
  if (!isGrid(o.grid) || !Array.isArray(o.cells)) return undefined
  const cells = o.cells.slice(0, maxCells).map((c) => (typeof c === 'string' && isCameraKey(c) ? c : null))
  return withCells(o.grid, cells)
}

function withCells(grid: Grid, first: readonly (string | null)[]): Wall {
  const cells = Array<string | null>(maxCells).fill(null)
  first.forEach((c, i) => (cells[i] = c))
  return { grid, cells }
}

function inRange(w: Wall, index: number): boolean {
  return Number.isInteger(index) && index >= 0 && index < w.grid
}
