import { describe, expect, it } from 'vitest'
import { dragCamera, dragTile, readDrag, type DataTransferLike } from './drag'

// A DataTransfer as browsers give it: during dragover only the types are readable.
function transfer(): DataTransferLike & { protect(): void } {
  const data = new Map<string, string>()
  let protectedMode = false
  return {
    get types() {
      return [...data.keys()]
    },
    getData: (t) => (protectedMode ? '' : (data.get(t) ?? '')),
    setData: (t, v) => void data.set(t, v),
    effectAllowed: 'none',
    protect: () => (protectedMode = true),
  }
}

describe('drag', () => {
  it('carries a camera from the tree', () => {
    const dt = transfer()
    dragCamera(dt, 'site-01/doff1')
    expect(readDrag(dt, false)).toEqual({ kind: 'camera', camera: 'site-01/doff1' })
    expect(dt.getData('text/plain')).toBe('site-01/doff1')
  })

  it('carries a tile, with its camera', () => {
    const dt = transfer()
    dragTile(dt, 3, 'site-02/waste')
    expect(readDrag(dt, false)).toEqual({ kind: 'tile', tile: 3, camera: 'site-02/waste' })
  })

  it('tells what kind it is while only the types can be read', () => {
    const cam = transfer()
    dragCamera(cam, 'site-01/doff1')
    cam.protect()
    expect(readDrag(cam, true)?.kind).toBe('camera')
    const tile = transfer()
    dragTile(tile, 0, 'site-01/doff1')
    tile.protect()
    expect(readDrag(tile, true)?.kind).toBe('tile')
  })

  it('ignores what is not ours, or not a camera', () => {
    const text = transfer()
    text.setData('text/plain', 'hello')
    expect(readDrag(text, true)).toBeUndefined()
    expect(readDrag(text, false)).toBeUndefined()
    const odd = transfer()
    odd.setData('application/x-qly-camera', 'not a camera')
    expect(readDrag(odd, false)).toBeUndefined()
  })
})
