import { cameraKey, type Camera, type Grid } from '../api'
import { filledWall, type Wall } from './layout'

/**
 * The first wall of a console with nothing saved: every camera, the
 * backend's default first, on the smallest grid that holds them, up to 16.
 */
export function defaultWall(cameras: readonly Camera[], first: string): Wall {
  const keys = cameras.map(cameraKey)
  const ordered = keys.includes(first) ? [first, ...keys.filter((k) => k !== first)] : keys
  const grid: Grid = ordered.length <= 1 ? 1 : ordered.length <= 4 ? 4 : ordered.length <= 9 ? 9 : 16
  return filledWall(grid, ordered)
}
