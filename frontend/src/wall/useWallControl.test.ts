import { describe, expect, it } from 'vitest'
import { effectScope } from 'vue'
import { resolve } from '../keys'
import { filledWall } from './layout'
import { useWall } from './useWall'
import { useWallControl } from './useWallControl'

// The wall's keys and clicks on a real wall (without localStorage, as in a
// first launch), with a clock the test moves.
function setup(cameras: string[], grid: 1 | 4 | 9 | 16 | 25 = 16) {
  let now = 0
  let interactions = 0
  let focusedWall = 0
  const { wall, control } = effectScope().run(() => {
    const wall = useWall()
    wall.setOwn(filledWall(grid, cameras))
    const control = useWallControl(wall, { interacted: () => interactions++, focusWall: () => focusedWall++, clock: () => now })
    return { wall, control }
  })!
  const key = (k: string, advanceMs = 100) => {
    now += advanceMs
    const r = resolve('wall', { key: k })!
    control.commands[r.action]!(r)
  }
  return { wall, control, key, interactions: () => interactions, focusedWall: () => focusedWall }
}

const cams = Array.from({ length: 16 }, (_, i) => `s/c${i + 1}`)

describe('useWallControl', () => {
  it.each([
    { keys: ['3'], pauseMs: 100, selected: 2 },
    { keys: ['1', '6'], pauseMs: 100, selected: 15 },
    // Too slow for one number: 6 alone.
    { keys: ['1', '6'], pauseMs: 2000, selected: 5 },
  ])('selects a tile by its number: $keys, $pauseMs ms apart', ({ keys, pauseMs, selected }) => {
    const s = setup(cams)
    for (const k of keys) s.key(k, pauseMs)
    expect(s.wall.selected.value).toBe(selected)
    expect(s.interactions()).toBe(keys.length)
  })

  it('enlarges the selected tile with Enter, and Esc walks back one level a press', () => {
    const s = setup(cams)
    s.key('ArrowRight')
    s.key('Enter')
    expect(s.wall.focused.value).toBe(1)
    s.key('m')
    expect(s.wall.marked.value).toBe(1)
    // The first Esc puts the marked tile down and leaves the enlarged view open.
    s.key('Escape')
    expect(s.wall.marked.value).toBeNull()
    expect(s.wall.focused.value).toBe(1)
    s.key('Escape')
    expect(s.wall.focused.value).toBeNull()
    expect(s.focusedWall()).toBe(2)
  })

  it('does not enlarge an empty tile', () => {
    const s = setup(['s/a'], 4)
    s.control.toggleFocus(2)
    expect(s.wall.focused.value).toBeNull()
  })

  it('changes the grid and empties a tile', () => {
    const s = setup(cams.slice(0, 4), 4)
    s.key('=')
    expect(s.wall.view.value.grid).toBe(9)
    s.key('-')
    s.key('Delete')
    expect(s.wall.tiles.value).toEqual([null, 's/c2', 's/c3', 's/c4'])
  })

  it('enlarges a camera where it is shown, else in the tile in use', () => {
    const s = setup(['s/a', 's/b'], 4)
    expect(s.control.enlarge('s/b')).toBe(1)
    expect(s.wall.focused.value).toBe(1)
    expect(s.control.enlarge('s/z')).toBe(1)
    expect(s.wall.tiles.value).toEqual(['s/a', 's/z', null, null])
    expect(s.wall.focused.value).toBe(1)
  })

  it('knows which tiles show each camera', () => {
    const s = setup(['s/a', 's/b', 's/a'], 4)
    expect([...s.control.onWall.value]).toEqual([
      ['s/a', [1, 3]],
      ['s/b', [2]],
    ])
    s.control.drop(3, 's/b')
    expect(s.control.onWall.value.get('s/b')).toEqual([2, 4])
    expect(s.wall.selected.value).toBe(3)
  })
})
