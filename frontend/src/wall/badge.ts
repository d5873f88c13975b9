// What a tile says about its stream. The bridge knows this tile's stream
// best while frames flow; the relay's event stream knows sooner that a
// camera's publisher has gone (the bridge only sees frames stop, and calls
// that stalled). So: live from the bridge wins, and a camera the relay
// reports offline is shown offline, since when the relay says.
import type { Camera } from '../api'
import type { TileState } from '../player'

export const offlineReason = 'camera_offline'

export function tileBadge(bridge: TileState, camera: Pick<Camera, 'state' | 'since'> | undefined): TileState {
  if (bridge.state === 'live' || !camera || camera.state !== 'offline') return bridge
  // The bridge's own "connecting" after losing the backend says more than a
  // relay state heard through that same backend.
  if (bridge.state === 'connecting' && bridge.reason === 'bridge_lost') return bridge
  return { state: 'offline', since: camera.since ?? bridge.since, reason: bridge.state === 'offline' && bridge.reason ? bridge.reason : offlineReason }
}
