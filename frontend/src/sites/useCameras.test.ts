import { describe, expect, it } from 'vitest'
import type { Camera, CameraState } from '../api'
import { withCamera } from './useCameras'

const cam = (site: string, id: string, state: CameraState): Camera => ({
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
})

describe('withCamera', () => {
  const list = [cam('s1', 'a', 'online'), cam('s1', 'b', 'online'), cam('s2', 'a', 'online')]

  it('replaces the camera in its place, by site and id', () => {
    const got = withCamera(list, cam('s2', 'a', 'offline'))
    expect(got.map((c) => `${c.site}/${c.id}:${c.state}`)).toEqual(['s1/a:online', 's1/b:online', 's2/a:offline'])
    expect(list[2]!.state).toBe('online')
  })

  it('adds a camera it has not seen at the end', () => {
    expect(withCamera(list, cam('s3', 'z', 'stalled')).map((c) => c.id)).toEqual(['a', 'b', 'a', 'z'])
  })
})
