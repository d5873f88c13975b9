package main

import "os"

// WebKitGTK draws a <select>'s open list, and the window's title bar, as
// GTK widgets outside the page: the page's color-scheme: dark does not
// reach them, and under the desktop's light GTK theme they were white
// menus on the dark console (e2e TestDesktopWindowDropdownIsDark). GTK
// reads GTK_THEME when the window starts it, so the console asks for
// Adwaita's dark variant (built into GTK) here, before wails.Run; a theme
// the machine names for its programs (a high-contrast one, say) stands.
func init() {
	if os.Getenv("GTK_THEME") == "" {
		os.Setenv("GTK_THEME", "Adwaita:dark")
	}
}
