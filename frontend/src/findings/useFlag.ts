// The quick flag (f): the picture is taken at the key, then the picker
// opens on the zone's catalogue of deviations (the open checklist's first)
// with the last one used already chosen. Enter files the finding, which is
// the check's when one goes on on that camera (runLink.ts).
import { ref, shallowRef } from 'vue'
import { detailOf, type ApiClient, type Finding, type FlagRequest, type Template } from '../api'
import type { Say } from '../console/useNotice'
import { useSubmit } from '../console/useSubmit'
import { currentLocale, failedText, i18n, localName } from '../i18n'
import { shownFrame } from '../player'
import { captureTile } from './capture'
import { catalogue, flagRequest, type CatalogueEntry, type FlagDraft, type Frame } from './flag'
import { fileOnOpenRun } from './runLink'

export interface FlagOptions {
  /** Files the finding (useFindings' file). */
  file(r: FlagRequest): Promise<Finding>
  say: Say
  /** A camera's zone, whose checklists make the catalogue. */
  zoneOf(camera: string): string
  /** The template of the checklist open on the camera, if any: its deviations come first. */
  openTemplate(camera: string): string | undefined
}

export function useFlag(api: ApiClient, opts: FlagOptions) {
  const camera = ref('')
  const entries = shallowRef<CatalogueEntry[]>([])
  const shot = shallowRef<Promise<Frame>>()
  const preview = ref('')
  const { busy, error, submit } = useSubmit()
  const file = fileOnOpenRun(api, opts.file, (err) => opts.say(failedText(err)))
  /** The deviation last filed, chosen first next time. */
  const lastDeviation = ref('')

  // Templates by zone, for the catalogue.
  const templatesByZone = new Map<string, Template[]>()
  async function templatesFor(zone: string): Promise<Template[]> {
    let list = templatesByZone.get(zone)
    if (!list) {
      try {
        list = await api.checklists(zone)
        templatesByZone.set(zone, list)
      } catch {
        // A backend without checklists: free text only.
        list = []
      }
    }
    return list
  }

  /**
   * Takes the picture the tile shows and readies the picker; resolves true
   * when the picker is to open (not when a later f took over meanwhile).
   */
  async function start(tileIndex: number, tileCamera: string | null | undefined): Promise<boolean> {
    const { t } = i18n.global
    if (!tileCamera) {
      opts.say(t('flag.noTile'))
      return false
    }
    const tileId = `tile-${tileIndex + 1}`
    if (!shownFrame(tileId)) {
      opts.say(t('flag.noPicture'))
      return false
    }
    const taken = captureTile(tileId)
    shot.value = taken
    camera.value = tileCamera
    error.value = ''
    preview.value = ''
    taken.then(
      (f) => {
        if (shot.value === taken && f.jpegBase64) preview.value = `data:image/jpeg;base64,${f.jpegBase64}`
      },
      (err) => {
        if (shot.value === taken) error.value = t('flag.snapshotFailed', { message: detailOf(err) })
      },
    )
    entries.value = catalogue(await templatesFor(opts.zoneOf(tileCamera)), opts.openTemplate(tileCamera))
    return shot.value === taken
  }

  /** Files the draft with the picture; resolves true once the backend has it. */
  function save(d: FlagDraft): Promise<boolean> {
    return submit(async () => {
      const frame = await shot.value!
      const text = d.entry ? localName(d.entry.deviation.text, currentLocale()) : d.freeText
      await file(flagRequest(d, frame, text))
      if (d.entry) lastDeviation.value = d.entry.deviation.id
    })
  }

  return { camera, entries, preview, busy, error, lastDeviation, start, save }
}

export type FlagState = ReturnType<typeof useFlag>
