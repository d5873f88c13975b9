// What is being dragged onto a tile: a camera from the tree, or another tile.
// While dragging, browsers show only the types, not the data.
import { isCameraKey } from '../api'

const cameraType = 'application/x-qly-camera'
const tileType = 'application/x-qly-tile'

export type Dragged = { kind: 'camera'; camera: string } | { kind: 'tile'; tile: number; camera: string }

export interface DataTransferLike {
  types: readonly string[]
  getData(type: string): string
  setData(type: string, data: string): void
  effectAllowed: string
}

export function dragCamera(dt: DataTransferLike, camera: string): void {
  dt.setData(cameraType, camera)
  dt.setData('text/plain', camera)
  dt.effectAllowed = 'copyMove'
}

export function dragTile(dt: DataTransferLike, tile: number, camera: string): void {
  dt.setData(tileType, String(tile))
  dt.setData(cameraType, camera)
  dt.setData('text/plain', camera)
  dt.effectAllowed = 'move'
}

/**
 * What is dragged, or undefined when it is nothing of ours. With typesOnly
 * (during dragover) a placeholder tells only that it is ours.
 */
export function readDrag(dt: DataTransferLike, typesOnly: boolean): Dragged | undefined {
  const types = [...dt.types]
  if (typesOnly) {
    if (types.includes(tileType)) return { kind: 'tile', tile: -1, camera: '' }
    if (types.includes(cameraType)) return { kind: 'camera', camera: '' }
    return undefined
  }
  const camera = dt.getData(cameraType)
  if (!isCameraKey(camera)) return undefined
  if (types.includes(tileType)) {
    const tile = Number(dt.getData(tileType))
    if (Number.isInteger(tile) && tile >= 0) return { kind: 'tile', tile, camera }
  }
  return { kind: 'camera', camera }
}
