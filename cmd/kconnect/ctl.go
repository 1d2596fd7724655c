package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/ctl"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/herder"
)

// runCobra runs the commands built on cobra: ctl, docs and cobra's shell completion.
func runCobra(args []string) error {
	root := &cobra.Command{
		Use:           "kconnect",
		Short:         "A Kafka Connect-compatible connector runtime",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newCtlCommand(), newDocsCommand())
	root.SetArgs(args)
	return root.Execute()
}

// ctlOptions are the flags every ctl command shares.
type ctlOptions struct {
	configPath, context, url, output string
}

func (o *ctlOptions) client() (*ctl.Client, error) {
	cfg, err := o.loadConfig()
	if err != nil {
		return nil, err
	}
	c, err := cfg.Resolve(o.context)
	if err != nil {
		return nil, err
	}
	// Credentials go to --url only from a context named with it: the current context's
	// password is not for whatever host --url names.
	if o.url != "" {
		if o.context == "" {
			c = ctl.Context{}
		}
		c.Cluster = o.url
	}
	return &ctl.Client{BaseURL: c.Cluster, Username: c.Username, Password: c.Password}, nil
}

func (o *ctlOptions) loadConfig() (*ctl.Config, error) {
	if o.configPath == "" {
		p, err := ctl.DefaultConfigPath()
		if err != nil {
			return nil, err
		}
		o.configPath = p
	}
	return ctl.LoadConfig(o.configPath)
}

func (o *ctlOptions) format() (ctl.Format, error) { return ctl.ParseFormat(o.output) }

// formatAndClient checks --output before anything is sent, then builds the client.
func (o *ctlOptions) formatAndClient() (ctl.Format, *ctl.Client, error) {
	f, err := o.format()
	if err != nil {
		return "", nil, err
	}
	c, err := o.client()
	return f, c, err
}

// completeConnectors offers, for shell completion, the cluster's connector names not yet given.
func (o *ctlOptions) completeConnectors(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	c, err := o.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names, err := c.ConnectorNames(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(args, n) })
	return names, cobra.ShellCompDirectiveNoFileComp
}

// completeConnector is completeConnectors for commands that take one connector.
func (o *ctlOptions) completeConnector(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return o.completeConnectors(cmd, args, toComplete)
}

func newCtlCommand() *cobra.Command {
	o := &ctlOptions{}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Control connectors through the REST API of kconnect or Apache Kafka Connect",
		Long: "ctl controls connectors through the REST API of any Kafka Connect cluster, kconnect's\n" +
			"or Apache Kafka Connect's. The cluster comes from --url, or else from the context file\n" +
			"(" + "$" + ctl.EnvConfig + ", or kconnect/ctl.yaml in the user's config directory), or else\n" +
			"is http://localhost:8083.",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.configPath, "config", "", "context file (default $"+ctl.EnvConfig+" or ~/.config/kconnect/ctl.yaml)")
	pf.StringVar(&o.context, "context", "", "context to use instead of the current one")
	pf.StringVar(&o.url, "url", "", "REST URL of the cluster, overriding the context's")
	pf.StringVarP(&o.output, "output", "o", string(ctl.Table), "output format: table, json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]cobra.Completion{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))

	cmd.AddCommand(newGetCommand(o), newDescribeCommand(o), newApplyCommand(o), newPatchCommand(o),
		newDeleteCommand(o), newCtlConfigCommand(o))
	for _, a := range []struct {
		use, done, short string
		call             func(c *ctl.Client, cmd *cobra.Command, name string) error
	}{
		{"pause", "paused", "Pause connectors and their tasks", func(c *ctl.Client, cmd *cobra.Command, n string) error { return c.Pause(cmd.Context(), n) }},
		{"resume", "resumed", "Resume paused or stopped connectors", func(c *ctl.Client, cmd *cobra.Command, n string) error { return c.Resume(cmd.Context(), n) }},
		{"stop", "stopped", "Stop connectors, keeping their configs (their offsets can then be changed)", func(c *ctl.Client, cmd *cobra.Command, n string) error { return c.Stop(cmd.Context(), n) }},
	} {
		cmd.AddCommand(&cobra.Command{
			Use: a.use + " NAME...", Short: a.short, Args: cobra.MinimumNArgs(1),
			ValidArgsFunction: o.completeConnectors,
			RunE: func(cmd *cobra.Command, args []string) error {
				return eachConnector(o, cmd, args, a.done, func(c *ctl.Client, n string) error { return a.call(c, cmd, n) })
			},
		})
	}
	cmd.AddCommand(newRestartCommand(o))
	return cmd
}

// eachConnector runs action on every named connector, reporting each, and fails if any failed.
func eachConnector(o *ctlOptions, cmd *cobra.Command, names []string, done string, action func(*ctl.Client, string) error) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := action(c, n); err != nil {
			errs = append(errs, fmt.Errorf("connector %s: %w", n, err))
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "connector %s %s\n", n, done)
	}
	return errors.Join(errs...)
}

func newRestartCommand(o *ctlOptions) *cobra.Command {
	var includeTasks, onlyFailed bool
	cmd := &cobra.Command{
		Use: "restart NAME...", Short: "Restart connectors and, with --include-tasks, their tasks",
		Args: cobra.MinimumNArgs(1), ValidArgsFunction: o.completeConnectors,
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachConnector(o, cmd, args, "restarted", func(c *ctl.Client, n string) error {
				return c.Restart(cmd.Context(), n, includeTasks, onlyFailed)
			})
		},
	}
	cmd.Flags().BoolVar(&includeTasks, "include-tasks", false, "restart the tasks too")
	cmd.Flags().BoolVar(&onlyFailed, "only-failed", false, "restart only the connector and tasks that failed")
	return cmd
}

// show returns the RunE of a command that reads something from the cluster and prints it in the
// chosen format.
func show[T any](o *ctlOptions, read func(*cobra.Command, *ctl.Client, []string) (T, error), print func(io.Writer, ctl.Format, T) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		f, c, err := o.formatAndClient()
		if err != nil {
			return err
		}
		v, err := read(cmd, c, args)
		if err != nil {
			return err
		}
		return print(cmd.OutOrStdout(), f, v)
	}
}

func newGetCommand(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "get", Short: "List connectors, plugins or a connector's offsets"}
	var all bool
	plugins := &cobra.Command{
		Use: "plugins", Aliases: []string{"plugin", "connector-plugins"}, Short: "List the installed plugins",
		Args: cobra.NoArgs,
		RunE: show(o, func(cmd *cobra.Command, c *ctl.Client, _ []string) ([]herder.PluginInfo, error) {
			return c.Plugins(cmd.Context(), all)
		}, ctl.PrintPlugins),
	}
	plugins.Flags().BoolVar(&all, "all", false, "list converters, transformations and predicates too")
	cmd.AddCommand(&cobra.Command{
		Use: "connectors", Aliases: []string{"connector", "conn"}, Short: "List connectors with their state",
		Args: cobra.NoArgs,
		RunE: show(o, func(cmd *cobra.Command, c *ctl.Client, _ []string) ([]ctl.Connector, error) {
			return c.Connectors(cmd.Context())
		}, ctl.PrintConnectors),
	}, plugins, &cobra.Command{
		Use: "offsets NAME", Short: "Show a connector's committed offsets",
		Args: cobra.ExactArgs(1), ValidArgsFunction: o.completeConnector,
		RunE: show(o, func(cmd *cobra.Command, c *ctl.Client, args []string) ([]herder.Offset, error) {
			return c.Offsets(cmd.Context(), args[0])
		}, ctl.PrintOffsets),
	})
	return cmd
}

func newDescribeCommand(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "describe", Short: "Show one object in detail"}
	var watch bool
	var interval time.Duration
	describe := show(o, func(cmd *cobra.Command, c *ctl.Client, args []string) (ctl.Connector, error) {
		return c.Connector(cmd.Context(), args[0])
	}, ctl.PrintDescription)
	conn := &cobra.Command{
		Use: "connector NAME", Aliases: []string{"connectors", "conn"},
		Short: "Show a connector's state, progress, config, tasks and the traces of its failures",
		Args:  cobra.ExactArgs(1), ValidArgsFunction: o.completeConnector,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !watch {
				if cmd.Flags().Changed("interval") {
					return errors.New("--interval: only with --watch")
				}
				return describe(cmd, args)
			}
			return watchConnector(cmd, o, args[0], interval)
		},
	}
	conn.Flags().BoolVarP(&watch, "watch", "w", false, "show the description again whenever it changes, until the connector reports no progress")
	conn.Flags().DurationVar(&interval, "interval", 2*time.Second, "how often --watch reads the connector")
	cmd.AddCommand(conn)
	return cmd
}

// watchSeparators go between successive descriptions when they are not redrawn in place: a blank
// line between tables, a document marker between YAML documents, nothing between JSON values
// (a JSON decoder reads them as a stream).
var watchSeparators = map[ctl.Format]string{ctl.Table: "\n", ctl.YAML: "---\n", ctl.JSON: ""}

// watchConnector reads a connector every interval and prints its description whenever it changed,
// until it reports no progress: that last state is printed too, so a connector without progress
// is described once. On a terminal each description replaces the one before; elsewhere they follow
// one another, so a log keeps every step. An interrupt ends the watch without an error.
func watchConnector(cmd *cobra.Command, o *ctlOptions, name string, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("--interval %s: want a positive duration", interval)
	}
	f, c, err := o.formatAndClient()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	out := cmd.OutOrStdout()
	file, ok := out.(*os.File)
	redraw := ok && term.IsTerminal(int(file.Fd()))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last string
	for {
		d, err := c.Connector(ctx, name)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := ctl.PrintDescription(&buf, f, d); err != nil {
			return err
		}
		if frame := buf.String(); frame != last {
			prefix := ""
			switch {
			case redraw:
				prefix = "\x1b[H\x1b[2J" // cursor home, clear screen
			case last != "":
				prefix = watchSeparators[f]
			}
			if _, err := io.WriteString(out, prefix+frame); err != nil {
				return err
			}
			last = frame
		}
		if !ctl.InProgress(d) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func newApplyCommand(o *ctlOptions) *cobra.Command {
	var paths []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR",
		Short: "Create or update connectors from .properties or JSON files, after the worker validated them",
		Long: "apply reads connector configs (a .properties file, a JSON config map, a JSON\n" +
			"{\"name\",\"config\"} body, or a directory of them), validates each with the worker and\n" +
			"creates or updates it. An invalid config is not applied: its failing keys are printed\n" +
			"and the command exits non-zero.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, c, err := o.formatAndClient()
			if err != nil {
				return err
			}
			var files []ctl.ConnectorFile
			for _, p := range paths {
				fs, err := loadConnectorFiles(p)
				if err != nil {
					return err
				}
				files = append(files, fs...)
			}
			var results []ctl.ApplyResult
			var errs []error
			for _, file := range files {
				res, err := c.Apply(cmd.Context(), file)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				results = append(results, res)
				if f != ctl.Table {
					continue
				}
				verb := "configured"
				if res.Created {
					verb = "created"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "connector %s %s\n", res.Name, verb)
				for _, w := range res.Warnings {
					for _, m := range w.Messages {
						fmt.Fprintf(cmd.ErrOrStderr(), "warning: connector %s: %s: %s\n", res.Name, w.Key, m)
					}
				}
			}
			if f != ctl.Table {
				if err := ctl.Encode(cmd.OutOrStdout(), f, results); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringSliceVarP(&paths, "filename", "f", nil, "connector config file or directory (repeatable)")
	_ = cmd.MarkFlagRequired("filename")
	_ = cmd.MarkFlagFilename("filename", "properties", "json")
	return cmd
}

// loadConnectorFiles reads the connector configs at path, a file or a directory of .properties
// and .json files (in name order), in the formats `kconnect standalone` reads.
func loadConnectorFiles(path string) ([]ctl.ConnectorFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read connector config: %w", err)
	}
	paths := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("read connector configs: %w", err)
		}
		paths = paths[:0]
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".properties" || ext == ".json") {
				paths = append(paths, filepath.Join(path, e.Name()))
			}
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("%s: no .properties or .json connector configs in the directory", path)
		}
	}
	out := make([]ctl.ConnectorFile, 0, len(paths))
	for _, p := range paths {
		cf, err := loadConfigFile(p)
		if err != nil {
			return nil, err
		}
		// The worker knows the plugins, so only what the REST call needs is checked here.
		for _, key := range []string{runtime.ConnectorName, runtime.ConnectorClass} {
			if cf.props[key] == "" {
				return nil, cf.errorAt(key, "missing")
			}
		}
		out = append(out, ctl.ConnectorFile{Path: p, Name: cf.props[runtime.ConnectorName], Config: cf.props})
	}
	return out, nil
}

func newPatchCommand(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "patch", Short: "Change part of an object"}
	var path string
	offsets := &cobra.Command{
		Use:   "offsets NAME -f FILE",
		Short: "Change a stopped connector's offsets from a JSON file ({\"offsets\":[…]} or the bare list)",
		Args:  cobra.ExactArgs(1), ValidArgsFunction: o.completeConnector,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			offs, err := readOffsets(path)
			if err != nil {
				return err
			}
			msg, err := c.AlterOffsets(cmd.Context(), args[0], offs)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	offsets.Flags().StringVarP(&path, "filename", "f", "", "JSON file with the offsets")
	_ = offsets.MarkFlagRequired("filename")
	_ = offsets.MarkFlagFilename("filename", "json")
	cmd.AddCommand(offsets)
	return cmd
}

// readOffsets reads the body of PATCH /connectors/{c}/offsets, or just its list of offsets.
func readOffsets(path string) ([]herder.Offset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read offsets: %w", err)
	}
	var body struct {
		Offsets []herder.Offset `json:"offsets"`
	}
	if err := json.Unmarshal(data, &body); err == nil && body.Offsets != nil {
		return body.Offsets, nil
	}
	if err := json.Unmarshal(data, &body.Offsets); err != nil {
		return nil, fmt.Errorf("%s: want {\"offsets\":[{\"partition\":…,\"offset\":…}]} or that list: %w", path, err)
	}
	return body.Offsets, nil
}

func newDeleteCommand(o *ctlOptions) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME...", Short: "Delete connectors", Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: o.completeConnectors,
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachConnector(o, cmd, args, "deleted", func(c *ctl.Client, n string) error { return c.Delete(cmd.Context(), n) })
		},
	}
}

func newCtlConfigCommand(o *ctlOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Manage the contexts: clusters and their credentials"}
	var set ctl.Context
	setContext := &cobra.Command{
		Use: "set-context NAME --cluster URL [--username U --password P]", Short: "Add or change a context",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.loadConfig()
			if err != nil {
				return err
			}
			old := cfg.Contexts[args[0]]
			fl := cmd.Flags()
			if !fl.Changed("cluster") {
				set.Cluster = old.Cluster
			}
			if !fl.Changed("username") {
				set.Username = old.Username
			}
			if !fl.Changed("password") {
				set.Password = old.Password
			}
			if set.Cluster == "" {
				return errors.New("set-context: --cluster is required for a new context")
			}
			cfg.Contexts[args[0]] = set
			if cfg.CurrentContext == "" {
				cfg.CurrentContext = args[0]
			}
			if err := cfg.Save(o.configPath); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "context %s set in %s\n", args[0], o.configPath)
			return nil
		},
	}
	setContext.Flags().StringVar(&set.Cluster, "cluster", "", "REST URL of the cluster, such as http://localhost:8083")
	setContext.Flags().StringVar(&set.Username, "username", "", "basic-auth user")
	setContext.Flags().StringVar(&set.Password, "password", "", "basic-auth password")
	completeContexts := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cfg, err := o.loadConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return connect.SortedKeys(cfg.Contexts), cobra.ShellCompDirectiveNoFileComp
	}
	cmd.AddCommand(setContext, &cobra.Command{
		Use: "use-context NAME", Short: "Make a context the current one", Args: cobra.ExactArgs(1),
		ValidArgsFunction: completeContexts,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := o.loadConfig()
			if err != nil {
				return err
			}
			if _, err := cfg.Resolve(args[0]); err != nil {
				return err
			}
			cfg.CurrentContext = args[0]
			if err := cfg.Save(o.configPath); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "switched to context %s\n", args[0])
			return nil
		},
	}, &cobra.Command{
		Use: "get-contexts", Short: "List the contexts", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.loadConfig()
			if err != nil {
				return err
			}
			f, err := o.format()
			if err != nil {
				return err
			}
			return ctl.PrintContexts(cmd.OutOrStdout(), f, cfg)
		},
	})
	return cmd
}
