// A tile's still (i, or the tile bar's ◉): the picture on screen kept as a
// JPEG in the download folder by the backend, since the Wails window cannot
// download. Not a finding: a finding's picture is the flag's.
import { detailOf, type ApiClient } from '../api'
import type { Say } from '../console/useNotice'
import { captureTile } from '../findings/capture'
import { i18n } from '../i18n'
import { shownFrame } from '../player'

/** Saves the still of tile tileIndex showing camera; says where it went, or why not. */
export async function saveStill(api: Pick<ApiClient, 'saveSnapshot'>, tileIndex: number, camera: string | null | undefined, say: Say): Promise<boolean> {
  const { t } = i18n.global
  const tileId = `tile-${tileIndex + 1}`
  if (!camera) {
    say(t('flag.noTile'))
    return false
  }
  if (!shownFrame(tileId)) {
    say(t('flag.noPicture'))
    return false
  }
  try {
    const frame = await captureTile(tileId)
    if (!frame.jpegBase64) throw new Error(t('flag.noPicture'))
    const saved = await api.saveSnapshot(camera, frame.jpegBase64)
    say(t('tile.stillSaved', { path: saved.path }))
    return true
  } catch (err) {
    say(t('tile.stillFailed', { message: detailOf(err) }))
    return false
  }
}
