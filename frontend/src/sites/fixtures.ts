// A camera as the view holds it, for the tests.
import type { Camera, CameraState } from '../api'

export function camera(site: string, id: string, state: CameraState = 'online'): Camera {
  return {
    site,
    id,
    zone: '',
    name: { 'zh-CN': id, en: id },
    site_name: { 'zh-CN': site, en: site },
    district: { 'zh-CN': 'd', en: 'd' },
    time_zone: 'UTC',
    online: state !== 'offline',
    state,
    streams: {},
  }
}
