import { shownFrame } from '../player'
import type { Frame } from './flag'
import { base64, captureCanvas } from './snapshot'

/** Why a tile gave no picture: a message key. */
export class NoPicture extends Error {
  constructor(readonly key: string) {
    super(key)
    this.name = 'NoPicture'
  }
}

/**
 * Takes the frame a tile shows at this moment, for a finding: its PTS is
 * read and its pixels copied before this returns (toBlob copies the canvas
 * at the call), and the JPEG follows.
 */
export function captureTile(tileId: string): Promise<Frame> {
  const shown = shownFrame(tileId)
  if (!shown) return Promise.reject(new NoPicture('flag.noPicture'))
  const encoded = captureCanvas(shown.canvas)
  return encoded.then(async (s) => ({
    camera: shown.camera,
    stream: shown.stream === 'main' ? 'main' : 'sub',
    ptsUs: shown.ptsUs,
    jpegBase64: base64(new Uint8Array(await s.jpeg.arrayBuffer())),
    width: s.width,
    height: s.height,
  }))
}
