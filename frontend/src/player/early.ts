// Imported first by main.ts, so that the video worker starts before the
// rest of the page's script is evaluated (player/worker.ts says why), with
// as many decoders made ahead as the opening wall will likely have tiles.
import { isGrid } from '../wall/layout'
import { savedWall } from '../wall/useWall'
import { startVideoWorkerEarly } from './worker'

// A first wall (nothing kept) is up to 16 tiles (wall/defaults.ts).
const grid = Number(new URL(window.location.href).searchParams.get('grid'))
startVideoWorkerEarly(isGrid(grid) ? grid : (savedWall()?.grid ?? 16))
