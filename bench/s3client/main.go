// Command s3client compares the two S3 clients the storage sink could use, AWS SDK for Go v2 and
// minio-go v7, by multipart-upload throughput against the same server in the same run: each round
// uploads -size bytes in -part byte parts with each client's low-level multipart calls (what the
// S3 backend's writer does), alternating which goes first. It is its own module so that minio-go
// stays out of kconnect's go.mod.
//
//	scripts/s3.sh && cd bench/s3client && go run . -endpoint http://127.0.0.1:19010 -rounds 5
//
// It prints each round and the median MB/s of each client, with minio-go's as a ratio of AWS's.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	mcreds "github.com/minio/minio-go/v7/pkg/credentials"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:19010", "S3 endpoint (path-style, any credentials)")
	size := flag.Int("size", 64<<20, "bytes per upload")
	part := flag.Int("part", 5<<20, "bytes per part")
	rounds := flag.Int("rounds", 5, "uploads per client")
	flag.Parse()
	ctx := context.Background()
	u, err := url.Parse(*endpoint)
	if err != nil {
		log.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), *part/16)
	awsc := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(*endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")})
	mc, err := minio.NewCore(u.Host, &minio.Options{Creds: mcreds.NewStaticV4("k", "s", ""), Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath, Secure: u.Scheme == "https"})
	if err != nil {
		log.Fatal(err)
	}
	bucket := fmt.Sprintf("s3client-bench-%d", time.Now().UnixNano())
	if _, err := awsc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		log.Fatal(err)
	}
	uploadAWS := func() error {
		key := "aws.bin"
		up, err := awsc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return err
		}
		var parts []types.CompletedPart
		for n, sent := int32(1), 0; sent < *size; n++ {
			sz := min(*part, *size-sent)
			r, err := awsc.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader(data[:sz])})
			if err != nil {
				return err
			}
			parts = append(parts, types.CompletedPart{ETag: r.ETag, PartNumber: aws.Int32(n)})
			sent += sz
		}
		_, err = awsc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key,
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	uploadMinio := func() error {
		key := "minio.bin"
		id, err := mc.NewMultipartUpload(ctx, bucket, key, minio.PutObjectOptions{})
		if err != nil {
			return err
		}
		var parts []minio.CompletePart
		for n, sent := 1, 0; sent < *size; n++ {
			sz := min(*part, *size-sent)
			p, err := mc.PutObjectPart(ctx, bucket, key, id, n, bytes.NewReader(data[:sz]), int64(sz), minio.PutObjectPartOptions{})
			if err != nil {
				return err
			}
			parts = append(parts, minio.CompletePart{PartNumber: n, ETag: p.ETag})
			sent += sz
		}
		_, err = mc.CompleteMultipartUpload(ctx, bucket, key, id, parts, minio.PutObjectOptions{})
		return err
	}
	mbps := func(f func() error) float64 {
		start := time.Now()
		if err := f(); err != nil {
			log.Fatal(err)
		}
		return float64(*size) / (1 << 20) / time.Since(start).Seconds()
	}
	var a, m []float64
	for i := range *rounds {
		var x, y float64
		if i%2 == 0 {
			x, y = mbps(uploadAWS), mbps(uploadMinio)
		} else {
			y, x = mbps(uploadMinio), mbps(uploadAWS)
		}
		a, m = append(a, x), append(m, y)
		fmt.Printf("round %d: aws-sdk-go-v2 %.1f MB/s, minio-go %.1f MB/s\n", i, x, y)
	}
	ma, mm := median(a), median(m)
	fmt.Printf("median: aws-sdk-go-v2 %.1f MB/s, minio-go %.1f MB/s, minio-go/aws = %.2f\n", ma, mm, mm/ma)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}
