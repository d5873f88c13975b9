import { describe, expect, it } from 'vitest'
import { effectScope, nextTick, ref } from 'vue'
import { optionId, useTreeCursor } from './useTreeCursor'

const rows = (...keys: string[]) => keys.map((key) => ({ key }))

describe('useTreeCursor', () => {
  it('follows the tile in use, stays in the list as it shrinks, and leaves the officer’s arrows alone', async () => {
    const list = ref(rows('s/a', 's/b', 's/c', 's/d'))
    const current = ref<string | null>('s/c')
    let focused = false
    const revealed: string[] = []
    const c = effectScope().run(() => useTreeCursor(list, () => current.value, { listFocused: () => focused, reveal: (id) => revealed.push(id) }))!
    expect(c.active.value).toBe(2)
    expect(c.activeId.value).toBe(optionId('s/c'))
    current.value = 's/a'
    await nextTick()
    expect(c.active.value).toBe(0)
    c.move(10)
    expect(c.active.value).toBe(3)
    await nextTick()
    expect(revealed.at(-1)).toBe(optionId('s/d'))
    // A camera's state changing while the officer's keys are in the list moves nothing.
    focused = true
    list.value = rows('s/a', 's/b', 's/c', 's/d')
    await nextTick()
    expect(c.active.value).toBe(3)
    focused = false
    // The tile in use shows a camera the list no longer has: the highlight stays in the list.
    current.value = 's/gone'
    list.value = rows('s/a', 's/b')
    await nextTick()
    expect(c.active.value).toBe(1)
  })

  it('reveals a row only when the highlight moved: the list changes with every camera’s health', async () => {
    const list = ref(rows('s/a', 's/b', 's/c'))
    const current = ref<string | null>('s/b')
    const revealed: string[] = []
    effectScope().run(() => useTreeCursor(list, () => current.value, { listFocused: () => false, reveal: (id) => revealed.push(id) }))
    await nextTick()
    expect(revealed).toEqual([optionId('s/b')])
    for (let i = 0; i < 3; i++) {
      list.value = rows('s/a', 's/b', 's/c')
      await nextTick()
    }
    expect(revealed).toEqual([optionId('s/b')])
    // A camera ahead of it gone: the row moved up, and is revealed.
    list.value = rows('s/b', 's/c')
    await nextTick()
    await nextTick()
    expect(revealed).toEqual([optionId('s/b'), optionId('s/b')])
  })

  it('names rows with ids a selector can hold', () => {
    expect(optionId('site-01/doff 1')).toBe('cam-site-01_doff_1')
  })
})
