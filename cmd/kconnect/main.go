// Command kconnect is a Kafka Connect–compatible connector runtime.
//
//	kconnect standalone worker.properties [connector.properties|connector.json ...]
//	kconnect distributed worker.properties
//	kconnect broker [--host H] [--port N] [--data-dir D]
//	kconnect plugins
//	kconnect ctl COMMAND
//	kconnect docs [DIR]
//	kconnect version
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/kconnect/kconnect/internal/gctuning"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

const usage = `usage:
  kconnect standalone worker.properties [connector.properties|connector.json ...]
  kconnect distributed worker.properties
  kconnect broker [--host H] [--port N] [--data-dir D]
  kconnect plugins
  kconnect ctl COMMAND (kconnect ctl --help lists them)
  kconnect docs [DIR]
  kconnect completion bash|zsh|fish|powershell
  kconnect version`

func main() {
	gctuning.Apply()
	if err := run(os.Args[1:]); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, err)
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "kconnect:", err)
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(args []string) error {
	if len(args) == 0 {
		return usageError("missing command")
	}
	switch args[0] {
	case "standalone":
		return runStandalone(args[1:])
	case "broker":
		return runBroker(args[1:])
	case "plugins":
		return runPlugins()
	case "version", "--version", "-v":
		fmt.Println("kconnect", version)
		return nil
	case "distributed":
		return runDistributed(args[1:])
	case "ctl", "docs", "completion", "__complete", "__completeNoDesc":
		return runCobra(args)
	case "help", "--help", "-h":
		fmt.Println(usage)
		return nil
	}
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}
