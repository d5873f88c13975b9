// Starts the view's video worker (player/video.worker.ts). It is inlined
// in the page's script and started from a blob: address, so that it needs
// no request of its own, nor a scheme that lets workers load (the desktop
// window serves the view from wails://).
import type { EngineEvent, WorkerInit, workerReady } from './engine'
import type { EngineLink } from './host'
import VideoWorker from './video.worker?worker&inline'

// A message posted to a worker that has not started yet waits for the
// page's main thread to be free; the console's first render holds it for
// 0.2–0.6 s, in the task that learns the bridge's address. So the page
// starts a worker first thing (player/early.ts), and the bridge takes it.
let early: Worker | undefined

/**
 * Starts a video worker before the bridge is known, making this many
 * decoders at once (player/decoders.ts): the first startVideoWorker takes it.
 */
export function startVideoWorkerEarly(decoders: number): void {
  if (typeof Worker !== 'undefined') early ??= new VideoWorker({ name: String(decoders) })
}

/** A link to a video worker for this bridge address (with its secret). */
export function startVideoWorker(bridge: string): EngineLink {
  const w: Worker = early ?? new VideoWorker()
  early = undefined
  const init: WorkerInit = { t: 'init', bridge, origin: performance.timeOrigin }
  w.postMessage(init)
  let started = () => {}
  const link: EngineLink = {
    post: (cmd) => w.postMessage(cmd),
    onevent: null,
    ready: new Promise<void>((resolve) => (started = resolve)),
  }
  w.onmessage = (ev: MessageEvent<EngineEvent | typeof workerReady>) => {
    const m = ev.data
    if ('notice' in m) started()
    else link.onevent?.(m)
  }
  // Without its worker the wall stays "connecting": say why where an engineer looks.
  w.onerror = (ev) => console.error('video worker:', ev.message)
  return link
}
