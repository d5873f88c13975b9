// Command relay runs the Qianliyan relay: sites publish cameras to it by
// WHIP or it pulls them by RTSP, consoles watch them by WHEP. With --demo it
// makes demo sites, a duty user and a publish token on its first run and
// prints them. "relay user|site|camera …" manage its users, sites and
// cameras in its data directory.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/qianliyan/qianliyan/internal/logging"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/auth"
	"github.com/qianliyan/qianliyan/relay/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type flags struct {
	opts         relay.Options
	level        string
	hashPassword bool
	// listen and data are set when given on the command line, where they
	// override the configuration file.
	listen, data string
	pprof        string // profiler address, none when empty
}

// run returns the exit status: 2 for a bad command line, 1 for a failure.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if i := commandAt(args); i >= 0 {
		// "relay --data DIR user list" is "relay user list --data DIR".
		return admin(ctx, append(slices.Clip(args[i:]), args[:i]...), stdin, stdout, stderr)
	}
	f, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 2
	}
	if f.hashPassword {
		return hashPassword(stdin, stdout, stderr)
	}
	log, err := logging.New(f.level, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 2
	}
	f.opts.Log = log
	// Resolved here as Start would, to tell where the demo credentials go.
	cfg := config.Default()
	if f.opts.ConfigFile != "" {
		if cfg, err = config.Load(f.opts.ConfigFile); err != nil {
			fmt.Fprintf(stderr, "relay: %v\n", err)
			return 1
		}
	}
	f.opts.Listen, f.opts.DataDir = cfg.Listen, cfg.DataDir
	if f.listen != "" {
		f.opts.Listen = f.listen
	}
	if f.data != "" {
		f.opts.DataDir = f.data
	}

	r, err := relay.Start(ctx, f.opts)
	if err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	if f.pprof != "" {
		url, stop, err := startPprof(f.pprof)
		if err != nil {
			r.Close()
			fmt.Fprintf(stderr, "relay: %v\n", err)
			return 1
		}
		defer stop()
		fmt.Fprintf(stdout, "profiler at %s\n", url)
	}
	if f.opts.Demo {
		d := r.Demo()
		fmt.Fprintf(stdout, "Qianliyan demo relay at %s\n  user:          %s\n  password:      %s\n  publish token: %s\n"+
			"  site managers: %s, password %s, at %s/site/\n  (for scripts: %s)\n",
			r.URL(), d.User, d.Password, d.PublishToken, strings.Join(d.Managers, ", "), d.ManagerPassword, r.URL(),
			filepath.Join(f.opts.DataDir, relay.DemoCredentialsFile))
	}
	<-ctx.Done()
	log.Info().Str("component", "relay").Msg("signal received; stopping")
	if err := r.Close(); err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	return 0
}

// commandAt returns where the user, site, camera or coverage command is in args,
// after nothing but --data DIR; -1 if there is none.
func commandAt(args []string) int {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "user" || a == "site" || a == "camera" || a == "coverage":
			return i
		case a == "--data" || a == "-data":
			i++
		case strings.HasPrefix(a, "--data=") || strings.HasPrefix(a, "-data="):
		default:
			return -1
		}
	}
	return -1
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	fs := flag.NewFlagSet("relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: relay [flags]\n       relay --hash-password < password\n       relay user|site|camera|coverage … (relay user --help)\n\nFlags:\n")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", config.DefaultListen, "address to serve HTTP, WHIP and WHEP on, host:port")
	data := fs.String("data", config.DefaultDataDir, "data directory (database, signing key, demo credentials)")
	demo := fs.Bool("demo", false, "create demo sites, a duty user and a publish token on first run; loopback-only ICE")
	configFile := fs.String("config", "", "YAML configuration file (see relay/config.example.yaml)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (/debug/pprof/) on this loopback host:port, for performance work")
	hash := fs.Bool("hash-password", false, "read a password from standard input, print its bcrypt hash for the configuration, and exit")
	if err := fs.Parse(args); err != nil {
		return flags{}, err
	}
	if fs.NArg() > 0 {
		return flags{}, fmt.Errorf("unexpected argument %q (flags start with --; commands are user, site, camera and coverage)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	f := flags{level: *level, hashPassword: *hash, opts: relay.Options{Demo: *demo, ConfigFile: *configFile}}
	if set["listen"] {
		if _, _, err := net.SplitHostPort(*listen); err != nil {
			return flags{}, fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080", *listen)
		}
		f.listen = *listen
	}
	if set["data"] {
		if *data == "" {
			return flags{}, errors.New("--data must not be empty")
		}
		f.data = *data
	}
	if set["config"] && *configFile == "" {
		return flags{}, errors.New("--config must name a file")
	}
	if set["pprof"] {
		if err := checkPprofAddr(*pprofAddr); err != nil {
			return flags{}, err
		}
		f.pprof = *pprofAddr
	}
	return f, nil
}

// hashPassword prints the bcrypt hash of the first line of stdin.
func hashPassword(stdin io.Reader, stdout, stderr io.Writer) int {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(stderr, "relay: reading the password: %v\n", err)
		return 1
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		fmt.Fprintln(stderr, "relay: --hash-password: empty password on standard input")
		return 2
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		fmt.Fprintf(stderr, "relay: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, hash)
	return 0
}
