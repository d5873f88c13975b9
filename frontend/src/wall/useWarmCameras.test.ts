import { describe, expect, it } from 'vitest'
import type { Camera } from '../api'
import { maxWarm, warmCandidates } from './useWarmCameras'

function cam(site: string, id: string, state: Camera['state'] = 'online'): Camera {
  const n = { 'zh-CN': id, en: id }
  return { site, id, zone: 'z', name: n, site_name: n, district: n, time_zone: 'Asia/Shanghai', online: state !== 'offline', state, streams: {} }
}

const cameras = [cam('s1', 'a'), cam('s1', 'b'), cam('s2', 'a'), cam('s2', 'b', 'offline'), cam('s2', 'c'), cam('s3', 'a')]

describe('warmCandidates', () => {
  it('warms nothing while the officer is not choosing, nor for a one-tile wall (its main stream)', () => {
    expect(warmCandidates(cameras, ['s1/a'], 's1/a', false)).toEqual([])
    expect(warmCandidates(cameras, ['s1/a'], 's1/a', true, 1)).toEqual([])
  })

  it('warms the sub streams of online cameras off the wall, the current site first', () => {
    expect(warmCandidates(cameras, ['s1/a', 's2/c', null], 's2/c', true).map((k) => `${k.camera}?${k.stream}`)).toEqual([
      's2/a?sub',
      's1/b?sub',
      's3/a?sub',
    ])
  })

  it('keeps to the relay sessions a user may hold beside the wall', () => {
    const many = Array.from({ length: 40 }, (_, i) => cam('s', `c${i}`))
    const wall = (n: number) => many.slice(0, n).map((c) => `s/${c.id}`)
    expect(warmCandidates(many, wall(4), null, true)).toHaveLength(maxWarm)
    expect(warmCandidates(many, wall(25), null, true)).toHaveLength(5)
    expect(warmCandidates(many, wall(30), null, true)).toHaveLength(0)
  })
})
