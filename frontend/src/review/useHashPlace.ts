// The workspace's place in the address (`#/tab?query`), followed as it
// changes: a reload, the back button, a pasted link or a chart's drill-down
// all land where the address says.
import { onBeforeUnmount, onMounted, shallowRef } from 'vue'
import { formatHash, parseHash, type Place, type Tab } from './filter'

export function useHashPlace() {
  const place = shallowRef<Place>(parseHash(window.location.hash))
  const read = () => (place.value = parseHash(window.location.hash))
  onMounted(() => window.addEventListener('hashchange', read))
  onBeforeUnmount(() => window.removeEventListener('hashchange', read))

  /** Goes to a place; the same place again is left as it is. */
  function go(p: { tab: Tab; query?: string; rest?: string }): void {
    const hash = formatHash(p)
    if (window.location.hash !== hash) window.location.hash = hash
    read()
  }
  return { place, go }
}
