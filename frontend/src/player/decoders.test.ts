import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DecoderPool } from './decoders'
import { FakeDecoder, stubVideoDecoding } from '../testing/video'

beforeEach(() => stubVideoDecoding())
afterEach(() => vi.unstubAllGlobals())

describe('DecoderPool', () => {
  it('makes decoders configured ahead and hands each to one taker, its frames to the taker’s callbacks', async () => {
    const pool = new DecoderPool()
    await pool.fill(2)
    expect(FakeDecoder.all.map((d) => d.configures)).toEqual([1, 1])
    expect(pool.size).toBe(2)
    const out: number[] = []
    const d = pool.take({ output: (f) => out.push(f.timestamp), error: () => {} }) as unknown as FakeDecoder
    expect(FakeDecoder.all.slice(0, 2)).toContain(d)
    d.decode({ timestamp: 5 })
    d.out()
    expect(out).toEqual([5])
    expect(pool.size).toBe(1)
    await pool.fill(2)
    expect(FakeDecoder.all).toHaveLength(3)
  })

  it('makes a new decoder when none is ready, and never hands out one that failed', async () => {
    const pool = new DecoderPool()
    await pool.fill(1)
    FakeDecoder.all[0]!.fail(new Error('lost'))
    expect(pool.size).toBe(0)
    const d = pool.take({ output: () => {}, error: () => {} }) as unknown as FakeDecoder
    expect(d).not.toBe(FakeDecoder.all[0])
    expect(d.configures).toBe(0)
  })
})
