import { describe, expect, it } from 'vitest'
import { NewPictures } from './player'

describe('NewPictures', () => {
  it('takes only frames later than every one before', () => {
    const p = new NewPictures()
    // A GOP, then the same GOP handed over again, then the next frame.
    const gop = [0, 66_666, 133_333]
    expect(gop.map((pts) => p.take(pts))).toEqual([true, true, true])
    expect(gop.map((pts) => p.take(pts))).toEqual([false, false, false])
    expect(p.take(200_000)).toBe(true)
  })

  it('starts over on a new connection', () => {
    const p = new NewPictures()
    expect(p.take(5_000_000)).toBe(true)
    p.reset()
    expect(p.take(0)).toBe(true)
  })
})
