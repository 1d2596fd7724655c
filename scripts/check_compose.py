#!/usr/bin/env python3
"""Sanity-checks docker-compose.yml where no Docker is at hand (run by `make lint`).

Beyond parsing the YAML it checks what the tests rely on: the services
exist, host ports are the ones scripts/testenv.sh uses (so the same
KCONNECT_TEST_* values work) and are bound to loopback, and every referenced
service, config and volume is defined.
"""
import sys

import yaml

# service -> host port it must publish on 127.0.0.1
WANT_PORTS = {
    "kafka": 19092,
    "schema-registry": 8081,
    "postgres": 15432,
    "mysql": 13306,
    "kconnect": 8083,
}


def check(doc):
    errors = []
    services = doc.get("services") or {}
    configs = doc.get("configs") or {}
    volumes = doc.get("volumes") or {}
    for name, port in WANT_PORTS.items():
        svc = services.get(name)
        if svc is None:
            errors.append(f"service {name} is missing")
            continue
        ports = [str(p) for p in svc.get("ports", [])]
        if not any(p.startswith(f"127.0.0.1:{port}:") for p in ports):
            errors.append(f"{name}: want a port 127.0.0.1:{port}:..., have {ports}")
    for name, svc in services.items():
        if "image" not in svc and "build" not in svc:
            errors.append(f"{name}: needs image or build")
        for dep in svc.get("depends_on", {}):
            if dep not in services:
                errors.append(f"{name}: depends on unknown service {dep}")
        for cfg in svc.get("configs", []):
            src = cfg["source"] if isinstance(cfg, dict) else cfg
            if src not in configs:
                errors.append(f"{name}: unknown config {src}")
        for vol in svc.get("volumes", []):
            src = str(vol).split(":", 1)[0]
            if not src.startswith((".", "/")) and src not in volumes:
                errors.append(f"{name}: unknown volume {src}")
    if "wal_level=logical" not in str(services.get("postgres", {}).get("command", "")):
        errors.append("postgres: command must set wal_level=logical")
    if services.get("kconnect", {}).get("build") is None:
        errors.append("kconnect: must be built from the repo's Dockerfile")
    return errors


def main(path):
    with open(path, encoding="utf-8") as f:
        try:
            doc = yaml.safe_load(f)
        except yaml.YAMLError as e:
            print(f"{path}: invalid YAML: {e}", file=sys.stderr)
            return 1
    errors = check(doc or {})
    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    if not errors:
        print(f"{path}: ok ({len(doc['services'])} services)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
