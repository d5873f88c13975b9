import { describe, expect, it } from 'vitest'
import type { CameraState } from '../api'
import type { TileState } from '../player'
import { tileBadge } from './badge'

const t1 = new Date('2026-05-10T06:03:22Z')
const t2 = new Date('2026-05-10T06:03:25Z')

describe('tileBadge', () => {
  const relay = (state: CameraState) => ({ state, since: t1 })
  const cases: { name: string; bridge: TileState; camera?: { state: CameraState; since?: Date }; want: TileState }[] = [
    { name: 'live while frames flow, whatever the relay last said', bridge: { state: 'live', since: t2, reason: '' }, camera: relay('offline'), want: { state: 'live', since: t2, reason: '' } },
    { name: 'the bridge’s stall when the relay still has the camera', bridge: { state: 'stalled', since: t2, reason: 'no_video' }, camera: relay('online'), want: { state: 'stalled', since: t2, reason: 'no_video' } },
    {
      name: 'offline since the relay’s time when the publisher left',
      bridge: { state: 'stalled', since: t2, reason: 'no_video' },
      camera: relay('offline'),
      want: { state: 'offline', since: t1, reason: 'camera_offline' },
    },
    {
      name: 'offline while connecting to a camera the relay has not got',
      bridge: { state: 'connecting', since: t2, reason: '' },
      camera: { state: 'offline' },
      want: { state: 'offline', since: t2, reason: 'camera_offline' },
    },
    {
      name: 'the bridge’s own offline reason is kept',
      bridge: { state: 'offline', since: t2, reason: 'unknown_camera' },
      camera: relay('offline'),
      want: { state: 'offline', since: t1, reason: 'unknown_camera' },
    },
    { name: 'a lost bridge says more than the relay', bridge: { state: 'connecting', since: t2, reason: 'bridge_lost' }, camera: relay('offline'), want: { state: 'connecting', since: t2, reason: 'bridge_lost' } },
    { name: 'no relay word: the bridge alone', bridge: { state: 'stalled', since: t2, reason: 'no_video' }, want: { state: 'stalled', since: t2, reason: 'no_video' } },
  ]
  for (const c of cases) it(c.name, () => expect(tileBadge(c.bridge, c.camera)).toEqual(c.want))
})
