// One tile's player inside Vue: it starts when the tile is on screen and
// again when its camera, stream or id changes, and stops when the tile
// goes. Its state and meters change with the stats (once a second), never
// per frame.
import { onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref } from 'vue'
import type { StreamKind } from '../api'
import { Player, type SocketLike, type TileState } from '../player'

export interface TileSource {
  /** "SITE/CAMERA", or null for an empty tile. */
  cameraId: string | null
  stream: StreamKind
  tileId: string
}

const noMeters = { fps: 0, kbps: 0, latency: 0, width: 0, height: 0 }

/** `tile` may be the component's props, read as they change. */
export function useTilePlayer(canvas: Readonly<Ref<HTMLCanvasElement | undefined>>, tile: Readonly<TileSource>, open: ((camera: string, stream: StreamKind) => SocketLike) | undefined) {
  const bridge = shallowRef<TileState>({ state: 'connecting', reason: '' })
  const meters = shallowRef(noMeters)
  /** When the state was last heard of, for "stalled since …". */
  const now = ref(new Date())
  let player: Player | undefined

  function play(): void {
    player?.stop()
    player = undefined
    bridge.value = { state: 'connecting', since: new Date(), reason: '' }
    meters.value = noMeters
    const cam = tile.cameraId
    if (!canvas.value) return
    if (!open || !cam) {
      blank(canvas.value)
      return
    }
    const stream = tile.stream
    player = new Player({
      canvas: canvas.value,
      open: () => open(cam, stream),
      tileId: tile.tileId,
      camera: cam,
      stream,
      onUpdate: (s, stats) => {
        bridge.value = s
        meters.value = { fps: stats.fps, kbps: stats.bitrateKbps, latency: stats.decodeLatencyMs, width: stats.width, height: stats.height }
        now.value = new Date()
      },
    })
    player.start()
  }

  onMounted(play)
  watch(() => [tile.cameraId, tile.stream, tile.tileId], play)
  onBeforeUnmount(() => {
    player?.stop()
    player = undefined
  })
  return { bridge, meters, now }
}

function blank(c: HTMLCanvasElement): void {
  const ctx = c.getContext('2d', { alpha: false })
  if (!ctx) return
  ctx.fillStyle = '#000'
  ctx.fillRect(0, 0, c.width, c.height)
}
