// One tile's player inside Vue: it starts when the tile is on screen and
// again when its camera, stream or id changes, and stops when the tile
// goes. Its state and meters change with the stats (once a second), never
// per frame. Another stream of the same camera (the focus view's main)
// takes over at its first frame (player/handover.ts).
import { onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref } from 'vue'
import type { StreamKind } from '../api'
import type { PlayVideo } from '../components/keys'
import { Handover, Player, type TileState, type TileStats } from '../player'

export interface TileSource {
  /** "SITE/CAMERA", or null for an empty tile. */
  cameraId: string | null
  stream: StreamKind
  tileId: string
}

const noMeters = { fps: 0, kbps: 0, latency: 0, width: 0, height: 0 }

/** `tile` may be the component's props, read as they change. */
export function useTilePlayer(canvas: Readonly<Ref<HTMLCanvasElement | undefined>>, tile: Readonly<TileSource>, playVideo: PlayVideo | undefined) {
  const bridge = shallowRef<TileState>({ state: 'connecting', reason: '' })
  const meters = shallowRef(noMeters)
  /** When the state was last heard of, for "stalled since …". */
  const now = ref(new Date())
  // The tile shows the state and meters of the player whose picture is on screen.
  const players = new Handover<Player>((p) => show(p.state, p.stats))

  function show(s: TileState, stats: Readonly<TileStats>): void {
    bridge.value = s
    meters.value = { fps: stats.fps, kbps: stats.bitrateKbps, latency: stats.decodeLatencyMs, width: stats.width, height: stats.height }
    now.value = new Date()
  }

  function play(): void {
    const cam = tile.cameraId
    const c = canvas.value
    if (!c) return
    if (!playVideo || !cam) {
      players.stop()
      bridge.value = { state: 'connecting', since: new Date(), reason: '' }
      meters.value = noMeters
      blank(c)
      return
    }
    const stream = tile.stream
    players.play({ camera: cam, stream, tileId: tile.tileId }, (firstFrame, takingOver) => {
      const p: Player = new Player({
        canvas: c,
        video: (emit) => playVideo(cam, stream, emit),
        tileId: tile.tileId,
        camera: cam,
        stream,
        onFirstFrame: firstFrame,
        takingOver,
        onUpdate: (s, stats) => {
          if (players.shown === p) show(s, stats)
        },
      })
      return p
    })
  }

  onMounted(play)
  watch(() => [tile.cameraId, tile.stream, tile.tileId], play)
  onBeforeUnmount(() => players.stop())
  return { bridge, meters, now }
}

// Setting a canvas's size clears its picture, and the tile is black behind
// it; a 2D context made only to paint it black cost the opening wall, which
// mounts its sixteen tiles empty, 20–30 ms of its first render.
function blank(c: HTMLCanvasElement): void {
  c.width = c.width
}
