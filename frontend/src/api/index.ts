// The view's only door to the backend: HTTP calls, the event stream and the
// video WebSocket.
export { ApiClient, ApiError, videoHost, videoMuxURL, videoURL } from './client'
export { detailOf } from './errors'
export type { ClientOptions } from './client'
export { EventStream } from './events'
export type { EventStreamOptions, StreamHandlers, StreamStatus } from './events'
export { browserSecret, takeSecret } from './secret'
export type { AddressBar, SecretStore } from './secret'
export { cameraKey, grids, isCameraKey } from './types'
export type {
  Bootstrap,
  Camera,
  CameraState,
  Grid,
  Layout,
  LocalizedName,
  Session,
  SignIn,
  StreamHealth,
  StreamKind,
  Tour,
  TourStep,
  User,
} from './types'
export { severities } from './findings'
export type { RunRecord } from './runs'
export type {
  ChecklistStep,
  Deviation,
  Evidence,
  Finding,
  FindingEdit,
  FindingEvent,
  FindingsQuery,
  FlagRequest,
  Freshness,
  Mark,
  RecheckFile,
  RecheckShot,
  RelayFile,
  Observation,
  RunFlag,
  RunState,
  RunUpdate,
  Severity,
  Template,
} from './findings'
