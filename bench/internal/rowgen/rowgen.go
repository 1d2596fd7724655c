// Package rowgen generates the 8-column rows the SQL sink benchmarks load, identically for every
// program that compares against them, so baselines and kconnect write the same data.
package rowgen

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// Row is one generated row.
type Row struct {
	ID      int64
	Name    string
	Email   string
	Qty     int32
	Price   float64
	Score   float64
	Active  bool
	Created time.Time
}

// Generator yields rows in batches: ids ascending, except that a share of them repeat an id
// written by an earlier batch (an update), never twice within one batch.
type Generator struct {
	rows, batch int
	updates     float64
	rng         *rand.Rand
	next        int64 // next new id
	written     int64 // ids below this were written by earlier batches
	emitted     int
}

// New returns a generator of rows rows in batches of batch, a share updates of them updates,
// deterministic for a seed.
func New(rows, batch int, updates float64, seed uint64) *Generator {
	return &Generator{rows: rows, batch: batch, updates: updates, rng: rand.New(rand.NewPCG(seed, 7))}
}

// Batch returns the next batch's rows, or nil when all were emitted.
func (g *Generator) Batch() []Row {
	n := min(g.batch, g.rows-g.emitted)
	if n <= 0 {
		return nil
	}
	rows := make([]Row, n)
	used := map[int64]bool{}
	for i := range rows {
		id := g.next
		if g.written > 0 && g.rng.Float64() < g.updates {
			for {
				id = g.rng.Int64N(g.written)
				if !used[id] {
					break
				}
			}
		} else {
			g.next++
		}
		used[id] = true
		v := g.rng.Int64N(1_000_000)
		rows[i] = Row{
			ID: id, Name: "name-" + strconv.FormatInt(v, 36), Email: "user" + strconv.FormatInt(id, 10) + "@example.com",
			Qty: int32(v % 1000), Price: float64(v%100_000) / 100, Score: float64(v) / 7, Active: v%2 == 0,
			Created: time.UnixMilli(1_700_000_000_000 + v).UTC(),
		}
	}
	g.emitted += n
	g.written = g.next
	return rows
}

// IDs returns how many distinct ids the rows emitted so far hold: the table's final row count.
func (g *Generator) IDs() int64 { return g.next }
