import { describe, expect, it } from 'vitest'
import { grids, type Grid } from '../api'
import {
  assign,
  columns,
  emptyWall,
  filledWall,
  firstEmpty,
  fromLayout,
  maxCells,
  nameProblem,
  neighbour,
  nextTile,
  parseWall,
  resize,
  shown,
  stepGrid,
  swap,
  toLayout,
  type Direction,
} from './layout'
import { defaultWall } from './defaults'

const cams = Array.from({ length: 30 }, (_, i) => `site-${String(Math.floor(i / 4) + 1).padStart(2, '0')}/cam${i % 4}`)

describe('grid sizes', () => {
  it('are the squares 1, 4, 9, 16 and 25', () => {
    expect(grids.map((g) => [g, columns(g)])).toEqual([
      [1, 1],
      [4, 2],
      [9, 3],
      [16, 4],
      [25, 5],
    ])
  })

  const steps: [Grid, 1 | -1, Grid][] = [
    [1, 1, 4],
    [4, 1, 9],
    [16, 1, 25],
    [25, 1, 25],
    [25, -1, 16],
    [4, -1, 1],
    [1, -1, 1],
  ]
  for (const [from, step, want] of steps) it(`${from} ${step > 0 ? 'up' : 'down'} is ${want}`, () => expect(stepGrid(from, step)).toBe(want))

  it('every grid shows exactly that many tiles', () => {
    for (const g of grids) {
      const w = filledWall(g, cams)
      expect(shown(w)).toEqual(cams.slice(0, g))
      expect(w.cells).toHaveLength(maxCells)
    }
  })
})

describe('resizing', () => {
  it('keeps the cameras of hidden tiles for when the grid grows again', () => {
    const w16 = filledWall(16, cams)
    const w4 = resize(w16, 4)
    expect(shown(w4)).toEqual(cams.slice(0, 4))
    expect(shown(resize(w4, 16))).toEqual(cams.slice(0, 16))
  })

  it('grows into empty tiles', () => {
    expect(shown(resize(filledWall(4, cams), 9))).toEqual([...cams.slice(0, 4), null, null, null, null, null])
  })
})

describe('assigning', () => {
  it('puts a camera in one tile and leaves the wall it came from alone', () => {
    const w = emptyWall(4)
    const w2 = assign(w, 2, 'site-01/doff1')
    expect(shown(w2)).toEqual([null, null, 'site-01/doff1', null])
    expect(shown(w)).toEqual([null, null, null, null])
  })

  it('clears a tile', () => {
    expect(shown(assign(filledWall(4, cams), 0, null))[0]).toBeNull()
  })

  const outside = [-1, 4, 1.5, Number.NaN]
  for (const i of outside) it(`ignores tile ${i} outside a 4-grid`, () => {
    const w = filledWall(4, cams)
    expect(assign(w, i, 'x/y')).toBe(w)
  })

  it('swaps two tiles (a drag from tile to tile)', () => {
    const w = swap(filledWall(4, cams), 0, 3)
    expect(shown(w)).toEqual([cams[3], cams[1], cams[2], cams[0]])
    expect(swap(w, 1, 1)).toBe(w)
    expect(swap(w, 1, 9)).toBe(w)
  })

  it('swaps a camera into an empty tile', () => {
    expect(shown(swap(filledWall(4, cams.slice(0, 2)), 0, 3))).toEqual([null, cams[1], null, cams[0]])
  })

  it('finds the first empty tile and the next tile', () => {
    const w = assign(filledWall(4, cams), 1, null)
    expect(firstEmpty(w)).toBe(1)
    expect(firstEmpty(filledWall(4, cams))).toBe(-1)
    expect(nextTile(w, 2)).toBe(3)
    expect(nextTile(w, 3)).toBe(0)
  })
})

describe('arrow keys', () => {
  // On a 3×3 grid:  0 1 2 / 3 4 5 / 6 7 8
  const cases: [Grid, number, Direction, number][] = [
    [9, 4, 'up', 1],
    [9, 4, 'down', 7],
    [9, 4, 'left', 3],
    [9, 4, 'right', 5],
    [9, 1, 'up', 1],
    [9, 7, 'down', 7],
    [9, 3, 'left', 3],
    [9, 5, 'right', 5],
    [16, 3, 'right', 3],
    [16, 4, 'left', 4],
    [16, 12, 'down', 12],
    [1, 0, 'right', 0],
    [25, 24, 'up', 19],
  ]
  for (const [grid, from, dir, want] of cases) it(`${dir} from ${from} on ${grid} is ${want}`, () => expect(neighbour(grid, from, dir)).toBe(want))
})

describe('save and restore', () => {
  it('saves what is shown, without trailing empty tiles', () => {
    let w = filledWall(9, cams.slice(0, 3))
    w = assign(w, 1, null)
    expect(toLayout('night', w)).toEqual({ name: 'night', grid: 9, tiles: [cams[0], null, cams[2]] })
    expect(toLayout('blank', emptyWall(4))).toEqual({ name: 'blank', grid: 4, tiles: [] })
  })

  it('restores a saved layout exactly', () => {
    const saved = toLayout('x', assign(filledWall(16, cams), 5, null))
    const back = fromLayout(saved)
    expect(toLayout('x', back)).toEqual(saved)
    expect(shown(back)).toHaveLength(16)
  })

  it('restores into a wall, keeping its cameras beyond the layout’s grid', () => {
    const w = fromLayout({ name: 'one', grid: 1, tiles: ['site-09/gate'] }, filledWall(16, cams))
    expect(shown(w)).toEqual(['site-09/gate'])
    expect(shown(resize(w, 4))).toEqual(['site-09/gate', cams[1], cams[2], cams[3]])
  })

  it('fills short tile lists with empty tiles', () => {
    expect(shown(fromLayout({ name: 'x', grid: 4, tiles: ['a/b'] }, filledWall(4, cams)))).toEqual(['a/b', null, null, null])
  })

  it('reads a wall back from storage, refusing what is not one', () => {
    const w = filledWall(9, cams)
    expect(parseWall(JSON.parse(JSON.stringify(w)))).toEqual(w)
    expect(parseWall({ grid: 6, cells: [] })).toBeUndefined()
    expect(parseWall({ grid: 4 })).toBeUndefined()
    expect(parseWall('x')).toBeUndefined()
    expect(parseWall(null)).toBeUndefined()
    expect(shown(parseWall({ grid: 4, cells: ['a/b', 7, 'no-slash', null] })!)).toEqual(['a/b', null, null, null])
  })
})

describe('names', () => {
  const cases: [string, ReturnType<typeof nameProblem>][] = [
    ['夜班 4 画面', undefined],
    ['night-4', undefined],
    ['', 'empty'],
    ['   ', 'empty'],
    ['a/b', 'badCharacter'],
    ['a\\b', 'badCharacter'],
    ['tab\there', 'badCharacter'],
    ['x'.repeat(64), undefined],
    ['x'.repeat(65), 'tooLong'],
    ['东'.repeat(64), undefined],
  ]
  for (const [name, want] of cases) it(`${JSON.stringify(name).slice(0, 20)} → ${want ?? 'fine'}`, () => expect(nameProblem(name)).toBe(want))
})

describe('the first wall', () => {
  const cam = (site: string, id: string) =>
    ({ site, id, zone: '', name: { 'zh-CN': id, en: id }, site_name: { 'zh-CN': site, en: site }, district: { 'zh-CN': 'd', en: 'd' }, time_zone: 'UTC', online: true, state: 'online', streams: {} }) as const

  const cases: { n: number; grid: number }[] = [
    { n: 0, grid: 1 },
    { n: 1, grid: 1 },
    { n: 2, grid: 4 },
    { n: 4, grid: 4 },
    { n: 5, grid: 9 },
    { n: 12, grid: 16 },
    { n: 40, grid: 16 },
  ]
  for (const c of cases) {
    it(`${c.n} cameras get ${c.grid} tiles`, () => {
      const cams = Array.from({ length: c.n }, (_, i) => cam('s', `c${i}`))
      const w = defaultWall(cams, '')
      expect(w.grid).toBe(c.grid)
      expect(shown(w).filter(Boolean)).toHaveLength(Math.min(c.n, c.grid))
    })
  }

  it('puts the default camera first', () => {
    const cams = [cam('s', 'a'), cam('s', 'b'), cam('s', 'c')]
    expect(shown(defaultWall(cams, 's/c'))).toEqual(['s/c', 's/a', 's/b', null])
    expect(shown(defaultWall(cams, 's/zz'))).toEqual(['s/a', 's/b', 's/c', null])
  })
})
