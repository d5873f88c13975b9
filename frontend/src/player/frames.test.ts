import { describe, expect, it } from 'vitest'
import { FrameLoop, type AnimationFrames } from './frames'

// Animation frames that fire when the test says a repaint happens.
function repaints() {
  const queued = new Map<number, () => void>()
  let seq = 0
  const frames: AnimationFrames = {
    request: (cb) => {
      queued.set(++seq, cb)
      return seq
    },
    cancel: (h) => void queued.delete(h),
  }
  return {
    frames,
    get waiting() {
      return queued.size
    },
    paint() {
      const cbs = [...queued.values()]
      queued.clear()
      cbs.forEach((cb) => cb())
    },
  }
}

describe('FrameLoop', () => {
  it('runs every tile’s draw in one animation frame', () => {
    const r = repaints()
    const loop = new FrameLoop(r.frames)
    const drawn: number[] = []
    for (let i = 0; i < 16; i++) loop.request(() => drawn.push(i))
    expect(r.waiting).toBe(1)
    r.paint()
    expect(drawn).toHaveLength(16)
    expect(loop.frames).toBe(1)
    expect(r.waiting).toBe(0)
  })

  it('schedules a draw requested during a frame for the next one', () => {
    const r = repaints()
    const loop = new FrameLoop(r.frames)
    let second = false
    loop.request(() => loop.request(() => (second = true)))
    r.paint()
    expect(second).toBe(false)
    expect(r.waiting).toBe(1)
    r.paint()
    expect(second).toBe(true)
  })

  it('forgets a cancelled draw, and the frame when none is left', () => {
    const r = repaints()
    const loop = new FrameLoop(r.frames)
    let ran = 0
    const a = loop.request(() => ran++)
    const b = loop.request(() => ran++)
    loop.cancel(a)
    expect(r.waiting).toBe(1)
    loop.cancel(b)
    expect(r.waiting).toBe(0)
    r.paint()
    expect(ran).toBe(0)
  })

  it('keeps drawing the other tiles when one draw throws', () => {
    const r = repaints()
    const loop = new FrameLoop(r.frames)
    let after = false
    loop.request(() => {
      throw new Error('closed frame')
    })
    loop.request(() => (after = true))
    r.paint()
    expect(after).toBe(true)
    expect(loop.errors).toBe(1)
  })
})
