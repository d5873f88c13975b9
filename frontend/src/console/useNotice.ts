// A line of news over the wall: what just happened, or what went wrong. It
// goes by itself after a while; a newer line replaces it.
import { onScopeDispose, ref } from 'vue'

/** Puts a line of news on screen. */
export type Say = (text: string) => void

export function useNotice(showMs = 8000) {
  const notice = ref('')
  let timer: ReturnType<typeof setTimeout> | undefined
  const say: Say = (text) => {
    notice.value = text
    clearTimeout(timer)
    timer = setTimeout(() => (notice.value = ''), showMs)
  }
  onScopeDispose(() => clearTimeout(timer))
  return { notice, say }
}
