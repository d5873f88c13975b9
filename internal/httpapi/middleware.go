package httpapi

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Recovered answers a handler's panic with a JSON 500 and logs it, instead
// of the server dropping the connection with no word.
func Recovered(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error().Interface("panic", v).Str("method", r.Method).Str("path", r.URL.Path).Msg("handler panicked")
				WriteError(w, http.StatusInternalServerError, "internal", "the server failed to handle the request; its log says why")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Logged logs each request with its status and duration: 5xx as errors,
// 4xx as info, the rest at debug. Paths are logged whole and queries not at
// all, since a query may carry a token.
func Logged(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(log.WithContext(r.Context()))
		next.ServeHTTP(sw, r)
		lvl := zerolog.DebugLevel
		if sw.status >= 500 {
			lvl = zerolog.ErrorLevel
		} else if sw.status >= 400 {
			lvl = zerolog.InfoLevel
		}
		log.WithLevel(lvl).Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).
			Dur("took", time.Since(start)).Msg("request")
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (event streams
// flush and set deadlines through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
