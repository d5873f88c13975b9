import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { base64, captureCanvas, jpegSize, type CanvasLike } from './snapshot'

// A real JPEG of a known size, made by ffmpeg as the console's own frames are.
function ffmpegJPEG(width: number, height: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'qly-snap-'))
  const out = join(dir, 'frame.jpg')
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=1`, '-frames:v', '1', '-y', out])
  return new Uint8Array(readFileSync(out))
}

// Node has no canvas: this one hands back the bytes a real encoder made,
// so the path from toBlob to the request is exercised with a real JPEG.
function canvasOf(width: number, height: number, bytes: Uint8Array | null, type = 'image/jpeg'): CanvasLike & { asked: unknown[] } {
  const asked: unknown[] = []
  return {
    width,
    height,
    asked,
    toBlob(cb, t, q) {
      asked.push(t, q)
      setTimeout(() => cb(bytes ? new Blob([bytes as BlobPart], { type }) : null), 0)
    },
  }
}

describe('captureCanvas', () => {
  it('encodes the canvas as a JPEG of its size at quality 0.9', async () => {
    const jpeg = ffmpegJPEG(640, 360)
    const c = canvasOf(640, 360, jpeg)
    const shot = await captureCanvas(c)
    expect(c.asked).toEqual(['image/jpeg', 0.9])
    expect([shot.width, shot.height, shot.jpeg.type]).toEqual([640, 360, 'image/jpeg'])
    const bytes = new Uint8Array(await shot.jpeg.arrayBuffer())
    expect(jpegSize(bytes)).toEqual({ width: 640, height: 360 })
    // The request carries it as base64 that decodes to the same bytes.
    expect(Buffer.from(base64(bytes), 'base64').equals(Buffer.from(bytes))).toBe(true)
  })

  const refusals: [string, CanvasLike, RegExp][] = [
    ['an empty canvas', canvasOf(0, 0, new Uint8Array([1])), /no picture yet/],
    ['a failed encoding', canvasOf(640, 360, null), /could not be encoded/],
    ['a browser that gives PNG', canvasOf(640, 360, new Uint8Array([1]), 'image/png'), /image\/png, not JPEG/],
  ]
  for (const [name, c, want] of refusals) it(`refuses ${name}`, async () => expect(captureCanvas(c)).rejects.toThrow(want))
})

describe('jpegSize', () => {
  it('reads sizes from real JPEGs', () => {
    expect(jpegSize(ffmpegJPEG(320, 180))).toEqual({ width: 320, height: 180 })
    expect(jpegSize(ffmpegJPEG(1280, 720))).toEqual({ width: 1280, height: 720 })
  })
  const junk: [string, Uint8Array][] = [
    ['nothing', new Uint8Array()],
    ['a PNG signature', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])],
    ['a cut JPEG', new Uint8Array([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08])],
  ]
  for (const [name, b] of junk) it(`gives nothing for ${name}`, () => expect(jpegSize(b)).toBeUndefined())
})

describe('base64', () => {
  it('encodes large buffers in chunks like Buffer does', () => {
    const b = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff)
    expect(base64(b)).toBe(Buffer.from(b).toString('base64'))
    expect(base64(new Uint8Array())).toBe('')
  })
})
