// The snapshot of a finding: the exact frame on screen when the key was
// pressed, as JPEG. toBlob copies the canvas at the call, so a frame drawn
// while it encodes does not get in.

/** What capture needs of a canvas; HTMLCanvasElement has it. */
export interface CanvasLike {
  width: number
  height: number
  toBlob(callback: (blob: Blob | null) => void, type?: string, quality?: number): void
}

export interface Snapshot {
  jpeg: Blob
  width: number
  height: number
}

export const snapshotQuality = 0.9

/** Encodes what the canvas shows now as JPEG. */
export function captureCanvas(canvas: CanvasLike, quality = snapshotQuality): Promise<Snapshot> {
  const width = canvas.width
  const height = canvas.height
  return new Promise((resolve, reject) => {
    if (width === 0 || height === 0) {
      reject(new Error('snapshot: the tile has no picture yet'))
      return
    }
    canvas.toBlob(
      (blob) => {
        if (!blob) reject(new Error('snapshot: the canvas could not be encoded'))
        else if (blob.type !== 'image/jpeg') reject(new Error(`snapshot: encoded as ${blob.type || 'unknown'}, not JPEG`))
        else resolve({ jpeg: blob, width, height })
      },
      'image/jpeg',
      quality,
    )
  })
}

/** Base64 of bytes, as the flag request's `snapshot` takes it. */
export function base64(bytes: Uint8Array): string {
  let bin = ''
  const chunk = 0x8000
  for (let i = 0; i < bytes.length; i += chunk) bin += String.fromCharCode(...bytes.subarray(i, i + chunk))
  return btoa(bin)
}

/** The width and height a JPEG's frame header (SOFn) gives, or undefined when it is not a JPEG. */
export function jpegSize(b: Uint8Array): { width: number; height: number } | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined
  let i = 2
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined
    const marker = b[i + 1]!
    if (marker === 0xff) {
      i++
      continue
    }
    const len = (b[i + 2]! << 8) | b[i + 3]!
    // SOF0…SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > b.length) return undefined
      return { height: (b[i + 5]! << 8) | b[i + 6]!, width: (b[i + 7]! << 8) | b[i + 8]! }
    }
    i += 2 + len
  }
  return undefined
}
