package io.confluent.kafka.schemaregistry.utils;

import java.util.concurrent.ConcurrentHashMap;

// Stand-in for the registry's bounded cache: the generator converts few schemas, so unbounded is fine.
public class BoundedConcurrentHashMap<K, V> extends ConcurrentHashMap<K, V> {
  public BoundedConcurrentHashMap(int capacity) {
    super();
  }
}
