package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// errorBody is upstream's ErrorMessage, the body of every non-2xx response.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// Messages Jersey gives for errors raised before a resource method runs.
const (
	msgNotFound         = "HTTP 404 Not Found"
	msgMethodNotAllowed = "HTTP 405 Method Not Allowed"
	msgUnsupportedMedia = "HTTP 415 Unsupported Media Type"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v as the response body with status; v is encoded before anything is sent, so
// an encoding failure still yields a proper 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(buf).Encode(errorBody{status, "encode response: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{ErrorCode: status, Message: msg})
}

// noContent answers with a status that carries no body (202, 204).
func noContent(w http.ResponseWriter, status int) {
	if status != http.StatusNoContent {
		w.Header().Set("Content-Length", "0")
	}
	w.WriteHeader(status)
}

// fail answers with the status a herder error maps to, as upstream's ConnectExceptionMapper.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		notFound  *herder.NotFoundError
		conflict  *herder.ConflictError
		bad       *herder.BadRequestError
		noPlugin  *connect.NotFoundError
		configErr *connect.ConfigError
		forward   *herder.ForwardError
		forbidden *herder.ForbiddenError
	)
	switch {
	case errors.As(err, &forward):
		s.forward(w, r, forward.URL)
	case errors.As(err, &forbidden):
		writeError(w, http.StatusForbidden, forbidden.Msg)
	case errors.As(err, &notFound):
		writeError(w, http.StatusNotFound, notFound.Msg)
	case errors.As(err, &conflict):
		writeError(w, http.StatusConflict, conflict.Msg)
	case errors.As(err, &bad):
		writeError(w, http.StatusBadRequest, bad.Msg)
	case errors.As(err, &noPlugin):
		writeError(w, http.StatusNotFound, noPlugin.Msg)
	case errors.As(err, &configErr):
		writeError(w, http.StatusBadRequest, configErr.Error())
	case r.Context().Err() != nil && errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		writeError(w, http.StatusInternalServerError, "Request interrupted")
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("REST request timed out", "method", r.Method, "path", r.URL.Path)
		writeError(w, http.StatusInternalServerError, "Request timed out")
	default:
		s.log.Error("REST request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// failConfig is fail for requests that carry a connector config: an unknown connector class
// there is a bad request (naming the class and close matches), not a missing resource.
func (s *Server) failConfig(w http.ResponseWriter, r *http.Request, err error) {
	var noPlugin *connect.NotFoundError
	if errors.As(err, &noPlugin) {
		writeError(w, http.StatusBadRequest, noPlugin.Msg)
		return
	}
	s.fail(w, r, err)
}

// param returns a path parameter, decoded: routing runs on the escaped path so that a name
// holding an encoded '/' stays one segment.
func param(r *http.Request, name string) string {
	raw := chi.URLParam(r, name)
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}

// readBody returns the request body after checking its media type; on failure it has answered.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, msgUnsupportedMedia)
			return nil, false
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body exceeds the limit of %d bytes", tooBig.Limit))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "Could not read request body: "+err.Error())
		return nil, false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeError(w, http.StatusBadRequest, "Request body is empty; expected a JSON object")
		return nil, false
	}
	return body, true
}

// jsonError describes why a body is not the JSON expected.
func jsonError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("Invalid JSON in request body at offset %d: %v", syn.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "Invalid JSON in request body: unexpected end of input"
	}
	return "Invalid JSON in request body: " + err.Error()
}

// decodeStrict decodes exactly one JSON value from data into v.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// decodeObject decodes a JSON object into its raw members; null or another kind of value is
// reported as not an object.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := decodeStrict(data, &m); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Errorf("expected a JSON object, got %s", typeErr.Value)
		}
		return nil, err
	}
	if m == nil {
		return nil, errors.New("expected a JSON object, got null")
	}
	return m, nil
}

// scalarString converts a JSON scalar to the string a Map<String, String> gets from Jackson:
// strings as they are, numbers and booleans as their literal text. null yields (nil, nil).
func scalarString(raw json.RawMessage) (*string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing value")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return &s, nil
	case 'n':
		return nil, nil
	case '{':
		return nil, errors.New("expected a string, got an object")
	case '[':
		return nil, errors.New("expected a string, got an array")
	}
	s := string(raw)
	return &s, nil
}

// configMap decodes a connector configuration: a JSON object of string values, where numbers
// and booleans are accepted as their text (as upstream accepts "tasks.max": 1) and null values
// are kept as nil. On failure it returns the error message.
func configMap(raw json.RawMessage) (map[string]*string, string) {
	members, err := decodeObject(raw)
	if err != nil {
		return nil, jsonError(err)
	}
	out := make(map[string]*string, len(members))
	for k, v := range members {
		s, err := scalarString(v)
		if err != nil {
			return nil, fmt.Sprintf("Invalid value for configuration %q: %v", k, err)
		}
		out[k] = s
	}
	return out, ""
}

// nonNullConfig returns cfg without pointers, or the upstream validation message listing the
// keys whose value is null.
func nonNullConfig(cfg map[string]*string) (map[string]string, string) {
	out := make(map[string]string, len(cfg))
	var nulls []string
	for _, k := range connect.SortedKeys(cfg) {
		if cfg[k] == nil {
			nulls = append(nulls, fmt.Sprintf("Null value can not be supplied as the configuration value of %q.", k))
			continue
		}
		out[k] = *cfg[k]
	}
	if len(nulls) > 0 {
		return nil, invalidConfigMessage(nulls)
	}
	return out, ""
}

// invalidConfigMessage formats configuration errors as upstream's herder reports them.
func invalidConfigMessage(errs []string) string {
	return fmt.Sprintf("Connector configuration is invalid and contains the following %d error(s):\n%s\n"+
		"You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
		len(errs), strings.Join(errs, "\n"))
}

// boolParam reads a boolean query parameter as JAX-RS does: "true" in any case is true, any
// other value false, and an absent parameter takes def.
func boolParam(r *http.Request, name string, def bool) bool {
	v, ok := r.URL.Query()[name]
	if !ok || len(v) == 0 {
		return def
	}
	return strings.EqualFold(v[0], "true")
}
