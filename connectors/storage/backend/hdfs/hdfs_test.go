package hdfs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/backend/backendtest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// openTestStore opens a store rooted at a fresh directory of the test HDFS.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	base := testenv.HDFS(t)
	root := fmt.Sprintf("%s/kconnect-test/%s-%08x", base, strings.ReplaceAll(t.Name(), "/", "-"), rand.Uint32())
	st, err := Open(context.Background(), root, nil)
	if err != nil {
		t.Fatalf("open %s: %v", root, err)
	}
	return st.(*Store)
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store { return openTestStore(t) })
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		props   map[string]string
		wantErr string
	}{
		{"kerberos", map[string]string{StoreURLConfig: "hdfs://nn:8020/", KerberosConfig: "true"}, KerberosConfig},
		{"kerberos not a boolean", map[string]string{StoreURLConfig: "hdfs://nn:8020/", KerberosConfig: "maybe"}, KerberosConfig},
		{"no URL", map[string]string{}, StoreURLConfig},
		{"conflicting URLs", map[string]string{StoreURLConfig: "hdfs://a:1/", HDFSURLConfig: "hdfs://b:1/"}, HDFSURLConfig},
		{"missing conf dir", map[string]string{StoreURLConfig: "hdfs://127.0.0.1:1/", HadoopConfDirConfig: "/no/such/dir"}, HadoopConfDirConfig},
		{"wrong scheme", map[string]string{StoreURLConfig: "s3://bucket/"}, "hdfs://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), "", tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open(%v) = %v, want an error naming %q", tc.props, err, tc.wantErr)
			}
		})
	}
	cfg, err := ParseConfig("", map[string]string{HDFSURLConfig: "hdfs://nn:9000/x", KerberosConfig: "false"})
	if err != nil || cfg.URL != "hdfs://nn:9000/x" {
		t.Errorf("hdfs.url alone: %+v, %v", cfg, err)
	}
	t.Setenv(userEnv, "etl")
	cfg, err = ParseConfig("", map[string]string{StoreURLConfig: "hdfs://nn:9000/x", HadoopHomeConfig: "/opt/hadoop"})
	if err != nil || cfg.User != "etl" || cfg.ConfDir != "/opt/hadoop/etc/hadoop" {
		t.Errorf("HADOOP_USER_NAME and hadoop.home: %+v, %v", cfg, err)
	}
}

// TestDefaultFSFromConfDir: hdfs:///path takes the namenode from core-site.xml's fs.defaultFS,
// and a nameservice resolves through hdfs-site.xml's dfs.namenode.rpc-address keys.
func TestDefaultFSFromConfDir(t *testing.T) {
	base := testenv.HDFS(t)
	dir := t.TempDir()
	site := func(name, body string) {
		xml := "<?xml version=\"1.0\"?>\n<configuration>\n" + body + "</configuration>\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(xml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prop := func(k, v string) string {
		return "  <property><name>" + k + "</name><value>" + v + "</value></property>\n"
	}
	addr := strings.TrimPrefix(base, "hdfs://")
	site("core-site.xml", prop("fs.defaultFS", base))
	site("hdfs-site.xml", prop("dfs.nameservices", "testns")+prop("dfs.ha.namenodes.testns", "nn1")+
		prop("dfs.namenode.rpc-address.testns.nn1", addr))
	for _, url := range []string{"hdfs:///kconnect-test/defaultfs", "hdfs://testns/kconnect-test/nameservice"} {
		st, err := Open(context.Background(), url, map[string]string{HadoopConfDirConfig: dir})
		if err != nil {
			t.Fatalf("open %s with %s: %v", url, dir, err)
		}
		name := fmt.Sprintf("f-%08x", rand.Uint32())
		if err := st.CreateExclusive(context.Background(), name, []byte("x")); err != nil {
			t.Errorf("%s: %v", url, err)
		}
		if err := st.Delete(context.Background(), name); err != nil {
			t.Error(err)
		}
		st.Close()
	}
}

// TestWriterMemoryBounded: the heap an HDFS writer needs does not grow with the file: the library
// sends 64 KiB packets down the datanode pipeline as they fill.
func TestWriterMemoryBounded(t *testing.T) {
	st := openTestStore(t)
	size := backendtest.MemoryFileSize(t)
	peak := backendtest.WriterHeap(t, st, "big", size)
	t.Logf("%d MiB file: peak heap growth %.1f MiB", size>>20, float64(peak)/(1<<20))
	if bound := uint64(16 << 20); peak > bound {
		t.Errorf("peak heap growth %d bytes for a %d-byte file, want at most %d", peak, size, bound)
	}
}
