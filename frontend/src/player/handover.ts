// One tile's players as its camera, stream or place change. A tile moving
// to another stream of the same camera (enlarged to the focus view: sub to
// main, and back) keeps its player on screen until the new stream's first
// frame is drawn: the picture the officer looked at stays up, scaled to the
// new size, and is still the live one, instead of a dimmed "connecting"
// picture (or a black one) while the other stream starts. Another camera
// replaces the player at once: the old camera's picture must not pass for
// the new one's.

export interface TilePlayer {
  start(): void
  stop(): void
}

export interface TileSourceKey {
  camera: string
  stream: string
  tileId: string
}

/**
 * Makes a player; it calls firstFrame as its first frame is drawn.
 * takingOver: another player's picture stays up until then.
 */
export type MakePlayer<P extends TilePlayer> = (firstFrame: () => void, takingOver: boolean) => P

export class Handover<P extends TilePlayer> {
  private shownKey: TileSourceKey | undefined
  private shownPlayer: P | undefined
  private nextPlayer: P | undefined

  /** @param adopted called when a player becomes the one on screen */
  constructor(private readonly adopted: (p: P) => void) {}

  /** The player whose picture is on the canvas and whose state the tile shows. */
  get shown(): P | undefined {
    return this.shownPlayer
  }

  /** The player taking over, until its first frame. */
  get next(): P | undefined {
    return this.nextPlayer
  }

  /** Plays key, or nothing (undefined: an empty tile). */
  play(key: TileSourceKey | undefined, make: MakePlayer<P>): void {
    // A player still waiting for its first frame never showed anything.
    this.nextPlayer?.stop()
    this.nextPlayer = undefined
    const from = this.shownKey
    const sameCamera = key && from && from.camera === key.camera && from.tileId === key.tileId && this.shownPlayer
    if (key && from && sameCamera && from.stream === key.stream) return
    if (!key || !sameCamera) {
      this.shownPlayer?.stop()
      this.shownPlayer = undefined
      this.shownKey = undefined
      if (!key) return
      const p = make(() => {}, false)
      this.shownPlayer = p
      this.shownKey = key
      this.adopted(p)
      p.start()
      return
    }
    const p: P = make(() => {
      if (this.nextPlayer !== p) return
      this.shownPlayer?.stop()
      this.shownPlayer = p
      this.shownKey = key
      this.nextPlayer = undefined
      this.adopted(p)
    }, true)
    this.nextPlayer = p
    p.start()
  }

  stop(): void {
    this.nextPlayer?.stop()
    this.shownPlayer?.stop()
    this.nextPlayer = this.shownPlayer = undefined
    this.shownKey = undefined
  }
}
