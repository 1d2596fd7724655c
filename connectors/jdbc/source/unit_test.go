package source

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// TestDefaultsMatchUpstream compares every default with JdbcSourceConnectorConfig's.
func TestDefaultsMatchUpstream(t *testing.T) {
	want := map[string]any{
		"connection.url": "", "connection.user": nil, "connection.password": nil,
		"jdbc.credentials.provider.class": "io.confluent.connect.jdbc.util.DefaultJdbcCredentialsProvider",
		"connection.attempts":             3, "connection.backoff.ms": int64(10000),
		"table.whitelist": []string{}, "table.blacklist": []string{}, "table.include.list": []string{}, "table.exclude.list": []string{},
		"catalog.pattern": nil, "schema.pattern": nil, "numeric.precision.mapping": false, "numeric.mapping": nil,
		"dialect.name": "", "date.calendar.system": "LEGACY", "mode": "", "incrementing.column.name": "",
		"timestamp.column.name": []string{}, "timestamp.columns.mapping": []string{}, "incrementing.column.mapping": []string{},
		"timestamp.initial": nil, "validate.non.null": true, "query": "", "query.masked": connect.Password(""),
		"quote.sql.identifiers": "ALWAYS", "query.suffix": "", "transaction.isolation.mode": "DEFAULT",
		"query.retry.attempts": -1, "table.types": []string{"TABLE"}, "poll.interval.ms": 5000, "batch.max.rows": 1000,
		"max.buffer.size": 0, "poll.linger.ms": int64(5000), "table.poll.interval.ms": int64(60000), "topic.prefix": "",
		"timestamp.delay.interval.ms": int64(0), "db.timezone": "UTC", "timestamp.granularity": "connect_logical",
	}
	d := configDef()
	if len(d.Keys()) != len(want) {
		t.Errorf("%d keys defined, want %d", len(d.Keys()), len(want))
	}
	for name, w := range want {
		k, ok := d.Key(name)
		if !ok {
			t.Errorf("key %s not defined", name)
			continue
		}
		if !reflect.DeepEqual(k.Default, w) {
			t.Errorf("%s default %#v, want %#v", name, k.Default, w)
		}
		if k.Doc == "" || k.Group == "" {
			t.Errorf("%s has no documentation or group", name)
		}
	}
}

func TestOffsetsUseJavaTimestampMillisAndNanos(t *testing.T) {
	cases := []struct {
		ts    time.Time
		ms    int64
		nanos int64
	}{
		// java.sql.Timestamp.getTime() counts whole milliseconds, getNanos() the fraction of the second.
		{time.Date(2024, 1, 1, 0, 0, 1, 123456789, time.UTC), 1704067201123, 123456789},
		{time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC), -500, 500000000},
		{time.Unix(0, 0), 0, 0},
	}
	for _, c := range cases {
		m := position{hasTS: true, ts: c.ts, hasInc: true, inc: -7}.toMap()
		want := map[string]any{"timestamp": c.ms, "timestamp_nanos": c.nanos, "incrementing": int64(-7)}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("%v: %v, want %v", c.ts, m, want)
		}
		back, err := positionFromMap(map[string]any{"timestamp": float64(c.ms), "timestamp_nanos": float64(c.nanos), "incrementing": float64(-7)})
		if err != nil || !back.ts.Equal(c.ts) || back.inc != -7 || !back.hasTS || !back.hasInc {
			t.Errorf("%v: read back %+v, %v", c.ts, back, err)
		}
	}
	p, err := positionFromMap(map[string]any{"timestamp": int64(1704067201123)})
	if err != nil || !p.ts.Equal(time.Date(2024, 1, 1, 0, 0, 1, 123000000, time.UTC)) || p.hasInc {
		t.Errorf("offset without nanos: %+v, %v", p, err)
	}
	if _, err := positionFromMap(map[string]any{"incrementing": "x"}); err == nil {
		t.Error("a non-numeric offset was accepted")
	}
}

func TestTablesListRoundTripsQuotedNames(t *testing.T) {
	d := &pgDialect{}
	tables := []tableID{{"public", "users"}, {"My Schema", `we"ird,na.me`}, {"", "bare"}}
	s := formatTables(d, tables)
	if want := `"public"."users","My Schema"."we""ird,na.me","bare"`; s != want {
		t.Fatalf("formatted %s, want %s", s, want)
	}
	back, err := parseTables(s, '"')
	if err != nil || !reflect.DeepEqual(back, tables) {
		t.Fatalf("parsed %v, %v; want %v", back, err, tables)
	}
	my := &myDialect{}
	if s := formatTables(my, tables[:1]); s != "`public`.`users`" {
		t.Fatalf("MySQL quoting %s", s)
	}
	for _, bad := range []string{`"a`, `a.b.c`, `a,,b`} {
		if _, err := parseTables(bad, '"'); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestFilterTablesAsUpstream(t *testing.T) {
	d := &pgDialect{}
	all := []tableID{{"public", "users"}, {"public", "orders"}, {"sales", "orders_2024"}, {"sales", "tmp_x"}}
	names := func(ts []tableID) []string { return fqns(ts) }
	cases := []struct {
		cfg  config
		want []string
	}{
		{config{}, []string{"public.users", "public.orders", "sales.orders_2024", "sales.tmp_x"}},
		// Whitelist entries match the bare, qualified or quoted name.
		{config{whitelist: []string{"users", "sales.tmp_x", `"public"."orders"`}}, []string{"public.users", "public.orders", "sales.tmp_x"}},
		{config{blacklist: []string{"orders", "sales.tmp_x"}}, []string{"public.users", "sales.orders_2024"}},
		// Include and exclude expressions match the whole qualified name.
		{config{include: mustRegexps([]string{`sales\..*`, "orders"}), exclude: mustRegexps([]string{`.*tmp.*`})}, []string{"sales.orders_2024"}},
	}
	for _, c := range cases {
		if got := names(filterTables(d, all, &c.cfg)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: %v, want %v", c.cfg, got, c.want)
		}
	}
}

// TestNumericMappingRules checks numeric.mapping against the rules upstream documents, including
// its own example: NUMERIC(20) stays Decimal under best_fit because an int64 cannot hold it.
func TestNumericMappingRules(t *testing.T) {
	cases := []struct {
		precision, scale int
		m                numericMapping
		want             rep
	}{
		{10, 2, mapNone, repDecimal},
		{5, 0, mapNone, repDecimal},
		{2, 0, mapPrecisionOnly, repInt8},
		{4, 0, mapPrecisionOnly, repInt16},
		{9, 0, mapPrecisionOnly, repInt32},
		{18, 0, mapPrecisionOnly, repInt64},
		{19, 0, mapPrecisionOnly, repDecimal},
		{10, 2, mapPrecisionOnly, repDecimal},
		{20, 0, mapBestFit, repDecimal},
		{10, 2, mapBestFit, repFloat64},
		{10, 0, mapBestFit, repInt64},
		{30, 5, mapBestFit, repDecimal},
		{30, 5, mapBestFitEagerDouble, repFloat64},
		{30, 0, mapBestFitEagerDouble, repDecimal},
		{3, 0, mapBestFitEagerDouble, repInt16},
		// Unconstrained PostgreSQL numerics keep their exact text.
		{0, -1, mapNone, repString},
		{0, -1, mapBestFit, repString},
		{0, -1, mapBestFitEagerDouble, repFloat64},
	}
	for _, c := range cases {
		if got := decimalRep(c.precision, c.scale, c.m); got != c.want {
			t.Errorf("numeric(%d,%d) mapping %d: rep %d, want %d", c.precision, c.scale, c.m, got, c.want)
		}
	}
}

func TestDecimalConversionIsExactOrFails(t *testing.T) {
	tg := &target{rep: repDecimal, scale: 2}
	v, err := tg.fromDecimal(big.NewInt(15), -1, "numeric")
	if err != nil || !connect.ValuesEqual(v, connect.Decimal{Unscaled: big.NewInt(150), Scale: 2}) {
		t.Fatalf("1.5 at scale 2: %v, %v", v, err)
	}
	if _, err := tg.fromDecimal(big.NewInt(1234), -3, "numeric"); err == nil {
		t.Fatal("1.234 was squeezed into scale 2")
	}
	i8 := &target{rep: repInt8}
	if _, err := i8.fromDecimal(big.NewInt(300), 0, "numeric"); err == nil {
		t.Fatal("300 fit int8")
	}
}

// TestLegacyCalendar checks date.calendar.system=LEGACY against the Julian/Gregorian offsets of
// java.util.GregorianCalendar: before 1582-10-15 the stored (proleptic Gregorian) labels are read
// as Julian dates, which lie 10 days later in 1582, 9 days later before 1500-03-01.
func TestLegacyCalendar(t *testing.T) {
	legacy := &target{rep: repDate, legacy: true, zone: time.UTC}
	modern := &target{rep: repDate, zone: time.UTC}
	cases := []struct {
		y         int
		m         time.Month
		d         int
		legacyDay time.Time
	}{
		{1582, 10, 4, days(1582, 10, 14)},
		{1582, 10, 15, days(1582, 10, 15)},
		{1500, 1, 1, days(1500, 1, 10)},
		{2024, 2, 29, days(2024, 2, 29)},
	}
	for _, c := range cases {
		if got := legacy.fromDate(c.y, c.m, c.d); !connect.ValuesEqual(got, c.legacyDay) {
			t.Errorf("LEGACY %d-%d-%d: %v, want %v", c.y, c.m, c.d, got, c.legacyDay)
		}
		if got := modern.fromDate(c.y, c.m, c.d); !connect.ValuesEqual(got, days(c.y, c.m, c.d)) {
			t.Errorf("PROLEPTIC_GREGORIAN %d-%d-%d: %v", c.y, c.m, c.d, got)
		}
	}
}

func TestTimeParsers(t *testing.T) {
	for in, want := range map[string]int64{
		"10:00:00+02":        8 * 3600e6,
		"23:30:00.5-01:30":   (1*3600+0*60)*1e6 + 0.5e6,
		"00:15:00+05:45":     (18*3600+30*60)*1e6 + 0,
		"12:00:00.000001+00": 12*3600e6 + 1,
	} {
		if got, err := parseTimeTZ(in); err != nil || got != want {
			t.Errorf("parseTimeTZ(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, want := range map[string]int64{
		"13:45:30.123": ((13*60+45)*60+30)*1e6 + 123000,
		"-01:00:00":    -3600e6,
		"838:59:59":    (838*3600 + 59*60 + 59) * 1e6,
	} {
		if got, err := parseMySQLTime(in); err != nil || got != want {
			t.Errorf("parseMySQLTime(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	tg := &target{rep: repTime, zone: time.UTC}
	if _, err := tg.fromTimeOfDay(25*3600e6, "TIME"); err == nil {
		t.Error("25:00 became a Connect Time")
	}
}

func TestZonesAcceptJavaForms(t *testing.T) {
	for in, offset := range map[string]int{"UTC": 0, "Z": 0, "+05:30": 19800, "GMT-3": -10800, "EST": -18000} {
		loc, err := loadZone(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone(); off != offset {
			t.Errorf("%s: offset %d, want %d", in, off, offset)
		}
	}
	for _, in := range []string{"PST", "Europe/Paris", "America/Argentina/Buenos_Aires"} {
		if _, err := loadZone(in); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	if _, err := loadZone("Nowhere/Special"); err == nil {
		t.Error("unknown zone accepted")
	}
}

func TestTimestampGranularities(t *testing.T) {
	ts := time.Date(2024, 3, 1, 12, 0, 0, 123456789, time.UTC)
	paris, _ := loadZone("Europe/Paris")
	cases := map[rep]any{
		repTimestamp:    time.Date(2024, 3, 1, 12, 0, 0, 123000000, time.UTC),
		repMicrosLong:   int64(1709294400123456),
		repMicrosString: "1709294400123456",
		repMicrosISO:    "2024-03-01T13:00:00.123456",
		repNanosLong:    int64(1709294400123456789),
		repNanosString:  "1709294400123456789",
		repNanosISO:     "2024-03-01T13:00:00.123456789",
	}
	for r, want := range cases {
		tg := &target{rep: r, zone: paris}
		if got := tg.fromInstant(ts); !connect.ValuesEqual(got, want) {
			t.Errorf("rep %d: %#v, want %#v", r, got, want)
		}
	}
}
