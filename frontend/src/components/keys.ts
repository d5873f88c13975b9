import type { InjectionKey, Ref } from 'vue'
import type { Camera, StreamKind } from '../api'
import type { PlaybackEvent, PlaybackHandle } from '../player'

/** Plays one camera's stream in the view's video worker; its events go to emit until stop. */
export type PlayVideo = (camera: string, stream: StreamKind, emit: (e: PlaybackEvent) => void) => PlaybackHandle

/** How tiles reach the video; provided by the console once bootstrap is in. */
export const playVideoKey: InjectionKey<PlayVideo> = Symbol('playVideo')

/** Every camera by "SITE/CAMERA", for names and time zones in overlays. */
export const camerasKey: InjectionKey<Readonly<Ref<ReadonlyMap<string, Camera>>>> = Symbol('cameras')
