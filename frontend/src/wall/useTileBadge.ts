// What a tile says about its stream, in words: the badge (the bridge's
// state checked against the camera list's), and the state and its reason as
// the officer reads them, with the site's time for "since".
import { computed, type ComputedRef, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import type { Camera } from '../api'
import { siteTime } from '../i18n'
import { defaultStallAfterMs, type TileState } from '../player'
import { tileBadge } from './badge'

export function useTileBadge(
  tile: Readonly<{ cameraId: string | null }>,
  camera: ComputedRef<Camera | undefined>,
  bridge: Readonly<Ref<TileState>>,
  now: Readonly<Ref<Date>>,
) {
  const { t, te } = useI18n()
  const badge = computed<TileState>(() => (tile.cameraId ? tileBadge(bridge.value, camera.value) : { state: 'offline', reason: '' }))
  const shownState = computed(() => (tile.cameraId ? badge.value.state : 'empty'))

  const stateText = computed(() => {
    const s = badge.value
    const tz = camera.value?.time_zone ?? 'Asia/Shanghai'
    const time = s.since ? siteTime(s.since, tz, now.value) : ''
    switch (s.state) {
      case 'live':
        return t('state.live')
      case 'connecting':
        return s.reason === 'bridge_lost' && time ? t('state.reconnecting', { time }) : t('state.connecting')
      case 'stalled':
        return time ? t('state.stalled', { time }) : t('state.stalledNoTime')
      case 'offline':
        return time ? t('state.offline', { time }) : t('state.offlineNoTime')
    }
    return ''
  })

  const reasonText = computed(() => {
    const r = badge.value.reason
    if (!r || badge.value.state === 'live') return ''
    const key = `reason.${r}`
    return te(key) ? t(key, { seconds: defaultStallAfterMs / 1000 }) : r
  })

  // A stalled or offline picture gets its state across the middle, over the
  // last frame: a frozen picture must never pass for a live one.
  const troubled = computed(() => tile.cameraId !== null && (badge.value.state === 'stalled' || badge.value.state === 'offline'))

  return { badge, shownState, stateText, reasonText, troubled }
}
