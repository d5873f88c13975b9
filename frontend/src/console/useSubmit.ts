// A form's request to the backend: busy while it runs, and afterwards the
// failure in the officer's words (the backend's own, unless its error code
// has words of its own here). What was typed stays, to try again.
import { ref } from 'vue'
import { ApiError } from '../api'
import { failedText, i18n } from '../i18n'

export function useSubmit() {
  const busy = ref(false)
  const error = ref('')

  /** Runs the request; resolves whether it went through. `codes` maps an error code to a message key. */
  async function submit(request: () => Promise<void>, codes: Record<string, string> = {}): Promise<boolean> {
    busy.value = true
    error.value = ''
    try {
      await request()
      return true
    } catch (err) {
      const known = err instanceof ApiError ? codes[err.code] : undefined
      error.value = known ? i18n.global.t(known) : failedText(err)
      return false
    } finally {
      busy.value = false
    }
  }

  return { busy, error, submit }
}
