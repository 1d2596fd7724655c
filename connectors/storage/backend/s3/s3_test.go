package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/backend/backendtest"
	"github.com/kconnect/kconnect/internal/testenv"
)

// testProps is a connector configuration for the test S3 with a fresh bucket of its own
// (testenv.S3Bucket).
func testProps(t testing.TB) map[string]string {
	t.Helper()
	endpoint, bucket := testenv.S3Bucket(t, "kc-")
	return map[string]string{
		BucketConfig:          bucket,
		RegionConfig:          "us-east-1",
		StoreURLConfig:        endpoint,
		AccessKeyIDConfig:     "test",
		SecretAccessKeyConfig: "test",
		PartSizeConfig:        fmt.Sprint(MinPartSize),
	}
}

func openTestStore(t testing.TB, rawURL string, props map[string]string) *Store {
	t.Helper()
	st, err := Open(context.Background(), rawURL, props)
	if err != nil {
		t.Fatalf("open S3 store: %v", err)
	}
	return st.(*Store)
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store { return openTestStore(t, "", testProps(t)) })
}

// TestConformanceUnderPrefix runs the suite on a store rooted at a key prefix, as the core opens
// s3://bucket/prefix.
func TestConformanceUnderPrefix(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		props := testProps(t)
		return openTestStore(t, "s3://"+props[BucketConfig]+"/base/dir", props)
	})
}

// TestPrefixIsolation: a store under a prefix sees only its own keys, and writes them there.
func TestPrefixIsolation(t *testing.T) {
	props := testProps(t)
	ctx := context.Background()
	whole := openTestStore(t, "", props)
	sub := openTestStore(t, "s3://"+props[BucketConfig]+"/tenant", props)
	if err := whole.CreateExclusive(ctx, "outside", []byte("o")); err != nil {
		t.Fatal(err)
	}
	if err := sub.CreateExclusive(ctx, "inside", []byte("i")); err != nil {
		t.Fatal(err)
	}
	// A console's folder marker is not a file.
	if _, err := sub.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(props[BucketConfig]), Key: aws.String("tenant/folder/")}); err != nil {
		t.Fatal(err)
	}
	infos, err := sub.List(ctx, "")
	if err != nil || len(infos) != 1 || infos[0].Path != "inside" {
		t.Errorf("prefixed List = %+v, %v; want only inside", infos, err)
	}
	if _, err := whole.Stat(ctx, "tenant/inside"); err != nil {
		t.Errorf("the prefixed store's file is not at tenant/inside: %v", err)
	}
}

// TestAbortAbortsMultipartUpload: after Abort no multipart upload is left open (S3 would keep
// billing for its parts).
func TestAbortAbortsMultipartUpload(t *testing.T) {
	props := testProps(t)
	st := openTestStore(t, "", props)
	ctx := context.Background()
	w, err := st.Create(ctx, "aborted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 2*MinPartSize+1)); err != nil {
		t.Fatal(err)
	}
	uploads := func() int {
		out, err := st.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(props[BucketConfig])})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}
	if n := uploads(); n != 1 {
		t.Fatalf("%d multipart uploads open while writing 2 parts, want 1", n)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if n := uploads(); n != 0 {
		t.Errorf("%d multipart uploads open after Abort, want 0", n)
	}
}

// TestMissingBucket: opening a store whose bucket does not exist fails naming the key, as
// Confluent's connector fails at start.
func TestMissingBucket(t *testing.T) {
	props := testProps(t)
	props[BucketConfig] = "kc-no-such-bucket-" + fmt.Sprintf("%08x", rand.Uint32())
	_, err := Open(context.Background(), "", props)
	if err == nil || !strings.Contains(err.Error(), BucketConfig) {
		t.Errorf("Open with a missing bucket = %v, want an error naming %s", err, BucketConfig)
	}
}

func TestConfig(t *testing.T) {
	base := map[string]string{BucketConfig: "b"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cfg, err := ParseConfig("", base)
	if err != nil {
		t.Fatal(err)
	}
	// Confluent's defaults.
	if cfg.Region != "us-west-2" || cfg.PartSize != 26214400 || !cfg.PathStyle || cfg.PartRetries != 3 || cfg.RetryBackoff.Milliseconds() != 200 {
		t.Errorf("defaults = %+v", cfg)
	}
	cfg, err = ParseConfig("s3://b/topics/x/", with(PathStyleConfig, "false", PartSizeConfig, "5242880", SSEAlgorithmConfig, "aws:kms", SSEKMSKeyIDConfig, "k1"))
	if err != nil || cfg.Prefix != "topics/x/" || cfg.PathStyle || cfg.PartSize != 5<<20 || cfg.SSEKMSKeyID != "k1" {
		t.Errorf("parsed %+v, %v", cfg, err)
	}
	for _, tc := range []struct {
		url   string
		props map[string]string
		key   string
	}{
		{"", map[string]string{}, BucketConfig},
		{"s3://other", base, BucketConfig},
		{"", with(PartSizeConfig, "5242879"), PartSizeConfig},
		{"", with(PartSizeConfig, "lots"), PartSizeConfig},
		{"", with(PathStyleConfig, "yes please"), PathStyleConfig},
		{"", with(AccessKeyIDConfig, "only-the-id"), SecretAccessKeyConfig},
		{"", with(StoreURLConfig, "minio:9000"), StoreURLConfig},
		{"", with(PartRetriesConfig, "-1"), PartRetriesConfig},
		{"", with(RetryBackoffConfig, "soon"), RetryBackoffConfig},
		{"", with(SSEAlgorithmConfig, "rot13"), SSEAlgorithmConfig},
		{"", with(SSEKMSKeyIDConfig, "k"), SSEKMSKeyIDConfig},
		{"", with(CannedACLConfig, "everyone"), CannedACLConfig},
		{"", with(SSECustomerKeyConfig, "secret"), SSECustomerKeyConfig},
		{"", with(ProxyURLConfig, "http://proxy:3128"), ProxyURLConfig},
		{"", with(WANModeConfig, "true"), WANModeConfig},
		{"", with(CredentialsClassConfig, "com.example.Creds"), CredentialsClassConfig},
	} {
		if _, err := ParseConfig(tc.url, tc.props); err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("ParseConfig(%q, %v) = %v, want an error naming %s", tc.url, tc.props, err, tc.key)
		}
	}
}

// TestCannedACLAndEncryptionReachS3: the ACL and server-side encryption keys are sent with the
// object, as an independent client reading it back sees.
func TestCannedACLAndEncryptionReachS3(t *testing.T) {
	props := testProps(t)
	props[SSEAlgorithmConfig] = "AES256"
	props[CannedACLConfig] = "public-read"
	st := openTestStore(t, "", props)
	ctx := context.Background()
	for _, size := range []int{10, 2*MinPartSize + 3} {
		name := fmt.Sprintf("f%d", size)
		w, err := st.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("e"), size)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		head, err := st.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(props[BucketConfig]), Key: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if head.ServerSideEncryption != "AES256" {
			t.Errorf("%s: server-side encryption %q, want AES256", name, head.ServerSideEncryption)
		}
		acl, err := st.client.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(props[BucketConfig]), Key: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		public := false
		for _, g := range acl.Grants {
			public = public || (g.Grantee != nil && strings.HasSuffix(aws.ToString(g.Grantee.URI), "/AllUsers"))
		}
		if !public {
			t.Errorf("%s: no AllUsers grant after %s=public-read", name, CannedACLConfig)
		}
	}
	r, err := st.Open(ctx, "f10")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, _ := io.ReadAll(r); string(b) != "eeeeeeeeee" {
		t.Errorf("read %q", b)
	}
	if err := st.CreateExclusive(ctx, "f10", nil); !errors.Is(err, backend.ErrExist) {
		t.Errorf("CreateExclusive over an existing object: %v", err)
	}
}

// TestWriterMemoryBounded: the heap a writer needs is bounded by its part size (two parts, one
// filling and one uploading, plus the SDK's request garbage), not by the file's size.
func TestWriterMemoryBounded(t *testing.T) {
	props := testProps(t)
	st := openTestStore(t, "", props)
	size := backendtest.MemoryFileSize(t)
	peak := backendtest.WriterHeap(t, st, "big", size)
	t.Logf("%d MiB file in %d MiB parts: peak heap growth %.1f MiB", size>>20, MinPartSize>>20, float64(peak)/(1<<20))
	if bound := uint64(6 * MinPartSize); peak > bound {
		t.Errorf("peak heap growth %d bytes for a %d-byte file, want at most %d (six parts)", peak, size, bound)
	}
}
