package main

import (
	"context"

	"github.com/rs/zerolog"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/logger"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"github.com/qianliyan/qianliyan/console"
)

// App is the window's life around the backend. It binds no methods: the
// view talks to the backend over HTTP and the video bridge only, the same
// as in a browser.
type App struct {
	backend *console.Backend
	log     zerolog.Logger
}

// NewApp must stay free of side effects: Wails' binding generator calls it.
func NewApp(backend *console.Backend, log zerolog.Logger) *App {
	return &App{backend: backend, log: log}
}

// startup runs when the window exists. The page may already be loading;
// its bootstrap call waits for the start, and then shows the wall or the
// sign-in form.
func (a *App) startup(ctx context.Context) {
	if err := a.backend.Start(ctx); err != nil {
		a.log.Error().Err(err).Msg("console backend did not start; the window shows why")
	}
}

func (a *App) shutdown(context.Context) {
	if err := a.backend.Close(); err != nil {
		a.log.Warn().Err(err).Msg("stopping console backend")
	}
}

// runWindow opens the window and returns when it is closed.
func runWindow(backend *console.Backend, log zerolog.Logger) error {
	app := NewApp(backend, log.With().Str("component", "qianliyan").Logger())
	return wails.Run(&options.App{
		Title:            "千里眼 Qianliyan",
		Width:            1280,
		Height:           800,
		MinWidth:         960,
		MinHeight:        600,
		BackgroundColour: &options.RGBA{R: 15, G: 23, B: 42, A: 255},
		AssetServer:      &assetserver.Options{Handler: backend.AssetHandler()},
		OnStartup:        app.startup,
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
