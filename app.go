package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/rs/zerolog"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"github.com/qianliyan/qianliyan/console"
)

// secondWallEvent is the view's request for a second wall (console/windowShell.ts).
const secondWallEvent = "qianliyan:second-wall"

// The window's smallest size: the wall, the camera list and a work panel
// still readable.
const minWidth, minHeight = 960, 600

// App is the window's life around the backend. It binds no methods: the
// view talks to the backend over HTTP and the video bridge only, the same
// as in a browser; the window's own runtime (full screen) it reaches
// through Wails' JavaScript runtime, and a second wall through an event.
type App struct {
	backend *console.Backend
	log     zerolog.Logger
	dataDir string
	// The window's geometry read at start: where it is put once the page is up.
	start windowGeometry
	known bool

	serveOnce sync.Once
	pageURL   string
	serveErr  error
}

// NewApp must stay free of side effects: Wails' binding generator calls it.
func NewApp(backend *console.Backend, log zerolog.Logger, dataDir string) *App {
	return &App{backend: backend, log: log, dataDir: dataDir}
}

// startup runs when the window exists. The page may already be loading;
// its bootstrap call waits for the start, and then shows the wall or the
// sign-in form.
func (a *App) startup(ctx context.Context) {
	if err := a.backend.Start(ctx); err != nil {
		a.log.Error().Err(err).Msg("console backend did not start; the window shows why")
	}
	wailsruntime.EventsOn(ctx, secondWallEvent, func(data ...any) {
		query, _ := firstString(data)
		a.openSecondWall(ctx, query)
	})
}

// domReady puts a window of remembered size back where it was. Wails
// centres the window as it shows it, after the start: moved earlier, it
// would be centred again.
func (a *App) domReady(ctx context.Context) {
	if a.known && !a.start.Maximised && a.start.placed() {
		wailsruntime.WindowSetPosition(ctx, a.start.X, a.start.Y)
	}
}

// beforeClose keeps the window's geometry for the next run. A maximised or
// full-screen window keeps the size it had before, to come back to.
func (a *App) beforeClose(ctx context.Context) bool {
	g := a.start
	if wailsruntime.WindowIsMaximised(ctx) || wailsruntime.WindowIsFullscreen(ctx) {
		g.Maximised = true
	} else {
		g.Maximised = false
		g.X, g.Y = wailsruntime.WindowGetPosition(ctx)
		g.Width, g.Height = wailsruntime.WindowGetSize(ctx)
	}
	if err := saveGeometry(a.dataDir, g); err != nil {
		a.log.Warn().Err(err).Msg("keeping the window's size and place for the next run")
	}
	return false
}

func (a *App) shutdown(context.Context) {
	if err := a.backend.Close(); err != nil {
		a.log.Warn().Err(err).Msg("stopping console backend")
	}
}

// openSecondWall opens a second wall, for another monitor, in the system
// browser. Wails v2 has one window per process, so the second wall is the
// console's view served on a loopback address (as with --serve), started at
// the first request: the same backend, session and data as this window.
func (a *App) openSecondWall(ctx context.Context, query string) {
	a.serveOnce.Do(func() {
		// The address lives as long as the backend: Close ends it.
		a.pageURL, a.serveErr = a.backend.Serve(context.Background(), "127.0.0.1:0")
	})
	if a.serveErr != nil {
		a.log.Error().Err(a.serveErr).Msg("serving a second wall to the browser")
		return
	}
	u, err := secondWallURL(a.pageURL, query)
	if err != nil {
		a.log.Warn().Err(err).Msg("a second wall asked for with a bad address")
		return
	}
	// The address carries the secret: it goes to the browser, never the log.
	a.log.Info().Msg("opening a second wall in the system browser")
	wailsruntime.BrowserOpenURL(ctx, u)
}

// secondWallURL is the served page's address with what the second wall
// shows (?layout=, ?grid=, ?tour=, read by the view's useFirstWall); any
// other parameter the view sent is dropped.
func secondWallURL(pageURL, query string) (string, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return "", fmt.Errorf("reading the served page's address: %w", err)
	}
	asked, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("reading what the second wall shows (%q): %w", query, err)
	}
	q := u.Query()
	for _, k := range []string{"layout", "grid", "tour"} {
		if v := asked.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func firstString(data []any) (string, bool) {
	if len(data) == 0 {
		return "", false
	}
	s, ok := data[0].(string)
	return s, ok
}

// windowGeometry is the window's size and place, kept in the data
// directory across runs. X and Y are the window's position on the screen.
type windowGeometry struct {
	X         int  `json:"x"`
	Y         int  `json:"y"`
	Width     int  `json:"width"`
	Height    int  `json:"height"`
	Maximised bool `json:"maximised"`
}

const geometryFile = "window.json"

// sized is whether the geometry has a size to go back to.
func (g windowGeometry) sized() bool { return g.Width >= minWidth && g.Height >= minHeight }

// placed is whether it also has a place on the screen.
func (g windowGeometry) placed() bool { return g.sized() && g.X >= 0 && g.Y >= 0 }

// loadGeometry reads the geometry the last run kept; false on the first run
// (or a file that cannot be read, which starts the window as on the first).
func loadGeometry(dir string) (windowGeometry, bool, error) {
	var g windowGeometry
	b, err := os.ReadFile(filepath.Join(dir, geometryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("reading the window's geometry: %w", err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		return windowGeometry{}, false, fmt.Errorf("reading the window's geometry from %s: %w", geometryFile, err)
	}
	return g, true, nil
}

// saveGeometry writes the geometry whole or not at all.
func saveGeometry(dir string, g windowGeometry) error {
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("encoding the window's geometry: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("making the data directory for the window's geometry: %w", err)
	}
	tmp := filepath.Join(dir, geometryFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing the window's geometry: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, geometryFile)); err != nil {
		return fmt.Errorf("keeping the window's geometry: %w", err)
	}
	return nil
}

// windowOptions opens the window as the last run left it, or maximised on
// the first run: a wall wants the whole screen. A maximised window keeps
// its earlier size for the officer to restore it to.
func windowOptions(g windowGeometry, known bool) (width, height int, state options.WindowStartState) {
	width, height, state = 1280, 800, options.Maximised
	if known && g.sized() {
		width, height = g.Width, g.Height
		if !g.Maximised {
			state = options.Normal
		}
	}
	return width, height, state
}

// runWindow opens the window and returns when it is closed.
func runWindow(backend *console.Backend, log zerolog.Logger, dataDir string) error {
	app := NewApp(backend, log.With().Str("component", "qianliyan").Logger(), dataDir)
	g, known, err := loadGeometry(dataDir)
	if err != nil {
		app.log.Warn().Err(err).Msg("the window opens maximised")
	}
	app.start, app.known = g, known
	width, height, state := windowOptions(g, known)
	return wails.Run(&options.App{
		Title:            "千里眼 Qianliyan",
		Width:            width,
		Height:           height,
		MinWidth:         minWidth,
		MinHeight:        minHeight,
		WindowStartState: state,
		BackgroundColour: &options.RGBA{R: 15, G: 23, B: 42, A: 255},
		AssetServer:      &assetserver.Options{Handler: backend.AssetHandler()},
		OnStartup:        app.startup,
		OnDomReady:       app.domReady,
		OnBeforeClose:    app.beforeClose,
		OnShutdown:       app.shutdown,
		Logger:           wailsLog{log.With().Str("component", "wails").Logger()},
		LogLevel:         logger.WARNING,
		Linux:            &linux.Options{ProgramName: "qianliyan"},
	})
}

// wailsLog sends Wails' own messages to the console's log.
type wailsLog struct{ log zerolog.Logger }

func (l wailsLog) Print(m string)   { l.log.Info().Msg(m) }
func (l wailsLog) Trace(m string)   { l.log.Trace().Msg(m) }
func (l wailsLog) Debug(m string)   { l.log.Debug().Msg(m) }
func (l wailsLog) Info(m string)    { l.log.Info().Msg(m) }
func (l wailsLog) Warning(m string) { l.log.Warn().Msg(m) }
func (l wailsLog) Error(m string)   { l.log.Error().Msg(m) }
func (l wailsLog) Fatal(m string)   { l.log.Fatal().Msg(m) }
