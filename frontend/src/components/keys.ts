import type { InjectionKey, Ref } from 'vue'
import type { Camera, StreamKind } from '../api'
import type { SocketLike } from '../player'

/** Opens the bridge socket for one camera's stream. */
export type OpenVideo = (camera: string, stream: StreamKind) => SocketLike

/** How tiles reach the video bridge; provided by App once bootstrap is in. */
export const openVideoKey: InjectionKey<OpenVideo> = Symbol('openVideo')

/** Every camera by "SITE/CAMERA", for names and time zones in overlays. */
export const camerasKey: InjectionKey<Readonly<Ref<ReadonlyMap<string, Camera>>>> = Symbol('cameras')
