// The re-check's evidence (issue 11): the frame of the finding's camera on
// screen when the officer verifies or reopens it, taken as a flag's is, and
// where it is (camera, stream, PTS) for the backend to cut the clip around.
import type { RecheckShot } from '../api'
import { shownFrame } from '../player'
import { captureTile } from './capture'

/** The most tiles a wall has (5×5). */
const maxTiles = 25

/**
 * The frame a tile showing camera ("SITE/CAMERA") shows now, as a JPEG;
 * undefined when no tile shows it with a picture, or the picture could not
 * be taken: the re-check is recorded all the same, without one.
 */
export async function captureCamera(camera: string): Promise<RecheckShot | undefined> {
  for (let i = 1; i <= maxTiles; i++) {
    const id = `tile-${i}`
    if (shownFrame(id)?.camera !== camera) continue
    try {
      const f = await captureTile(id)
      if (f.jpegBase64) return { jpegBase64: f.jpegBase64, width: f.width ?? 0, height: f.height ?? 0, camera: f.camera, stream: f.stream, ptsUs: f.ptsUs }
    } catch {
      // Another tile may show it.
    }
  }
  return undefined
}
