package testenv

import "testing"

// HDFS returns the hdfs:// URL of a namenode that accepts writes from any user
// (KCONNECT_TEST_HDFS; scripts/hdfs.sh runs a MiniDFSCluster). Tests share it: write under a
// directory of their own.
func HDFS(t testing.TB) string {
	t.Helper()
	return Require(t, envHDFS)
}

// S3 returns the endpoint URL of an S3-compatible server that accepts any access key
// (KCONNECT_TEST_S3; scripts/s3.sh runs moto_server). Tests share it: use buckets of their own.
func S3(t testing.TB) string {
	t.Helper()
	return Require(t, envS3)
}
