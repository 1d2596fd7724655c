// Package s3 is the storage backend for Amazon S3 and S3-compatible stores (the S3 sink's
// s3.bucket.name, store.url as the endpoint), through the AWS SDK for Go v2. A file is streamed as
// a multipart upload in parts of s3.part.size and becomes visible only when its writer closes; S3
// has no rename, so the sink core writes each file once under its final, deterministic name.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kconnect/kconnect/connectors/storage/backend"
)

// Configuration keys this backend reads, named as Confluent's S3 sink connector names them.
const (
	BucketConfig          = "s3.bucket.name"
	RegionConfig          = "s3.region"
	StoreURLConfig        = "store.url"
	AccessKeyIDConfig     = "aws.access.key.id"
	SecretAccessKeyConfig = "aws.secret.access.key"
	PartSizeConfig        = "s3.part.size"
	PathStyleConfig       = "s3.path.style.access.enabled"
	PartRetriesConfig     = "s3.part.retries"
	RetryBackoffConfig    = "s3.retry.backoff.ms"
	SSEAlgorithmConfig    = "s3.ssea.name"
	SSEKMSKeyIDConfig     = "s3.sse.kms.key.id"
	CannedACLConfig       = "s3.acl.canned"
	// Keys Confluent defines that this backend cannot honour; setting them is an error.
	SSECustomerKeyConfig   = "s3.sse.customer.key"
	ProxyURLConfig         = "s3.proxy.url"
	WANModeConfig          = "s3.wan.mode"
	CredentialsClassConfig = "s3.credentials.provider.class"
)

// Defaults and limits as Confluent's S3 sink has them.
const (
	DefaultRegion       = "us-west-2"
	DefaultPartSize     = 25 << 20
	MinPartSize         = 5 << 20
	DefaultPartRetries  = 3
	DefaultRetryBackoff = 200 * time.Millisecond
	maxRetryBackoff     = 24 * time.Hour
	// maxCopySize is the largest object a single CopyObject can copy, which bounds Rename.
	maxCopySize = 5 << 30
	// defaultCredentialsClass is the only s3.credentials.provider.class accepted: the default
	// chain, which this backend follows with the SDK's own (environment, shared files, IAM roles).
	defaultCredentialsClass = "com.amazonaws.auth.DefaultAWSCredentialsProviderChain"
)

// Config is the parsed configuration of an S3 store.
type Config struct {
	// Bucket holds the files (s3.bucket.name, or the store URL's host).
	Bucket string
	// Prefix is prepended to every path ("" or a key prefix ending in "/").
	Prefix string
	// Region is the bucket's AWS region (s3.region).
	Region string
	// Endpoint overrides AWS's endpoint, for S3-compatible stores; empty means AWS.
	Endpoint string
	// AccessKeyID and SecretAccessKey are static credentials; empty means the SDK's default
	// chain (environment, shared files, IAM roles), as Confluent's default provider.
	AccessKeyID, SecretAccessKey string
	// PartSize is the size of each multipart-upload part, which bounds a writer's memory.
	PartSize int
	// PathStyle addresses buckets as endpoint/bucket rather than bucket.endpoint.
	PathStyle bool
	// PartRetries is how often a failed request is retried; RetryBackoff the first retry's delay.
	PartRetries  int
	RetryBackoff time.Duration
	// SSEAlgorithm and SSEKMSKeyID request server-side encryption of each object.
	SSEAlgorithm types.ServerSideEncryption
	SSEKMSKeyID  string
	// CannedACL is applied to each object written.
	CannedACL types.ObjectCannedACL
}

// ParseConfig reads the backend's keys from a connector configuration. rawURL, when not empty,
// is s3://bucket[/prefix] as the core names the store; its bucket must agree with s3.bucket.name.
func ParseConfig(rawURL string, props map[string]string) (Config, error) {
	c := Config{
		Bucket:          props[BucketConfig],
		Region:          props[RegionConfig],
		Endpoint:        props[StoreURLConfig],
		AccessKeyID:     props[AccessKeyIDConfig],
		SecretAccessKey: props[SecretAccessKeyConfig],
		PartSize:        DefaultPartSize,
		PathStyle:       true,
		PartRetries:     DefaultPartRetries,
		RetryBackoff:    DefaultRetryBackoff,
		SSEKMSKeyID:     props[SSEKMSKeyIDConfig],
	}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil || u.Scheme != "s3" || u.Host == "" {
			return c, fmt.Errorf("S3 store URL %q: want s3://bucket[/prefix]", rawURL)
		}
		if c.Bucket != "" && c.Bucket != u.Host {
			return c, fmt.Errorf("%s %q differs from the store URL's bucket %q", BucketConfig, c.Bucket, u.Host)
		}
		c.Bucket = u.Host
		if p := strings.Trim(u.Path, "/"); p != "" {
			c.Prefix = p + "/"
		}
	}
	if c.Bucket == "" {
		return c, fmt.Errorf("%s: a bucket name is required", BucketConfig)
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("%s %q: want the endpoint as http(s)://host[:port]", StoreURLConfig, c.Endpoint)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return c, fmt.Errorf("%s and %s must be set together (or both left empty for the default credentials chain)", AccessKeyIDConfig, SecretAccessKeyConfig)
	}
	if v := props[PartSizeConfig]; v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n < MinPartSize {
			return c, fmt.Errorf("%s: %q is not a whole number of bytes from %d (5 MiB, S3's minimum part) to %d", PartSizeConfig, v, MinPartSize, int32(^uint32(0)>>1))
		}
		c.PartSize = int(n)
	}
	if v := props[PathStyleConfig]; v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return c, fmt.Errorf("%s: %q is not a boolean", PathStyleConfig, v)
		}
		c.PathStyle = b
	}
	if v := props[PartRetriesConfig]; v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return c, fmt.Errorf("%s: %q is not a whole number of at least 0", PartRetriesConfig, v)
		}
		c.PartRetries = n
	}
	if v := props[RetryBackoffConfig]; v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return c, fmt.Errorf("%s: %q is not a whole number of milliseconds of at least 0", RetryBackoffConfig, v)
		}
		c.RetryBackoff = time.Duration(n) * time.Millisecond
	}
	switch v := props[SSEAlgorithmConfig]; v {
	case "":
	case string(types.ServerSideEncryptionAes256), string(types.ServerSideEncryptionAwsKms), string(types.ServerSideEncryptionAwsKmsDsse):
		c.SSEAlgorithm = types.ServerSideEncryption(v)
	default:
		return c, fmt.Errorf("%s: %q is not one of AES256, aws:kms, aws:kms:dsse", SSEAlgorithmConfig, v)
	}
	if c.SSEKMSKeyID != "" && c.SSEAlgorithm != types.ServerSideEncryptionAwsKms && c.SSEAlgorithm != types.ServerSideEncryptionAwsKmsDsse {
		return c, fmt.Errorf("%s is set but %s is %q, not aws:kms", SSEKMSKeyIDConfig, SSEAlgorithmConfig, c.SSEAlgorithm)
	}
	if v := props[CannedACLConfig]; v != "" {
		acl := types.ObjectCannedACL(v)
		known := false
		for _, a := range acl.Values() {
			known = known || a == acl
		}
		if !known {
			return c, fmt.Errorf("%s: %q is not a canned ACL (%v)", CannedACLConfig, v, acl.Values())
		}
		c.CannedACL = acl
	}
	if props[SSECustomerKeyConfig] != "" {
		return c, fmt.Errorf("%s: customer-provided encryption keys (SSE-C) are not supported", SSECustomerKeyConfig)
	}
	if props[ProxyURLConfig] != "" {
		return c, fmt.Errorf("%s: not supported; set HTTPS_PROXY in the worker's environment instead", ProxyURLConfig)
	}
	if v := props[WANModeConfig]; v != "" && strings.TrimSpace(v) != "false" {
		return c, fmt.Errorf("%s=%s: S3 transfer acceleration is not supported", WANModeConfig, v)
	}
	if v := props[CredentialsClassConfig]; v != "" && v != defaultCredentialsClass {
		return c, fmt.Errorf("%s: only %s (the default chain) is supported, or %s and %s", CredentialsClassConfig, defaultCredentialsClass, AccessKeyIDConfig, SecretAccessKeyConfig)
	}
	return c, nil
}

// Store is a backend.Store rooted at a bucket and key prefix.
type Store struct {
	cfg    Config
	client *s3.Client
	url    string
}

var _ backend.Store = (*Store)(nil)

// The storage sinks find this backend by its URL scheme.
func init() { backend.Register("s3", Open) }

// Open opens the bucket that url (s3://bucket[/prefix]) or, when url is empty, s3.bucket.name
// names; its signature is the one the backend registry expects.
func Open(ctx context.Context, rawURL string, props map[string]string) (backend.Store, error) {
	cfg, err := ParseConfig(rawURL, props)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg)
}

// New opens a store with a parsed configuration and checks that its bucket exists, as
// Confluent's connector does at start.
func New(ctx context.Context, cfg Config) (*Store, error) {
	base := cfg.RetryBackoff
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.PartRetries + 1
				o.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
					return retryDelay(base, attempt), nil
				})
			})
		}),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	st := &Store{cfg: cfg, client: client, url: "s3://" + cfg.Bucket + "/" + cfg.Prefix}
	if cfg.Endpoint != "" {
		st.url += " at " + cfg.Endpoint
	}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &cfg.Bucket}); err != nil {
		return nil, fmt.Errorf("%s: bucket %q does not exist or is not accessible: %w", BucketConfig, cfg.Bucket, err)
	}
	return st, nil
}

// retryDelay doubles from base with each attempt, up to a day, as Confluent's connector does.
func retryDelay(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// key maps a store path to an object key, refusing paths that are empty or not canonical.
func (s *Store) key(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "\x00") {
		return "", fmt.Errorf("invalid storage path %q", p)
	}
	return s.cfg.Prefix + p, nil
}

// isNotFound reports whether S3 answered that the object does not exist (HEAD answers a bare 404).
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// isPreconditionFailed reports whether a conditional write lost: the object exists (412), or a
// concurrent conditional write to the same key is in progress (409).
func isPreconditionFailed(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict") {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed
}

// Capabilities implements backend.Store: S3 has no rename (Rename copies), and conditional writes
// (If-None-Match: *) make CreateExclusive atomic.
func (s *Store) Capabilities() backend.Capabilities {
	return backend.Capabilities{AtomicRename: false, AtomicCreateExclusive: true}
}

// URL implements backend.Store.
func (s *Store) URL() string { return s.url }

// Close implements backend.Store; the SDK's HTTP connections close when idle.
func (s *Store) Close() error { return nil }

// Create implements backend.Store with a streaming multipart upload.
func (s *Store) Create(ctx context.Context, p string) (backend.Writer, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	return newWriter(ctx, s, key), nil
}

// CreateExclusive implements backend.Store with a conditional PUT (If-None-Match: *), which S3
// (since 2024) and moto refuse with 412 when the key exists.
func (s *Store) CreateExclusive(ctx context.Context, p string, data []byte) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	in := s.putInput(key, data)
	in.IfNoneMatch = aws.String("*")
	if _, err := s.client.PutObject(ctx, in); err != nil {
		if isPreconditionFailed(err) {
			return fmt.Errorf("create s3://%s/%s: %w", s.cfg.Bucket, key, backend.ErrExist)
		}
		return fmt.Errorf("put s3://%s/%s: %w", s.cfg.Bucket, key, err)
	}
	return nil
}

func (s *Store) putInput(key string, data []byte) *s3.PutObjectInput {
	return &s3.PutObjectInput{
		Bucket:               &s.cfg.Bucket,
		Key:                  &key,
		Body:                 bytes.NewReader(data),
		ContentLength:        aws.Int64(int64(len(data))),
		ServerSideEncryption: s.cfg.SSEAlgorithm,
		SSEKMSKeyId:          nonEmpty(s.cfg.SSEKMSKeyID),
		ACL:                  s.cfg.CannedACL,
	}
}

func nonEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// Open implements backend.Store.
func (s *Store) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	key, err := s.key(p)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return nil, s.mapErr("get", key, err)
	}
	return out.Body, nil
}

func (s *Store) mapErr(op, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%s s3://%s/%s: %w", op, s.cfg.Bucket, key, backend.ErrNotExist)
	}
	return fmt.Errorf("%s s3://%s/%s: %w", op, s.cfg.Bucket, key, err)
}

// Stat implements backend.Store.
func (s *Store) Stat(ctx context.Context, p string) (backend.FileInfo, error) {
	key, err := s.key(p)
	if err != nil {
		return backend.FileInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return backend.FileInfo{}, s.mapErr("head", key, err)
	}
	return backend.FileInfo{Path: p, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// List implements backend.Store. A prefix is a directory: "topics/t" lists keys under
// "topics/t/", not "topics/t-extra".
func (s *Store) List(ctx context.Context, prefix string) ([]backend.FileInfo, error) {
	keyPrefix := s.cfg.Prefix
	if p := strings.Trim(prefix, "/"); p != "" {
		keyPrefix += p + "/"
	}
	var out []backend.FileInfo
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &keyPrefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.cfg.Bucket, keyPrefix, err)
		}
		for _, o := range page.Contents {
			if strings.HasSuffix(aws.ToString(o.Key), "/") {
				continue // a "folder" marker that consoles create, not a file
			}
			out = append(out, backend.FileInfo{
				Path:    strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix),
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
			})
		}
	}
	// S3 lists in UTF-8 byte order already; S3-compatible stores are not all as careful.
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Rename implements backend.Store as copy and delete, for objects up to 5 GiB. It is not atomic:
// the existence check and the copy are separate requests, so a writer racing for to can be
// overwritten, and a crash between copy and delete leaves both. The core does not rename on S3
// (Capabilities.AtomicRename is false).
func (s *Store) Rename(ctx context.Context, from, to string) error {
	src, err := s.key(from)
	if err != nil {
		return err
	}
	dst, err := s.key(to)
	if err != nil {
		return err
	}
	fi, err := s.Stat(ctx, from)
	if err != nil {
		return err
	}
	if fi.Size > maxCopySize {
		return fmt.Errorf("rename s3://%s/%s: %d bytes is more than one copy request can move (5 GiB)", s.cfg.Bucket, src, fi.Size)
	}
	if _, err := s.Stat(ctx, to); err == nil {
		return fmt.Errorf("rename s3://%s/%s to %s: %w", s.cfg.Bucket, src, dst, backend.ErrExist)
	} else if !errors.Is(err, backend.ErrNotExist) {
		return err
	}
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:               &s.cfg.Bucket,
		Key:                  &dst,
		CopySource:           aws.String(url.PathEscape(s.cfg.Bucket) + "/" + escapeKey(src)),
		ServerSideEncryption: s.cfg.SSEAlgorithm,
		SSEKMSKeyId:          nonEmpty(s.cfg.SSEKMSKeyID),
		ACL:                  s.cfg.CannedACL,
	})
	if err != nil {
		return s.mapErr("copy to "+dst+" from", src, err)
	}
	return s.Delete(ctx, from)
}

// escapeKey URL-encodes each segment of a key for x-amz-copy-source, keeping the slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// Delete implements backend.Store; S3 answers success for a missing key.
func (s *Store) Delete(ctx context.Context, p string) error {
	key, err := s.key(p)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", s.cfg.Bucket, key, err)
	}
	return nil
}

// writer streams one object. Writes fill a part buffer; a full part is uploaded in the background
// while the next fills, so a writer holds at most two parts. A file smaller than one part is sent
// with a single PUT at Close; a larger one as a multipart upload completed at Close, and either
// way the object appears only then.
type writer struct {
	s   *Store
	ctx context.Context
	key string

	mu       sync.Mutex
	done     bool
	buf      []byte // the part being filled
	spare    []byte // the buffer of the part in flight, reused once its upload ends
	uploadID *string
	parts    []types.CompletedPart
	inflight chan partResult // receives the result of the part upload in flight; nil when none
	err      error           // the first upload failure; the writer is then broken
}

func newWriter(ctx context.Context, s *Store, key string) *writer {
	// The context lives as long as the writer: parts are uploaded after Create returns.
	return &writer{s: s, ctx: context.WithoutCancel(ctx), key: key}
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return 0, fmt.Errorf("write s3://%s/%s: writer is closed", w.s.cfg.Bucket, w.key)
	}
	if w.err != nil {
		return 0, w.err
	}
	size := w.s.cfg.PartSize
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = w.spare[:0]
			w.spare = nil
			if w.buf == nil {
				w.buf = make([]byte, 0, size)
			}
		}
		n := min(len(p), size-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		written += n
		if len(w.buf) == size {
			if err := w.sendPart(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// sendPart waits for the part in flight, then starts uploading the buffer as the next part.
func (w *writer) sendPart() error {
	if err := w.wait(); err != nil {
		return err
	}
	if w.uploadID == nil {
		out, err := w.s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket:               &w.s.cfg.Bucket,
			Key:                  &w.key,
			ServerSideEncryption: w.s.cfg.SSEAlgorithm,
			SSEKMSKeyId:          nonEmpty(w.s.cfg.SSEKMSKeyID),
			ACL:                  w.s.cfg.CannedACL,
		})
		if err != nil {
			w.err = fmt.Errorf("start multipart upload of s3://%s/%s: %w", w.s.cfg.Bucket, w.key, err)
			return w.err
		}
		w.uploadID = out.UploadId
	}
	num := int32(len(w.parts) + 1)
	w.parts = append(w.parts, types.CompletedPart{PartNumber: aws.Int32(num)})
	data := w.buf
	w.buf = nil
	done := make(chan partResult, 1)
	w.inflight = done
	go func() {
		out, err := w.s.client.UploadPart(w.ctx, &s3.UploadPartInput{
			Bucket:        &w.s.cfg.Bucket,
			Key:           &w.key,
			UploadId:      w.uploadID,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))),
		})
		if err != nil {
			done <- partResult{err: fmt.Errorf("upload part %d of s3://%s/%s: %w", num, w.s.cfg.Bucket, w.key, err)}
			return
		}
		done <- partResult{buf: data, part: types.CompletedPart{
			PartNumber:        aws.Int32(num),
			ETag:              out.ETag,
			ChecksumCRC32:     out.ChecksumCRC32,
			ChecksumCRC32C:    out.ChecksumCRC32C,
			ChecksumCRC64NVME: out.ChecksumCRC64NVME,
			ChecksumSHA1:      out.ChecksumSHA1,
			ChecksumSHA256:    out.ChecksumSHA256,
		}}
	}()
	return nil
}

// partResult is what a part upload hands back: the part for CompleteMultipartUpload and its
// buffer for reuse, or the failure.
type partResult struct {
	part types.CompletedPart
	buf  []byte
	err  error
}

// wait ends the part upload in flight, if any, and records its result.
func (w *writer) wait() error {
	if w.inflight == nil {
		return w.err
	}
	res := <-w.inflight
	w.inflight = nil
	if res.err != nil {
		if w.err == nil {
			w.err = res.err
		}
		return w.err
	}
	w.parts[aws.ToInt32(res.part.PartNumber)-1] = res.part
	w.spare = res.buf
	return w.err
}

// Close uploads what remains and makes the object visible: one PUT for a small file, else the
// last part and CompleteMultipartUpload. On failure the multipart upload is aborted.
func (w *writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("close s3://%s/%s: writer is closed", w.s.cfg.Bucket, w.key)
	}
	w.done = true
	if w.uploadID == nil {
		if w.err != nil {
			return w.err
		}
		if _, err := w.s.client.PutObject(w.ctx, w.s.putInput(w.key, w.buf)); err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", w.s.cfg.Bucket, w.key, err)
		}
		w.buf = nil
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.sendPart(); err != nil {
			return errors.Join(err, w.abortUpload())
		}
	}
	if err := w.wait(); err != nil {
		return errors.Join(err, w.abortUpload())
	}
	w.buf, w.spare = nil, nil
	_, err := w.s.client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &w.s.cfg.Bucket,
		Key:             &w.key,
		UploadId:        w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		err = fmt.Errorf("complete multipart upload of s3://%s/%s: %w", w.s.cfg.Bucket, w.key, err)
		return errors.Join(err, w.abortUpload())
	}
	return nil
}

// Abort discards the file: nothing was visible, and a multipart upload's stored parts are
// deleted by aborting it.
func (w *writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	_ = w.wait()
	w.buf, w.spare = nil, nil
	return w.abortUpload()
}

func (w *writer) abortUpload() error {
	if w.uploadID == nil {
		return nil
	}
	_, err := w.s.client.AbortMultipartUpload(w.ctx, &s3.AbortMultipartUploadInput{
		Bucket: &w.s.cfg.Bucket, Key: &w.key, UploadId: w.uploadID,
	})
	if err != nil {
		return fmt.Errorf("abort multipart upload of s3://%s/%s: %w", w.s.cfg.Bucket, w.key, err)
	}
	return nil
}
