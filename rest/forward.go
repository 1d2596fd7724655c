package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/runtime/herder"
)

// msgForwardLoop is upstream's answer when a forwarded request would be forwarded again.
const msgForwardLoop = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"

// recordedBody keeps what the handler read of a request body, so that a request the herder
// says another worker must answer can be forwarded with it.
type recordedBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (b *recordedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

// forward sends the request to the worker at target (the leader, or the worker running a
// task) and relays its answer, as upstream's HerderRequestHandler: a request without the
// forward parameter may be forwarded again once by the worker it reaches (forward=true), one
// with forward=true only this once (forward=false), and one with forward=false is a conflict,
// the sign of a rebalance under way.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, target string) {
	q := r.URL.Query()
	param := q.Get("forward")
	if param == "false" {
		writeError(w, http.StatusConflict, msgForwardLoop)
		return
	}
	q.Set("forward", strconv.FormatBool(param == ""))
	u := strings.TrimRight(target, "/") + r.URL.EscapedPath() + "?" + q.Encode()
	var body []byte
	if rb, ok := r.Body.(*recordedBody); ok {
		// What the handler left unread (a body it rejected early) is not forwarded anyway.
		body = rb.buf.Bytes()
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Error trying to forward REST request: "+err.Error())
		return
	}
	for _, h := range []string{"Content-Type", "Authorization", herder.SignatureHeader, herder.SignatureAlgorithmHeader} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	s.log.Debug("forwarding REST request", "method", r.Method, "url", u)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "Error trying to forward REST request: "+err.Error())
		return
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		s.log.Warn("relay forwarded REST response", "url", u, "err", err)
	}
}

// internalSignature reads the signature headers of an internal request; ok is false once it
// has answered a malformed one.
func internalSignature(w http.ResponseWriter, r *http.Request, body []byte) (herder.InternalSignature, bool) {
	sig := herder.InternalSignature{Algorithm: r.Header.Get(herder.SignatureAlgorithmHeader), Body: body}
	enc := r.Header.Get(herder.SignatureHeader)
	if enc == "" {
		sig.Algorithm = ""
		return sig, true
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Internal request signature header %s is not base64: %v", herder.SignatureHeader, err))
		return sig, false
	}
	sig.Signature = dec
	return sig, true
}

// putTaskConfigs is the internal endpoint through which a connector's worker hands the task
// configs it generated to the leader.
func (s *Server) putTaskConfigs(w http.ResponseWriter, r *http.Request) {
	in, ok := s.h.(herder.Internal)
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var configs []map[string]string
	if err := json.Unmarshal(body, &configs); err != nil {
		writeError(w, http.StatusBadRequest, jsonError(err))
		return
	}
	sig, ok := internalSignature(w, r, body)
	if !ok {
		return
	}
	if err := in.PutTaskConfigs(r.Context(), param(r, "connector"), configs, sig); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusNoContent)
}

// fenceZombies is the internal endpoint through which a worker asks the leader to fence the
// producers of a connector's earlier task generations.
func (s *Server) fenceZombies(w http.ResponseWriter, r *http.Request) {
	in, ok := s.h.(herder.Internal)
	if !ok {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Could not read request body: "+err.Error())
		return
	}
	sig, ok := internalSignature(w, r, body)
	if !ok {
		return
	}
	if err := in.FenceZombies(r.Context(), param(r, "connector"), sig); err != nil {
		s.fail(w, r, err)
		return
	}
	noContent(w, http.StatusNoContent)
}
