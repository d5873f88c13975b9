// Simplified Chinese, the default. en.ts must have exactly these keys.
// reason.* translates the reason codes of the bridge's state events
// (console/media) and the view's own (player/state.ts).
export default {
  app: {
    title: '千里眼 Qianliyan',
    loading: '正在加载…',
    retry: '重试',
  },
  header: {
    user: '值班人员：{name}',
    language: '界面语言',
  },
  language: {
    zh: '中文',
    en: 'English',
  },
  cameras: {
    title: '监控点位',
    hint: '↑↓ 选择，回车打开',
    listLabel: '摄像头列表：用上下方向键选择，回车打开',
    online: '在线',
    offline: '离线',
    empty: '没有可用的摄像头',
  },
  state: {
    connecting: '正在连接',
    reconnecting: '正在重新连接 · 自 {time} 起',
    live: '实时',
    stalled: '画面停滞 · 自 {time} 起',
    offline: '离线 · 自 {time} 起',
    stalledNoTime: '画面停滞',
    offlineNoTime: '离线',
  },
  reason: {
    no_video: '摄像头没有送来画面',
    connection_lost: '与中继服务器的连接中断',
    relay_unreachable: '无法连接中继服务器',
    error: '视频流出错',
    camera_offline: '摄像头离线',
    unknown_camera: '中继服务器上没有这个摄像头',
    unauthorized: '中继服务器拒绝了登录凭据',
    forbidden: '无权查看这个摄像头',
    bridge_lost: '与本机后台的视频连接中断，正在重试',
    no_frames: '超过 5 秒没有新画面',
  },
  tile: {
    fps: '{fps} 帧/秒',
    latency: '解码 {ms} 毫秒',
    noCamera: '未选择摄像头',
    unknownCamera: '未知摄像头 {id}',
    videoLabel: '{site} {camera} 的实时画面',
  },
  errors: {
    bootstrap: '无法连接本机后台：{message}',
    unauthorized: '访问口令缺失或不正确。请打开 qianliyan --serve 启动时打印的完整地址。',
    cameras: '无法获取摄像头列表：{message}',
  },
}
