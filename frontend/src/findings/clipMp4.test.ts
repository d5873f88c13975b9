import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ClipFormatError, readClip } from './clipMp4'

// A real fragmented MP4 made by ffmpeg: 3 s at 10 fps, a keyframe a second,
// a fragment at each keyframe (the console's own writer is exercised by the
// window test in e2e/desktop_clip_test.go).
function ffmpegClip(movflags: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'qly-clip-'))
  const out = join(dir, 'clip.mp4')
  execFileSync('ffmpeg', [
    '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=10', '-t', '3',
    '-c:v', 'libx264', '-profile:v', 'baseline', '-g', '10', '-pix_fmt', 'yuv420p',
    '-movflags', movflags, '-y', out,
  ]) // prettier-ignore
  return new Uint8Array(readFileSync(out))
}

/** The NAL unit types of an Annex-B access unit. */
function nalTypes(au: Uint8Array): number[] {
  const types: number[] = []
  for (let i = 0; i + 4 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 0 && au[i + 3] === 1) types.push(au[i + 4]! & 0x1f)
  }
  return types
}

describe('readClip', () => {
  const whole = ffmpegClip('frag_keyframe+empty_moov+default_base_moof')

  it('reads every frame with its time and keyframes as Annex-B with the parameter sets', () => {
    const c = readClip(whole)
    expect([c.codec.slice(0, 7), c.width, c.height]).toEqual(['avc1.42', 320, 240])
    expect(c.samples).toHaveLength(30)
    expect(c.duration).toBe(3_000_000)
    expect(c.samples.map((s) => s.pts)).toEqual(Array.from({ length: 30 }, (_, i) => i * 100_000))
    expect(c.samples.filter((s) => s.keyframe).map((s) => s.pts)).toEqual([0, 1_000_000, 2_000_000])
    const key = nalTypes(c.samples[0]!.data)
    expect(key.slice(0, 2)).toEqual([7, 8])
    expect(key).toContain(5)
    expect(nalTypes(c.samples[1]!.data)).not.toContain(7)
  })

  it('keeps the whole frames of a clip cut short in its last fragment', () => {
    const c = readClip(whole.slice(0, whole.length - 2000))
    expect(c.samples.length).toBeGreaterThan(20)
    expect(c.samples.length).toBeLessThan(30)
    expect(c.samples[0]!.keyframe).toBe(true)
  })

  it('refuses what is not an MP4 clip', () => {
    expect(() => readClip(new TextEncoder().encode('{"error":"not_found"}'))).toThrow(ClipFormatError)
  })
})
