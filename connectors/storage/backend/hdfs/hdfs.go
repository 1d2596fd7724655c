// Package hdfs is the storage backend for HDFS (store.url or hdfs.url hdfs://namenode:port/path),
// talking the namenode and datanode protocols natively through github.com/colinmarc/hdfs/v2, with
// no Hadoop installation. Files exist while being written; the sink core writes them under
// temporary names and commits them with Rename, which never replaces a file.
package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/user"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"

	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/internal/backoff"
)

// Configuration keys this backend reads, named as Confluent's HDFS 2 and HDFS 3 sink connectors
// name them.
const (
	StoreURLConfig      = "store.url"
	HDFSURLConfig       = "hdfs.url"
	HadoopConfDirConfig = "hadoop.conf.dir"
	HadoopHomeConfig    = "hadoop.home"
	KerberosConfig      = "hdfs.authentication.kerberos"
)

// userEnv names the HDFS user, as for Hadoop's own clients (Confluent's connectors have no key
// for it: Hadoop's UserGroupInformation reads this variable, else takes the OS user).
const userEnv = "HADOOP_USER_NAME"

// defaultNamenodePort is Hadoop's namenode RPC port, used when a URL names a host without one.
const defaultNamenodePort = "8020"

// dialTimeout bounds connecting to a namenode or datanode.
const dialTimeout = 30 * time.Second

// closeRetryLimit bounds how long Close waits for the namenode to learn that the last block is
// replicated; on a healthy cluster that takes milliseconds.
const closeRetryLimit = time.Minute

// Config is the parsed configuration of an HDFS store.
type Config struct {
	// URL is the store's root: hdfs://host:port/path, hdfs://nameservice/path (resolved through
	// the Hadoop configuration) or hdfs:///path (the configuration's fs.defaultFS).
	URL string
	// ConfDir holds core-site.xml and hdfs-site.xml; empty means HADOOP_CONF_DIR or
	// $HADOOP_HOME/etc/hadoop from the environment, as Hadoop's clients do.
	ConfDir string
	// User is the HDFS user the store acts as.
	User string
}

// ParseConfig reads the backend's keys from a connector configuration; url, when not empty, is
// the store URL the core already chose (it wins over store.url and hdfs.url).
func ParseConfig(rawURL string, props map[string]string) (Config, error) {
	var c Config
	if v := props[KerberosConfig]; v != "" {
		on, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return c, fmt.Errorf("%s: %q is not a boolean", KerberosConfig, v)
		}
		if on {
			return c, fmt.Errorf("%s=true: Kerberos authentication to HDFS is not supported; use simple authentication (%s=false)", KerberosConfig, KerberosConfig)
		}
	}
	c.URL = rawURL
	if c.URL == "" {
		store, legacy := props[StoreURLConfig], props[HDFSURLConfig]
		if store != "" && legacy != "" && store != legacy {
			return c, fmt.Errorf("%s (%s) and %s (%s) name different stores; set only %s", StoreURLConfig, store, HDFSURLConfig, legacy, StoreURLConfig)
		}
		c.URL = store
		if c.URL == "" {
			c.URL = legacy
		}
	}
	if c.URL == "" {
		return c, fmt.Errorf("%s: an hdfs:// URL is required (or the deprecated %s)", StoreURLConfig, HDFSURLConfig)
	}
	c.ConfDir = props[HadoopConfDirConfig]
	if c.ConfDir == "" && props[HadoopHomeConfig] != "" {
		c.ConfDir = path.Join(props[HadoopHomeConfig], "etc", "hadoop")
	}
	c.User = os.Getenv(userEnv)
	if c.User == "" {
		u, err := user.Current()
		if err != nil {
			return c, fmt.Errorf("HDFS user: %s is not set and the OS user is unknown: %w", userEnv, err)
		}
		c.User = u.Username
	}
	return c, nil
}

// Store is a backend.Store rooted at a directory of an HDFS file system.
type Store struct {
	client *hdfs.Client
	nn     namenode
	root   string
	url    string
}

var _ backend.Store = (*Store)(nil)

// The storage sinks find this backend by its URL scheme.
func init() { backend.Register("hdfs", Open) }

// Open connects to the HDFS that url (or, when url is empty, the store.url or hdfs.url key of
// props) names; its signature is the one the backend registry expects.
func Open(ctx context.Context, rawURL string, props map[string]string) (backend.Store, error) {
	cfg, err := ParseConfig(rawURL, props)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// New connects to HDFS with a parsed configuration.
func New(_ context.Context, cfg Config) (*Store, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", StoreURLConfig, cfg.URL, err)
	}
	if u.Scheme != "hdfs" {
		return nil, fmt.Errorf("%s %q: want an hdfs:// URL", StoreURLConfig, cfg.URL)
	}
	conf, err := loadConf(cfg.ConfDir)
	if err != nil {
		return nil, err
	}
	opts := hdfs.ClientOptionsFromConf(conf)
	if opts.KerberosClient != nil {
		return nil, fmt.Errorf("%s: the Hadoop configuration sets hadoop.security.authentication=kerberos, which is not supported", HadoopConfDirConfig)
	}
	opts.Addresses, err = namenodes(u, conf)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", StoreURLConfig, cfg.URL, err)
	}
	opts.User = cfg.User
	// The library takes no contexts; a dial timeout at least keeps an unreachable namenode or
	// datanode from blocking the task indefinitely.
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	opts.NamenodeDialFunc = dialer.DialContext
	opts.DatanodeDialFunc = dialer.DialContext
	client, err := hdfs.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to HDFS %s: %w", cfg.URL, err)
	}
	nn, err := namenodeOf(client)
	if err != nil {
		client.Close()
		return nil, err
	}
	root := path.Clean("/" + u.Path)
	if err := client.MkdirAll(root, 0o755); err != nil {
		client.Close()
		return nil, fmt.Errorf("create HDFS directory %s: %w", root, err)
	}
	return &Store{client: client, nn: nn, root: root, url: cfg.URL}, nil
}

// loadConf reads the Hadoop configuration directory, or the one the environment names.
func loadConf(dir string) (hadoopconf.HadoopConf, error) {
	if dir == "" {
		conf, err := hadoopconf.LoadFromEnvironment()
		if err != nil {
			return nil, fmt.Errorf("read the Hadoop configuration from HADOOP_CONF_DIR/HADOOP_HOME: %w", err)
		}
		return conf, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: %s is not a readable directory", HadoopConfDirConfig, dir)
	}
	conf, err := hadoopconf.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", HadoopConfDirConfig, dir, err)
	}
	return conf, nil
}

// namenodes resolves a store URL's authority: empty means fs.defaultFS; a nameservice declared in
// the configuration means its namenodes (high availability); anything else is host[:port].
func namenodes(u *url.URL, conf hadoopconf.HadoopConf) ([]string, error) {
	if u.Host == "" {
		if addrs := conf.Namenodes(); len(addrs) > 0 {
			return addrs, nil
		}
		return nil, errors.New("the URL names no namenode and the Hadoop configuration has no fs.defaultFS")
	}
	if u.Port() == "" {
		var ha []string
		for key, addr := range conf {
			if strings.HasPrefix(key, "dfs.namenode.rpc-address."+u.Hostname()+".") {
				ha = append(ha, addr)
			}
		}
		if len(ha) > 0 {
			sort.Strings(ha)
			return ha, nil
		}
		return []string{net.JoinHostPort(u.Hostname(), defaultNamenodePort)}, nil
	}
	return []string{u.Host}, nil
}

// abs maps a store path to an absolute HDFS path, refusing paths that leave the root.
func (s *Store) abs(p string) (string, error) {
	if strings.Contains(p, "\x00") {
		return "", fmt.Errorf("invalid storage path %q", p)
	}
	clean := path.Clean("/" + p)
	if clean == "/" && p != "" {
		return "", fmt.Errorf("invalid storage path %q", p)
	}
	return path.Join(s.root, clean), nil
}

// rel maps an absolute HDFS path under the root back to a store path.
func (s *Store) rel(abs string) string {
	return strings.TrimPrefix(strings.TrimPrefix(abs, s.root), "/")
}

// mapErr wraps a library error so that errors.Is finds backend.ErrNotExist or ErrExist.
func mapErr(op, p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s %s: %w (%w)", op, p, backend.ErrNotExist, err)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s %s: %w (%w)", op, p, backend.ErrExist, err)
	}
	return fmt.Errorf("%s %s: %w", op, p, err)
}

// Capabilities implements backend.Store: HDFS renames are atomic namenode operations, and
// creating a file fails when it exists.
func (s *Store) Capabilities() backend.Capabilities {
	return backend.Capabilities{AtomicRename: true, AtomicCreateExclusive: true}
}

// URL implements backend.Store.
func (s *Store) URL() string { return s.url }

// Close implements backend.Store.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("close HDFS client %s: %w", s.url, err)
	}
	return nil
}

// Create implements backend.Store. HDFS cannot replace a file when a writer closes, so an
// existing file is removed first; the core only re-creates temporary files and logs.
func (s *Store) Create(_ context.Context, p string) (backend.Writer, error) {
	abs, err := s.abs(p)
	if err != nil {
		return nil, err
	}
	if err := s.client.MkdirAll(path.Dir(abs), 0o755); err != nil {
		return nil, mapErr("create directory", path.Dir(abs), err)
	}
	if err := s.client.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, mapErr("replace", abs, err)
	}
	f, err := s.client.Create(abs)
	if err != nil {
		return nil, mapErr("create", abs, err)
	}
	return &writer{s: s, f: f, path: abs}, nil
}

// CreateExclusive implements backend.Store: data is written to a hidden temporary file beside
// path, which the namenode's non-replacing rename then moves to path. The check is atomic, and
// path never holds a partial file, even after a crash (which can leave only the hidden file).
func (s *Store) CreateExclusive(_ context.Context, p string, data []byte) error {
	abs, err := s.abs(p)
	if err != nil {
		return err
	}
	dir := path.Dir(abs)
	if err := s.client.MkdirAll(dir, 0o755); err != nil {
		return mapErr("create directory", dir, err)
	}
	tmp := path.Join(dir, fmt.Sprintf("%s%016x", exclusivePrefix, rand.Uint64()))
	f, err := s.client.Create(tmp)
	if err != nil {
		return mapErr("create", tmp, err)
	}
	w := &writer{s: s, f: f, path: tmp}
	if _, err := w.Write(data); err != nil {
		return errors.Join(err, w.Abort())
	}
	if err := w.Close(); err != nil {
		return errors.Join(err, s.removeQuietly(tmp))
	}
	if err := s.nn.renameNoReplace(tmp, abs); err != nil {
		return errors.Join(mapErr("create", abs, err), s.removeQuietly(tmp))
	}
	return nil
}

// exclusivePrefix starts the names of CreateExclusive's temporary files, which List leaves out.
const exclusivePrefix = ".excl-"

func (s *Store) removeQuietly(abs string) error {
	if err := s.client.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return mapErr("remove", abs, err)
	}
	return nil
}

// Open implements backend.Store.
func (s *Store) Open(_ context.Context, p string) (io.ReadCloser, error) {
	abs, err := s.abs(p)
	if err != nil {
		return nil, err
	}
	f, err := s.client.Open(abs)
	if err != nil {
		return nil, mapErr("open", abs, err)
	}
	if f.Stat().IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %s: is a directory: %w", abs, backend.ErrNotExist)
	}
	return f, nil
}

// Stat implements backend.Store.
func (s *Store) Stat(_ context.Context, p string) (backend.FileInfo, error) {
	abs, err := s.abs(p)
	if err != nil {
		return backend.FileInfo{}, err
	}
	fi, err := s.client.Stat(abs)
	if err != nil {
		return backend.FileInfo{}, mapErr("stat", abs, err)
	}
	if fi.IsDir() {
		return backend.FileInfo{}, fmt.Errorf("stat %s: is a directory: %w", abs, backend.ErrNotExist)
	}
	return backend.FileInfo{Path: s.rel(abs), Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List implements backend.Store, walking the directory tree under prefix.
func (s *Store) List(_ context.Context, prefix string) ([]backend.FileInfo, error) {
	dir := s.root
	if strings.Trim(prefix, "/") != "" {
		var err error
		if dir, err = s.abs(prefix); err != nil {
			return nil, err
		}
	}
	var out []backend.FileInfo
	err := s.client.Walk(dir, func(p string, fi fs.FileInfo, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !fi.IsDir() && !strings.HasPrefix(fi.Name(), exclusivePrefix) {
			out = append(out, backend.FileInfo{Path: s.rel(p), Size: fi.Size(), ModTime: fi.ModTime()})
		}
		return nil
	})
	if err != nil {
		return nil, mapErr("list", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Rename implements backend.Store with the namenode's rename2 without overwrite, which fails
// atomically when to exists. The target's directory is created first.
func (s *Store) Rename(_ context.Context, from, to string) error {
	af, err := s.abs(from)
	if err != nil {
		return err
	}
	at, err := s.abs(to)
	if err != nil {
		return err
	}
	if err := s.client.MkdirAll(path.Dir(at), 0o755); err != nil {
		return mapErr("create directory", path.Dir(at), err)
	}
	if err := s.nn.renameNoReplace(af, at); err != nil {
		return mapErr("rename "+af+" to", at, err)
	}
	return nil
}

// Delete implements backend.Store.
func (s *Store) Delete(_ context.Context, p string) error {
	abs, err := s.abs(p)
	if err != nil {
		return err
	}
	if err := s.client.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return mapErr("delete", abs, err)
	}
	return nil
}

// writer streams into an HDFS file; the library buffers one packet (64 KiB) and sends it down the
// datanode pipeline, so memory stays small whatever the file's size.
type writer struct {
	s    *Store
	f    *hdfs.FileWriter
	path string

	mu   sync.Mutex
	done bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.path, fs.ErrClosed)
	}
	n, err := w.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", w.path, err)
	}
	return n, nil
}

// Close completes the file. The namenode may answer that the last block is not yet reported
// replicated (ErrReplicating): the data is safe on the datanodes, and the library documents
// retrying Close until the namenode agrees, as Hadoop's Java client does.
func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("close %s: %w", w.path, fs.ErrClosed)
	}
	w.done = true
	deadline := time.Now().Add(closeRetryLimit)
	b := backoff.Backoff{Min: 10 * time.Millisecond, Max: time.Second}
	for {
		err := w.f.Close()
		if err == nil {
			return nil
		}
		if !hdfs.IsErrReplicating(err) || time.Now().After(deadline) {
			return fmt.Errorf("close %s: %w", w.path, err)
		}
		time.Sleep(b.Next())
	}
}

// Abort closes the file and removes it. Close may fail on a broken pipeline; the file is removed
// regardless, which also releases its lease.
func (w *writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	_ = w.f.Close()
	if err := w.s.client.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return mapErr("abort", w.path, err)
	}
	return nil
}
