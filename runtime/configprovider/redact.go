package configprovider

import (
	"maps"
	"strings"
)

// Hidden replaces secret values, as upstream prints a Password.
const Hidden = "[hidden]"

// secretSuffixes are the last name segments of keys holding secrets: connection.password,
// ssl.keystore.key, aws.secret.access.key, schema registry basic.auth.user.info, ….
var secretSuffixes = []string{".password", ".passwd", ".secret", ".key", ".token", ".credentials", ".user.info", "jaas.config"}

// IsSecret reports whether a configuration key looks like it holds a secret: its last segment
// is password, secret, key, token or credentials, it contains "password" or "secret", or it is a
// SASL JAAS configuration.
func IsSecret(key string) bool {
	k := strings.ToLower(key)
	if strings.Contains(k, "password") || strings.Contains(k, "secret") {
		return true
	}
	k = "." + k
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// Redact returns a copy of props with the value of every secret-looking key (see IsSecret)
// replaced by "[hidden]", for logs and error messages. Values that are provider references such
// as ${env:DB_PASSWORD} hold no secret and are kept, which helps diagnose a failed resolution.
func Redact(props map[string]string) map[string]string {
	out := make(map[string]string, len(props))
	for k, v := range props {
		if IsSecret(k) && !isReferenceOnly(v) {
			v = Hidden
		}
		out[k] = v
	}
	return out
}

func isReferenceOnly(v string) bool {
	loc := referencePattern.FindStringIndex(v)
	return loc != nil && loc[0] == 0 && loc[1] == len(v)
}

// Unresolve returns copies of the task configs a connector generated from its resolved config,
// with every key whose value in the connector's raw config holds a reference set back to that
// raw value, as upstream's reverse transform does: task configs are stored and shown with the
// references and resolved only when a task starts. A connector that copies a secret under
// another key is beyond its reach, as upstream's.
func Unresolve(raw map[string]string, tasks []map[string]string) []map[string]string {
	var refKeys []string
	for k, v := range raw {
		if referencePattern.MatchString(v) {
			refKeys = append(refKeys, k)
		}
	}
	out := make([]map[string]string, len(tasks))
	for i, task := range tasks {
		out[i] = maps.Clone(task)
		for _, k := range refKeys {
			if _, ok := out[i][k]; ok {
				out[i][k] = raw[k]
			}
		}
	}
	return out
}
