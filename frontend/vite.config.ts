/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// QLY_BACKEND (e.g. http://127.0.0.1:8090 from `qianliyan --serve`) lets
// `npm run dev` talk to a running console backend.
const backend = process.env.QLY_BACKEND

export default defineConfig({
  // Relative asset paths: the same build is served by Wails' AssetServer
  // (wails://wails/) and by the backend's plain HTTP server.
  base: './',
  plugins: [vue()],
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK 2.50 and current Chromium both run ES2022.
    target: 'es2022',
  },
  server: backend
    ? {
        proxy: {
          '/api': backend,
          '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
        },
      }
    : undefined,
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
    // A test waits for what it checks; its timeout only catches a hang, and
    // must not fail a test that a busy machine runs slowly (timings are
    // benchmarks' business).
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
