// First, so that the video worker starts before the rest is evaluated.
import './player/early'
import { createApp } from 'vue'
import App from './App.vue'
import { ApiClient, browserSecret } from './api'
import { applyLocale, i18n } from './i18n'
import './style.css'
import './components/dialog.css'
import './components/panel.css'

applyLocale(i18n.global.locale.value)
const api = new ApiClient({ secret: browserSecret() })
createApp(App, { api }).use(i18n).mount('#app')
