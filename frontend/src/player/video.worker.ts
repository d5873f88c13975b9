/// <reference lib="webworker" />
// The view's video worker: the one bridge socket and every stream's
// decoder, off the page's main thread (player/engine.ts). Its first message
// names the bridge (the multiplexed socket's address with its secret) and
// the page's time origin, so that the counters' times are on the page's
// clock; it answers with ready.

import { DecoderPool } from './decoders'
import { Engine, workerReady, type EngineCommand, type WorkerInit } from './engine'
import { muxAddress, VideoMux } from './mux'

const scope = self as unknown as DedicatedWorkerGlobalScope
// At once, while the page's main thread is likely idle: a decoder's set-up
// needs it (player/decoders.ts). The worker's name is how many: the
// opening wall's tiles.
const decoders = new DecoderPool()
void decoders.fill(Math.min(Number(scope.name) || 0, 25))
let engine: Engine | undefined

scope.onmessage = (ev: MessageEvent<WorkerInit | EngineCommand>) => {
  const m = ev.data
  if (m.t !== 'init') {
    engine?.handle(m)
    return
  }
  const mux = new VideoMux((opens) => {
    const ws = new WebSocket(muxAddress(m.bridge, opens))
    ws.binaryType = 'arraybuffer'
    return ws
  })
  const offset = performance.timeOrigin - m.origin
  engine = new Engine({
    open: (camera, stream) => mux.channel(camera, stream),
    post: (e, transfer) => scope.postMessage(e, transfer),
    decoders,
    now: () => performance.now() + offset,
  })
  scope.postMessage(workerReady)
}
