// Package plugins assembles the registry of every plugin built into kconnect: connectors,
// converters, transforms and predicates, found by upstream class name or short alias.
package plugins

import (
	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/datagen"
	"github.com/kconnect/kconnect/connectors/file"
	jdbcsink "github.com/kconnect/kconnect/connectors/jdbc/sink"
	jdbcsource "github.com/kconnect/kconnect/connectors/jdbc/source"
	"github.com/kconnect/kconnect/connectors/postgres"
	"github.com/kconnect/kconnect/connectors/storage"
	"github.com/kconnect/kconnect/connectors/storage/delta"
	"github.com/kconnect/kconnect/converters"
	"github.com/kconnect/kconnect/transforms"
	"github.com/kconnect/kconnect/transforms/debezium"
	"github.com/kconnect/kconnect/transforms/predicates"
)

// Registry returns a registry of every built-in plugin.
func Registry() (*connect.Registry, error) {
	var all []connect.Plugin
	for _, ps := range [][]connect.Plugin{
		converters.Plugins(),
		file.Plugins(),
		datagen.Plugins(),
		jdbcsink.Plugins(),
		jdbcsource.Plugins(),
		postgres.Plugins(),
		storage.Plugins(),
		delta.Plugins(),
		transforms.Plugins(),
		predicates.Plugins(),
		debezium.Plugins(),
	} {
		all = append(all, ps...)
	}
	return connect.NewRegistry(all...)
}
