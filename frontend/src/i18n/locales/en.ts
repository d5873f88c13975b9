import type { Messages } from '../messages'

// English: the same keys as zh-CN.ts, word for word.
const en: Messages = {
  app: {
    title: '千里眼 Qianliyan',
    loading: 'Loading…',
    retry: 'Retry',
  },
  header: {
    user: 'On duty: {name}',
    language: 'Interface language',
  },
  language: {
    zh: '中文',
    en: 'English',
  },
  cameras: {
    title: 'Cameras',
    hint: '↑↓ to choose, Enter to open',
    listLabel: 'Camera list: up and down arrows to choose, Enter to open',
    online: 'Online',
    offline: 'Offline',
    empty: 'No cameras available',
  },
  state: {
    connecting: 'Connecting',
    reconnecting: 'Reconnecting since {time}',
    live: 'Live',
    stalled: 'Stalled since {time}',
    offline: 'Offline since {time}',
    stalledNoTime: 'Stalled',
    offlineNoTime: 'Offline',
  },
  reason: {
    no_video: 'No video from the camera',
    connection_lost: 'Lost the connection to the relay',
    relay_unreachable: 'Cannot reach the relay',
    error: 'Stream error',
    camera_offline: 'The camera is offline',
    unknown_camera: 'The relay does not know this camera',
    unauthorized: 'The relay refused the login',
    forbidden: 'Not allowed to view this camera',
    bridge_lost: 'Lost the video link to the console backend; retrying',
    no_frames: 'No new picture for over 5 seconds',
  },
  tile: {
    fps: '{fps} fps',
    latency: 'decode {ms} ms',
    noCamera: 'No camera selected',
    unknownCamera: 'Unknown camera {id}',
    videoLabel: 'Live picture of {camera}, {site}',
  },
  errors: {
    bootstrap: 'Cannot reach the console backend: {message}',
    unauthorized: 'The access secret is missing or wrong. Open the full address that qianliyan --serve printed when it started.',
    cameras: 'Cannot load the camera list: {message}',
  },
}

export default en
