package io.confluent.kafka.schemaregistry.avro;

import java.util.Objects;
import org.apache.avro.Schema;

// Stand-in for the registry client's AvroSchema: AvroData only uses it as a cache key.
public class AvroSchema {
  private final Schema schema;
  private final Integer version;

  public AvroSchema(Schema schema, Integer version) {
    this.schema = schema;
    this.version = version;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AvroSchema && schema.equals(((AvroSchema) o).schema)
        && Objects.equals(version, ((AvroSchema) o).version);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, version);
  }
}
