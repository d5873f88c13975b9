/** One line of a menu (MenuDialog): a saved layout, a tour, a setting. */
export interface MenuItem {
  id: string
  label: string
  detail?: string
  /** Marked as the one in use. */
  current?: boolean
}
