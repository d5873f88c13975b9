import { describe, expect, it } from 'vitest'
import { planLeastWatched, withMomentFirst } from './leastWatched'

describe('planLeastWatched', () => {
  const last: Record<string, number> = { 'a/1': 300, 'a/2': 100, 'b/1': 200 }
  const cams = ['a/1', 'a/2', 'b/1', 'c/1']
  const order = (first?: string) => planLeastWatched(cams, (c) => last[c], 20, first).steps.map((s) => ('camera' in s ? s.camera : ''))

  it('puts the never-watched first, then the longest ago', () => {
    expect(order()).toEqual(['c/1', 'a/2', 'b/1', 'a/1'])
  })

  it('re-planned, keeps the camera on screen first and orders the rest by what was seen since', () => {
    last['c/1'] = 400 // the tour just showed it
    last['a/2'] = 500
    expect(order('c/1')).toEqual(['c/1', 'b/1', 'a/1', 'a/2'])
  })
})

describe('withMomentFirst', () => {
  it('shows the moment cameras next, then the rest of the tour from where it was', () => {
    const tour = { name: 't', steps: ['x/1', 'x/2', 'x/3', 'x/4'].map((camera) => ({ camera, dwellS: 10 })) }
    const next = withMomentFirst(tour, 1, ['x/4', 'm/1'], 30)
    expect(next.steps.map((s) => ('camera' in s ? `${s.camera}:${s.dwellS}` : ''))).toEqual(['x/4:30', 'm/1:30', 'x/3:10', 'x/1:10', 'x/2:10'])
  })
})
