"""The database's own floor: pgbench running the hold statements with no HTTP, no Python.

Two statements are compared on the same PostgreSQL: the reference's `pg_hold.sql` (as
shipped, and with prepared statements, which is what both servers use) and slotbook's own
lock statement, taken from the source so that it is always the one under test.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

import loads
import seed

HOST = "127.0.0.1"
CLIENTS = 16

# slotbook's statement with its five parameters as pgbench variables; one lookup picks a
# random slot, a customer of this pgbench client only (so that two clients never race for
# one customer's single active hold) and the new hold's id.
PICK = """\\set n random(1, {slots})
\\set c 1 + :client_id + {clients} * random(0, {per_client})
SELECT s.id AS sid, c.id AS cid, gen_random_uuid() AS hid, now() AS t0
  FROM bench_slot_ids s, bench_customer_ids c WHERE s.n = :n AND c.n = :c \\gset
"""
PARAMS = {
    "$1": ":sid::uuid",
    "$2": ":cid::uuid",
    "$3": ":hid::uuid",
    "$4": ":t0::timestamptz",
    "$5": "(:t0::timestamptz + interval '10 minutes')",
}


async def pgbench(script: Path, database: str, *, seconds: int, prepared: bool) -> float:
    """Transactions per second of pgbench running `script` with 16 clients, 2 threads."""
    argv = ["pgbench", "-h", HOST, "-U", "postgres", "-n", f"-c{CLIENTS}", "-j2", f"-T{seconds}"]
    argv += ["-M", "prepared" if prepared else "simple", "-f", str(script), database]
    found = await loads.run_tool(argv, timeout=seconds + 30, figure=r"^tps = ([\d.]+)")
    return float(found.group(1))


def reference_script(reference_sql: Path, workdir: Path, *, slots: int) -> Path:
    """pg_hold.sql drawing from the reference table's real slot count."""
    script = workdir / "pg_hold.sql"
    sql = reference_sql.read_text()
    script.write_text(sql.replace("random(1, 1000000)", f"random(1, {slots})", 1))
    return script


async def slotbook_script(dsn: str, workdir: Path, customer_ids: list[str]) -> Path | None:
    """A pgbench script running slotbook's lock statement on its bench database, or None
    when the statement is not where this harness expects it."""
    try:
        from slotbook.adapters.db.pg_hold_lock import LOCK_SQL
    except ImportError:
        return None
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(
            "CREATE TABLE bench_slot_ids AS SELECT row_number() OVER () AS n, id FROM slots"
            " WHERE status = 'available';"
            "ALTER TABLE bench_slot_ids ADD PRIMARY KEY (n);"
            "CREATE TABLE bench_customer_ids (n int PRIMARY KEY, id uuid NOT NULL)"
        )
        await conn.executemany(
            "INSERT INTO bench_customer_ids VALUES ($1, $2)",
            [(i, c) for i, c in enumerate(customer_ids, start=1)],
        )
        await conn.execute("ANALYZE bench_slot_ids; ANALYZE bench_customer_ids")
        free = int(await conn.fetchval("SELECT count(*) FROM bench_slot_ids"))
    finally:
        await conn.close()
    # one line for pgbench, so comments go first
    sql = "\n".join(line.split("--", 1)[0] for line in LOCK_SQL.splitlines())
    for name, variable in PARAMS.items():
        sql = sql.replace(name, variable)
    pick = PICK.format(slots=free, clients=CLIENTS, per_client=len(customer_ids) // CLIENTS - 1)
    script = workdir / "slotbook_hold.sql"
    script.write_text(pick + " ".join(sql.split()) + ";\n")
    return script


async def measure(
    reference_sql: Path,
    workdir: Path,
    *,
    ref_db: str,
    slotbook_db: str,
    slots: int,
    customer_ids: list[str],
    seconds: int,
) -> dict[str, float]:
    """tps of pg_hold.sql (as shipped, then prepared) and of slotbook's lock statement."""
    script = reference_script(reference_sql, workdir, slots=slots)
    found = {}
    for prepared in (False, True):
        await seed.reset_reference(ref_db)
        tps = await pgbench(script, ref_db, seconds=seconds, prepared=prepared)
        found[f"pg_hold.sql ({'prepared' if prepared else 'simple'})"] = tps
    own = await slotbook_script(seed.dsn(slotbook_db), workdir, customer_ids)
    if own is not None:
        try:
            found["slotbook lock statement (prepared)"] = await pgbench(
                own, slotbook_db, seconds=seconds, prepared=True
            )
        except RuntimeError as exc:  # the HTTP figures are still worth printing
            print(f"pgbench of slotbook's statement failed: {exc}"[:2000])
            found["slotbook lock statement (prepared)"] = float("nan")
    return found
