// Reads an evidence clip: the fragmented MP4 (one H.264 track) the console's
// clip writer makes (console/clip), into samples for WebCodecs. The clip is
// played by decoding these, as the wall decodes the bridge's units, not by a
// <video> element: WebKitGTK's media player cannot load the window's own
// wails:// addresses (see docs/PROTOCOLS.md, "Evidence clips").

/** One frame of the clip, as Annex-B with SPS and PPS before each keyframe (as the bridge sends). */
export interface ClipSample {
  /** Presentation time from the clip's start, µs. */
  pts: number
  /** µs until the next frame. */
  duration: number
  keyframe: boolean
  data: Uint8Array
}

export interface Clip {
  /** The WebCodecs codec string, e.g. "avc1.42c01e". */
  codec: string
  width: number
  height: number
  /** µs, from the first frame's start to the last one's end. */
  duration: number
  samples: ClipSample[]
}

export class ClipFormatError extends Error {
  override name = 'ClipFormatError'
}

interface Box {
  type: string
  start: number
  /** Where the payload starts (after the header). */
  body: number
  end: number
}

/** The boxes in data[from, to); a box running past `to` (a clip cut short) ends the list. */
function boxes(v: DataView, from: number, to: number): Box[] {
  const out: Box[] = []
  let at = from
  while (at + 8 <= to) {
    let size = v.getUint32(at)
    const type = String.fromCharCode(v.getUint8(at + 4), v.getUint8(at + 5), v.getUint8(at + 6), v.getUint8(at + 7))
    let body = at + 8
    if (size === 1) {
      if (at + 16 > to) break
      size = Number(v.getBigUint64(at + 8))
      body = at + 16
    } else if (size === 0) {
      size = to - at
    }
    if (size < body - at || at + size > to) break
    out.push({ type, start: at, body, end: at + size })
    at += size
  }
  return out
}

function child(v: DataView, parent: Box, type: string, skip = 0): Box | undefined {
  return boxes(v, parent.body + skip, parent.end).find((b) => b.type === type)
}

function path(v: DataView, from: Box, ...types: string[]): Box | undefined {
  let b: Box | undefined = from
  for (const t of types) {
    b = b && child(v, b, t)
  }
  return b
}

interface Track {
  id: number
  timescale: number
  codec: string
  width: number
  height: number
  lengthSize: number
  paramSets: Uint8Array[]
  defaultDuration: number
  defaultSize: number
  defaultFlags: number
}

const startCode = new Uint8Array([0, 0, 0, 1])
// sample_is_non_sync_sample in the sample flags.
const nonSync = 0x10000

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0')
}

function readTrack(v: DataView, moov: Box): Track {
  const trak = child(v, moov, 'trak')
  const stsd = trak && path(v, trak, 'mdia', 'minf', 'stbl', 'stsd')
  const mdhd = trak && path(v, trak, 'mdia', 'mdhd')
  const tkhd = trak && child(v, trak, 'tkhd')
  if (!stsd || !mdhd || !tkhd) throw new ClipFormatError('clip: no video track')
  // stsd: version/flags, entry count, then the sample entries.
  const avc1 = boxes(v, stsd.body + 8, stsd.end)[0]
  if (!avc1 || (avc1.type !== 'avc1' && avc1.type !== 'avc3')) throw new ClipFormatError(`clip: not H.264 (${avc1?.type ?? 'no sample entry'})`)
  // A visual sample entry: 8 bytes of the sample entry, 16 reserved, then width and height; 78 bytes before its boxes.
  const width = v.getUint16(avc1.body + 24)
  const height = v.getUint16(avc1.body + 26)
  const avcC = child(v, avc1, 'avcC', 78)
  if (!avcC) throw new ClipFormatError('clip: no avcC')
  const c = avcC.body
  const codec = `avc1.${hex2(v.getUint8(c + 1))}${hex2(v.getUint8(c + 2))}${hex2(v.getUint8(c + 3))}`
  const lengthSize = (v.getUint8(c + 4) & 3) + 1
  const paramSets: Uint8Array[] = []
  let at = c + 5
  const nSPS = v.getUint8(at++) & 0x1f
  for (let i = 0; i < nSPS; i++) {
    const n = v.getUint16(at)
    paramSets.push(new Uint8Array(v.buffer, v.byteOffset + at + 2, n))
    at += 2 + n
  }
  const nPPS = v.getUint8(at++)
  for (let i = 0; i < nPPS; i++) {
    const n = v.getUint16(at)
    paramSets.push(new Uint8Array(v.buffer, v.byteOffset + at + 2, n))
    at += 2 + n
  }
  const version = v.getUint8(mdhd.body)
  const timescale = v.getUint32(mdhd.body + (version === 1 ? 20 : 12))
  const tkVersion = v.getUint8(tkhd.body)
  const id = v.getUint32(tkhd.body + (tkVersion === 1 ? 20 : 12))
  const trex = path(v, moov, 'mvex', 'trex')
  return {
    id,
    timescale,
    codec,
    width,
    height,
    lengthSize,
    paramSets,
    defaultDuration: trex ? v.getUint32(trex.body + 12) : 0,
    defaultSize: trex ? v.getUint32(trex.body + 16) : 0,
    defaultFlags: trex ? v.getUint32(trex.body + 20) : 0,
  }
}

/** AVCC (length-prefixed NAL units) to Annex-B, with the parameter sets ahead of a keyframe. */
function annexB(v: DataView, from: number, size: number, track: Track, keyframe: boolean): Uint8Array {
  const nalus: Uint8Array[] = keyframe ? [...track.paramSets] : []
  const end = from + size
  let at = from
  while (at + track.lengthSize <= end) {
    let n = 0
    for (let i = 0; i < track.lengthSize; i++) n = n * 256 + v.getUint8(at + i)
    at += track.lengthSize
    if (at + n > end) break
    nalus.push(new Uint8Array(v.buffer, v.byteOffset + at, n))
    at += n
  }
  const out = new Uint8Array(nalus.reduce((s, u) => s + 4 + u.length, 0))
  let o = 0
  for (const u of nalus) {
    out.set(startCode, o)
    out.set(u, o + 4)
    o += 4 + u.length
  }
  return out
}

function readFragment(v: DataView, moof: Box, track: Track, out: ClipSample[]): void {
  for (const traf of boxes(v, moof.body, moof.end).filter((b) => b.type === 'traf')) {
    const tfhd = child(v, traf, 'tfhd')
    if (!tfhd || v.getUint32(tfhd.body + 4) !== track.id) continue
    const tf = v.getUint32(tfhd.body) & 0xffffff
    let at = tfhd.body + 8
    let base = moof.start
    if (tf & 0x1) {
      base = Number(v.getBigUint64(at))
      at += 8
    }
    if (tf & 0x2) at += 4
    let defDuration = track.defaultDuration
    let defSize = track.defaultSize
    let defFlags = track.defaultFlags
    if (tf & 0x8) (defDuration = v.getUint32(at)), (at += 4)
    if (tf & 0x10) (defSize = v.getUint32(at)), (at += 4)
    if (tf & 0x20) defFlags = v.getUint32(at)
    const tfdt = child(v, traf, 'tfdt')
    let time = 0
    if (tfdt) time = v.getUint8(tfdt.body) === 1 ? Number(v.getBigUint64(tfdt.body + 4)) : v.getUint32(tfdt.body + 4)
    let dataAt = base
    for (const trun of boxes(v, traf.body, traf.end).filter((b) => b.type === 'trun')) {
      const version = v.getUint8(trun.body)
      const rf = v.getUint32(trun.body) & 0xffffff
      const count = v.getUint32(trun.body + 4)
      let p = trun.body + 8
      if (rf & 0x1) (dataAt = base + v.getInt32(p)), (p += 4)
      let firstFlags: number | undefined
      if (rf & 0x4) (firstFlags = v.getUint32(p)), (p += 4)
      for (let i = 0; i < count; i++) {
        const duration = rf & 0x100 ? v.getUint32((p += 4) - 4) : defDuration
        const size = rf & 0x200 ? v.getUint32((p += 4) - 4) : defSize
        let flags = rf & 0x400 ? v.getUint32((p += 4) - 4) : defFlags
        if (i === 0 && firstFlags !== undefined) flags = firstFlags
        const cts = rf & 0x800 ? (version === 1 ? v.getInt32((p += 4) - 4) : v.getUint32((p += 4) - 4)) : 0
        // A fragment cut short by a crash or a full disk: keep the whole samples.
        if (dataAt + size > v.byteLength) return
        const keyframe = (flags & nonSync) === 0
        out.push({
          pts: Math.round(((time + cts) * 1e6) / track.timescale),
          duration: Math.round((duration * 1e6) / track.timescale),
          keyframe,
          data: annexB(v, dataAt, size, track, keyframe),
        })
        dataAt += size
        time += duration
      }
    }
  }
}

/** Reads a whole clip file. Throws ClipFormatError for what is not one. */
export function readClip(file: ArrayBuffer | Uint8Array): Clip {
  const bytes = file instanceof Uint8Array ? file : new Uint8Array(file)
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const top = boxes(v, 0, v.byteLength)
  const moov = top.find((b) => b.type === 'moov')
  if (!moov) throw new ClipFormatError('clip: no moov box (not an MP4 clip)')
  const track = readTrack(v, moov)
  const samples: ClipSample[] = []
  for (const moof of top.filter((b) => b.type === 'moof')) readFragment(v, moof, track, samples)
  samples.sort((a, b) => a.pts - b.pts)
  const first = samples.findIndex((s) => s.keyframe)
  if (first < 0) throw new ClipFormatError('clip: no keyframe')
  // Times from the clip's first keyframe, where decoding can start.
  const kept = samples.slice(first)
  const t0 = kept[0]!.pts
  for (const s of kept) s.pts -= t0
  const last = kept[kept.length - 1]!
  return { codec: track.codec, width: track.width, height: track.height, duration: last.pts + last.duration, samples: kept }
}
