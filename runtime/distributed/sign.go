package distributed

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kconnect/kconnect/runtime/herder"
)

// internalTimeout bounds one request to another worker.
const internalTimeout = 30 * time.Second

// sign returns the HMAC of body under key with a Mac algorithm ParseConfig accepted.
func sign(algorithm string, key, body []byte) ([]byte, error) {
	newHash, ok := macs[algorithm]
	if !ok {
		return nil, fmt.Errorf("unsupported signature algorithm %q", algorithm)
	}
	mac := hmac.New(newHash, key)
	mac.Write(body)
	return mac.Sum(nil), nil
}

// verify checks an internal request's signature against the session key when the group uses
// the sessioned protocol, with upstream's answers for a missing or invalid one.
func (h *Herder) verify(sig herder.InternalSignature) error {
	if !h.sessioned() {
		return nil
	}
	if sig.Algorithm == "" {
		return herder.BadRequest("Internal request missing required signature")
	}
	if !slices.Contains(h.cfg.VerifyAlgorithms, sig.Algorithm) {
		return herder.BadRequest("This worker does not support the requested signature algorithm %s (it accepts %s, set by %s)",
			sig.Algorithm, strings.Join(h.cfg.VerifyAlgorithms, ", "), VerifyAlgorithms)
	}
	key := h.configs.Snapshot().SessionKey
	if key == nil {
		return herder.Conflict("Internal request cannot be verified until a session key is available")
	}
	want, err := sign(sig.Algorithm, key.Key, sig.Body)
	if err != nil {
		return herder.BadRequest("%s", err.Error())
	}
	if !hmac.Equal(want, sig.Signature) {
		return &herder.ForbiddenError{Msg: "Internal request contained invalid signature."}
	}
	return nil
}

// forwardTaskConfigs sends task configs to the leader's internal endpoint.
func (h *Herder) forwardTaskConfigs(ctx context.Context, leaderURL, name string, configs []map[string]string) error {
	body, err := json.Marshal(configs)
	if err != nil {
		return fmt.Errorf("encode task configs: %w", err)
	}
	return h.forwardInternal(ctx, leaderURL, http.MethodPost, "/connectors/"+url.PathEscape(name)+"/tasks?forward=true", body)
}

// forwardFence asks the leader, through its internal endpoint, to fence the producers of a
// connector's earlier tasks and record its task count.
func (h *Herder) forwardFence(ctx context.Context, leaderURL, name string) error {
	return h.forwardInternal(ctx, leaderURL, http.MethodPut, "/connectors/"+url.PathEscape(name)+"/fence?forward=true", nil)
}

// forwardInternal sends an internal request to the leader, signed with the session key under
// the sessioned protocol.
func (h *Herder) forwardInternal(ctx context.Context, leaderURL, method, path string, body []byte) error {
	if leaderURL == "" {
		return fmt.Errorf("no leader known")
	}
	target := strings.TrimRight(leaderURL, "/") + path
	ctx, cancel := context.WithTimeout(ctx, internalTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.sessioned() {
		key := h.configs.Snapshot().SessionKey
		if key == nil {
			return fmt.Errorf("no session key to sign the request with yet")
		}
		sig, err := sign(h.cfg.SignatureAlgorithm, key.Key, body)
		if err != nil {
			return err
		}
		req.Header.Set(herder.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
		req.Header.Set(herder.SignatureAlgorithmHeader, h.cfg.SignatureAlgorithm)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, target, resp.Status, msg)
	}
	return nil
}
