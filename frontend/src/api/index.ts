// The view's only door to the backend: HTTP calls and the video WebSocket.
export { ApiClient, ApiError, openVideoSocket, videoURL } from './client'
export type { ClientOptions } from './client'
export { browserSecret, takeSecret } from './secret'
export type { AddressBar, SecretStore } from './secret'
export { cameraKey } from './types'
export type { Bootstrap, Camera, LocalizedName, StreamKind, User } from './types'
