import { describe, expect, it } from 'vitest'
import type { Camera } from '../api'
import type { WarmKey } from '../player/warm'
import type { Wall } from './layout'
import { firstStreams, keptStreams } from './openingWall'

function cam(site: string, id: string): Camera {
  const n = { 'zh-CN': id, en: id }
  return { site, id, zone: 'z', name: n, site_name: n, district: n, time_zone: 'Asia/Shanghai', online: true, state: 'online', streams: {} }
}

const cameras = [cam('s1', 'a'), cam('s1', 'b'), cam('s2', 'a'), cam('s2', 'b'), cam('s3', 'a')]
const names = (keys: WarmKey[] | undefined) => keys?.map((k) => `${k.camera}?${k.stream}`)

describe('firstStreams', () => {
  const cases = [
    { name: 'every camera, the default first, on the smallest grid', address: '', want: ['s2/a?sub', 's1/a?sub', 's1/b?sub', 's2/b?sub', 's3/a?sub'] },
    { name: 'the address grid cuts it', address: 'grid=4', want: ['s2/a?sub', 's1/a?sub', 's1/b?sub', 's2/b?sub'] },
    { name: 'a one-tile wall opens the main stream', address: 'grid=1', want: ['s2/a?main'] },
    { name: 'a layout named by the address: not known ahead', address: 'layout=night', want: [] },
    { name: 'a tour named by the address: not known ahead', address: 'tour=doffing', want: [] },
  ]
  for (const c of cases) {
    it(c.name, () => expect(names(firstStreams(cameras, 's2/a', new URLSearchParams(c.address)))).toEqual(c.want))
  }
  it('opens nothing for an empty list (the backend still signing in)', () => expect(firstStreams([], 's2/a', new URLSearchParams())).toEqual([]))
})

describe('keptStreams', () => {
  const kept: Wall = { grid: 4, cells: ['s3/a', null, 's1/b'] }
  const cases: { name: string; address: string; saved?: Wall; want: string[] | undefined }[] = [
    { name: 'nothing kept: the first wall waits for the list', address: '', want: undefined },
    { name: 'the kept wall, empty tiles left out', address: '', saved: kept, want: ['s3/a?sub', 's1/b?sub'] },
    { name: 'the kept wall on the address grid', address: 'grid=1', saved: kept, want: ['s3/a?main'] },
    { name: 'a layout named by the address wins over the kept wall', address: 'layout=night', saved: kept, want: [] },
  ]
  for (const c of cases) {
    it(c.name, () => expect(names(keptStreams(c.saved, new URLSearchParams(c.address)))).toEqual(c.want))
  }
})
