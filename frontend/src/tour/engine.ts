// The tour (轮巡): a named list of cameras and saved layouts, each shown for
// its dwell time, round and round. The engine keeps time and decides what
// comes next; showing a step is the caller's business. Time comes from an
// injected clock, so tests step through an hour of touring without waiting.
import type { Tour, TourStep } from '../api'

export interface Clock {
  /** Milliseconds, any origin; only differences count. */
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
}

/** A tour paused by the officer's work carries on after this long without any. */
export const defaultResumeAfterMs = 20_000

export type TourStatus = 'stopped' | 'playing' | 'paused'

/** The officer paused it, or is working in a tile (the tour then resumes by itself). */
export type PauseCause = 'user' | 'interaction'

export interface TourState {
  /** The tour's name; '' when stopped. */
  tour: string
  /** The step on screen (0-based); -1 when stopped. */
  index: number
  steps: number
  step?: TourStep
  status: TourStatus
  pausedBy?: PauseCause
  /** Milliseconds of the step's dwell still to go. */
  remainingMs: number
  dwellMs: number
  /** Steps shown since the tour started, by the clock or by next/previous. */
  advances: number
  /** When an interaction pause ends by itself, in clock time; undefined while held or not paused by interaction. */
  resumesAt?: number
  /** Why the tour stopped by itself: none of its steps could be shown. */
  stoppedBecause?: 'nothing_to_show'
}

export interface TourEngineOptions {
  /**
   * Puts a step on screen. False means it cannot be shown (a deleted layout,
   * a camera the relay no longer has): the engine skips to the one after.
   */
  show(step: TourStep, index: number): boolean
  /** After any change of state (not on every clock tick). */
  changed?(state: TourState): void
  clock?: Clock
  /** How long after the officer's last interaction the tour carries on. */
  resumeAfterMs?: number
  /** The shortest dwell, whatever a tour says: a step must be seen. */
  minDwellMs?: number
}

export class TourEngine {
  private readonly clock: Clock
  private readonly resumeAfterMs: number
  private readonly minDwellMs: number
  private tour: Tour | undefined
  private index = -1
  private status: TourStatus = 'stopped'
  private pausedBy: PauseCause | undefined
  private remaining = 0
  private dwell = 0
  private deadline = 0
  private advances = 0
  private holds = 0
  private resumesAt: number | undefined
  private stepTimer: unknown
  private resumeTimer: unknown
  private stoppedBecause: TourState['stoppedBecause']

  constructor(private readonly opts: TourEngineOptions) {
    this.clock = opts.clock ?? systemClock
    this.resumeAfterMs = opts.resumeAfterMs ?? defaultResumeAfterMs
    this.minDwellMs = opts.minDwellMs ?? 1000
  }

  get state(): TourState {
    const step = this.tour?.steps[this.index]
    return {
      tour: this.tour?.name ?? '',
      index: this.index,
      steps: this.tour?.steps.length ?? 0,
      step,
      status: this.status,
      pausedBy: this.pausedBy,
      remainingMs: this.status === 'playing' ? Math.max(0, this.deadline - this.clock.now()) : this.remaining,
      dwellMs: this.dwell,
      advances: this.advances,
      resumesAt: this.resumesAt,
      stoppedBecause: this.stoppedBecause,
    }
  }

  /** Starts a tour at step `at`, playing. False when none of its steps can be shown. */
  start(tour: Tour, at = 0): boolean {
    this.clearTimers()
    this.tour = tour
    this.status = 'playing'
    this.pausedBy = undefined
    this.resumesAt = undefined
    this.holds = 0
    this.advances = 0
    this.stoppedBecause = undefined
    if (!this.goTo(at, 1)) return false
    this.emit()
    return true
  }

  stop(): void {
    this.halt(undefined)
  }

  /** The officer's pause: lasts until play(). */
  pause(): void {
    if (this.status === 'stopped') return
    if (this.status === 'playing') this.freeze()
    this.clock.clearTimeout(this.resumeTimer)
    this.resumesAt = undefined
    this.status = 'paused'
    this.pausedBy = 'user'
    this.emit()
  }

  /** Plays on from where it was, whatever paused it. */
  play(): void {
    if (this.status !== 'paused') return
    this.holds = 0
    this.resume()
  }

  toggle(): void {
    if (this.status === 'playing') this.pause()
    else this.play()
  }

  next(): void {
    this.jump(1)
  }

  previous(): void {
    this.jump(-1)
  }

  /** The officer did something in a tile: pause, and carry on resumeAfterMs after the last such thing. */
  interact(): void {
    this.hold()
    this.release()
  }

  /** The officer is busy with something that lasts (a tile in focus view): pause until release(). */
  hold(): void {
    if (this.status === 'stopped' || this.pausedBy === 'user') return
    this.holds++
    this.clock.clearTimeout(this.resumeTimer)
    this.resumesAt = undefined
    if (this.status === 'playing') {
      this.freeze()
      this.status = 'paused'
      this.pausedBy = 'interaction'
    }
    this.emit()
  }

  release(): void {
    if (this.holds === 0) return
    this.holds--
    if (this.holds > 0 || this.status !== 'paused' || this.pausedBy !== 'interaction') return
    this.resumesAt = this.clock.now() + this.resumeAfterMs
    this.resumeTimer = this.clock.setTimeout(() => this.resume(), this.resumeAfterMs)
    this.emit()
  }

  private jump(dir: 1 | -1): void {
    if (!this.tour || this.status === 'stopped') return
    this.clock.clearTimeout(this.stepTimer)
    if (!this.goTo(this.index + dir, dir)) return
    this.emit()
  }

  private resume(): void {
    this.clock.clearTimeout(this.resumeTimer)
    this.resumesAt = undefined
    this.status = 'playing'
    this.pausedBy = undefined
    this.schedule(this.remaining)
    this.emit()
  }

  // Shows the first showable step from i on, going in `dir`; resets its dwell.
  private goTo(i: number, dir: 1 | -1): boolean {
    const steps = this.tour?.steps ?? []
    const n = steps.length
    for (let tried = 0; tried < n; tried++) {
      const at = (((i + dir * tried) % n) + n) % n
      const step = steps[at]!
      if (!this.opts.show(step, at)) continue
      this.index = at
      this.advances++
      this.dwell = Math.max(this.minDwellMs, step.dwellS * 1000)
      this.remaining = this.dwell
      if (this.status === 'playing') this.schedule(this.dwell)
      return true
    }
    this.halt('nothing_to_show')
    return false
  }

  private schedule(ms: number): void {
    this.clock.clearTimeout(this.stepTimer)
    this.deadline = this.clock.now() + ms
    this.stepTimer = this.clock.setTimeout(() => {
      if (this.status !== 'playing') return
      if (this.goTo(this.index + 1, 1)) this.emit()
    }, ms)
  }

  private freeze(): void {
    this.clock.clearTimeout(this.stepTimer)
    this.remaining = Math.max(0, this.deadline - this.clock.now())
  }

  private halt(because: TourState['stoppedBecause']): void {
    const was = this.status
    this.clearTimers()
    this.tour = undefined
    this.index = -1
    this.status = 'stopped'
    this.pausedBy = undefined
    this.resumesAt = undefined
    this.holds = 0
    this.remaining = 0
    this.dwell = 0
    this.stoppedBecause = because
    if (was !== 'stopped' || because) this.emit()
  }

  private clearTimers(): void {
    this.clock.clearTimeout(this.stepTimer)
    this.clock.clearTimeout(this.resumeTimer)
  }

  private emit(): void {
    this.opts.changed?.(this.state)
  }
}
