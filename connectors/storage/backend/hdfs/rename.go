package hdfs

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"unsafe"

	hdfs "github.com/colinmarc/hdfs/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The library's Client.Rename always replaces the target (rename2 with overwrite), and checking
// first would leave a window in which a concurrent writer's file is replaced. The commit protocol
// needs the namenode's own atomic check, so this file sends rename2 without overwrite on the
// library's namenode connection: its Execute method is reached through the Client's unexported
// field, and the request is built from the protobuf descriptors the library registers. Both are
// fixed by the pinned library version (go.mod); namenodeOf fails loudly if they ever change, and
// the conformance suite's RenameRefusesToReplace proves the result against a real namenode.

// Java exception class names the namenode reports for rename2.
const (
	fileAlreadyExistsException = "org.apache.hadoop.fs.FileAlreadyExistsException"
	fileNotFoundException      = "java.io.FileNotFoundException"
)

// rpcExecutor is the method set of the library's namenode connection that this file uses.
type rpcExecutor interface {
	Execute(method string, req proto.Message, resp proto.Message) error
}

// namenode sends the requests the library has no method for.
type namenode struct {
	rpc          rpcExecutor
	renameReq    protoreflect.MessageType
	renameResp   protoreflect.MessageType
	src, dst, ow protoreflect.FieldDescriptor
}

func namenodeOf(c *hdfs.Client) (namenode, error) {
	var nn namenode
	field := reflect.ValueOf(c).Elem().FieldByName("namenode")
	if !field.IsValid() {
		return nn, errors.New("hdfs: this version of github.com/colinmarc/hdfs/v2 has no Client.namenode field; the non-replacing rename needs it")
	}
	exec, ok := reflect.NewAt(field.Type(), unsafe.Pointer(field.UnsafeAddr())).Elem().Interface().(rpcExecutor)
	if !ok {
		return nn, fmt.Errorf("hdfs: the library's namenode connection (%s) has no Execute method", field.Type())
	}
	nn.rpc = exec
	var err error
	if nn.renameReq, err = protoregistry.GlobalTypes.FindMessageByName("hadoop.hdfs.Rename2RequestProto"); err != nil {
		return nn, fmt.Errorf("hdfs: rename2 request type: %w", err)
	}
	if nn.renameResp, err = protoregistry.GlobalTypes.FindMessageByName("hadoop.hdfs.Rename2ResponseProto"); err != nil {
		return nn, fmt.Errorf("hdfs: rename2 response type: %w", err)
	}
	fields := nn.renameReq.Descriptor().Fields()
	nn.src, nn.dst, nn.ow = fields.ByName("src"), fields.ByName("dst"), fields.ByName("overwriteDest")
	if nn.src == nil || nn.dst == nil || nn.ow == nil {
		return nn, errors.New("hdfs: the rename2 request lacks src, dst or overwriteDest")
	}
	return nn, nil
}

// renameNoReplace renames from to to, failing with fs.ErrExist when to exists and fs.ErrNotExist
// when from does not.
func (nn namenode) renameNoReplace(from, to string) error {
	req := nn.renameReq.New()
	req.Set(nn.src, protoreflect.ValueOfString(from))
	req.Set(nn.dst, protoreflect.ValueOfString(to))
	req.Set(nn.ow, protoreflect.ValueOfBool(false))
	err := nn.rpc.Execute("rename2", req.Interface(), nn.renameResp.New().Interface())
	var remote hdfs.Error
	if errors.As(err, &remote) {
		switch remote.Exception() {
		case fileAlreadyExistsException:
			return fs.ErrExist
		case fileNotFoundException:
			return fs.ErrNotExist
		}
	}
	return err
}
