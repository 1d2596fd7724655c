package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/plugins"
)

func runBroker(args []string) error {
	err := broker.Main(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// runPlugins lists the built-in plugins with every name they answer to.
func runPlugins() error {
	reg, err := plugins.Registry()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tCLASS\tALIASES")
	for _, p := range reg.Plugins() {
		fmt.Fprintf(tw, "%s\t%s\t%v\n", p.Type, p.Class, p.Aliases)
	}
	return tw.Flush()
}
