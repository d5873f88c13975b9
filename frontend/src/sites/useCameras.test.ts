import { describe, expect, it } from 'vitest'
import { camera } from './fixtures'
import { withCamera } from './useCameras'

describe('withCamera', () => {
  const list = [camera('s1', 'a', 'online'), camera('s1', 'b', 'online'), camera('s2', 'a', 'online')]

  it('replaces the camera in its place, by site and id', () => {
    const got = withCamera(list, camera('s2', 'a', 'offline'))
    expect(got.map((c) => `${c.site}/${c.id}:${c.state}`)).toEqual(['s1/a:online', 's1/b:online', 's2/a:offline'])
    expect(list[2]!.state).toBe('online')
  })

  it('adds a camera it has not seen at the end', () => {
    expect(withCamera(list, camera('s3', 'z', 'stalled')).map((c) => c.id)).toEqual(['a', 'b', 'a', 'z'])
  })
})
