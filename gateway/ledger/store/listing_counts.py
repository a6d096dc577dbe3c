"""Migration 11, the listing counts, on both engines: how many rows of each listing lie in each range of its
sort key, at three widths of range (2^8, 2^16, 2^24 keys), kept by triggers in the transaction that changes
a row, so every process and instance sees the same counts, in the same snapshot as the rows. A page at
offset N finds its start by summing counts down the three widths (paging.py), then steps over fewer than
2^8 keys of the index. Knows the members and entries tables; nothing about who reads the counts."""
from __future__ import annotations

# Listings: 'members' (live members by member number) and 'entries' (the latest entry of each record by
# record key, one count per asset/kind/status, so a filter on those sums the categories it wants).
# Members and entries are removed only with their tenant: its counts go with it (no delete triggers, so a
# tenant's removal does not pay for a million decrements).
LISTING_SHIFTS = (8, 16, 24)
_SQLITE_UPSERT = (
    " ON CONFLICT (tenant_id, listing, level, bucket, category, stripe) DO UPDATE SET n = listing_counts.n + excluded.n;"
)


_WIDTHS = " UNION ALL ".join(f"SELECT {shift}{' AS shift' if i == 0 else ''}" for i, shift in enumerate(LISTING_SHIFTS))


def _count(tenant: str, listing: str, key: str, category: str, delta: int, where: str = "true", source: str = "") -> str:
    """One upsert (a row per width): `delta` for the row (`key`, `category`) when `where` holds. `source`:
    tables to read the row from, each followed by a comma."""
    return (
        f"  INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)"
        f" SELECT {tenant}, '{listing}', w.shift, ({key}) >> w.shift, {category}, 0, {delta}"
        f" FROM {source}({_WIDTHS}) AS w WHERE {where}" + _SQLITE_UPSERT
    )


_ENTRY_KEY = "coalesce({e}.record_id, {e}.id)"
_ENTRY_CATEGORY = "{e}.asset || '/' || {e}.kind || '/' || {e}.status"
_IS_HEAD = "NOT EXISTS (SELECT 1 FROM entries q WHERE q.record_id = coalesce({e}.record_id, {e}.id) AND q.id > {e}.id)"


def _entry(e: str, delta: int, where: str = "true", source: str = "") -> str:
    return _count(
        f"{e}.tenant_id", "entries", _ENTRY_KEY.format(e=e), _ENTRY_CATEGORY.format(e=e), delta, where, source
    )


LISTING_TABLE = f"""
CREATE TABLE listing_counts (
    tenant_id INTEGER NOT NULL,
    listing TEXT NOT NULL,
    level INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    category TEXT NOT NULL,
    stripe INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, listing, level, bucket, category, stripe)
) WITHOUT ROWID;
INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)
SELECT tenant_id, 'members', s.shift, member_no >> s.shift, '', 0, count(*)
FROM members, (SELECT {LISTING_SHIFTS[0]} AS shift UNION ALL SELECT {LISTING_SHIFTS[1]} UNION ALL SELECT {LISTING_SHIFTS[2]}) AS s
WHERE deleted = 0 GROUP BY tenant_id, s.shift, member_no >> s.shift;
INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)
SELECT e.tenant_id, 'entries', s.shift, coalesce(e.record_id, e.id) >> s.shift, {_ENTRY_CATEGORY.format(e="e")}, 0, count(*)
FROM entries e, (SELECT {LISTING_SHIFTS[0]} AS shift UNION ALL SELECT {LISTING_SHIFTS[1]} UNION ALL SELECT {LISTING_SHIFTS[2]}) AS s
WHERE {_IS_HEAD.format(e="e")}
GROUP BY e.tenant_id, s.shift, coalesce(e.record_id, e.id) >> s.shift, {_ENTRY_CATEGORY.format(e="e")};
"""

# SQLite: row triggers. It updates a row in place, so a bulk load bumping the same counts costs the same per row.
SQLITE_TRIGGERS = f"""
CREATE TRIGGER members_listed AFTER INSERT ON members WHEN NEW.deleted = 0 BEGIN
{_count("NEW.tenant_id", "members", "NEW.member_no", "''", 1)}
END;
CREATE TRIGGER members_relisted AFTER UPDATE OF member_no, deleted ON members BEGIN
{_count("OLD.tenant_id", "members", "OLD.member_no", "''", -1, "OLD.deleted = 0")}
{_count("NEW.tenant_id", "members", "NEW.member_no", "''", 1, "NEW.deleted = 0")}
END;
CREATE TRIGGER entries_listed AFTER INSERT ON entries BEGIN
{_entry("NEW", 1, "NEW.record_id IS NULL OR " + _IS_HEAD.format(e="NEW"))}
END;
CREATE TRIGGER entries_revised AFTER INSERT ON entries WHEN NEW.record_id IS NOT NULL BEGIN
{_entry("p", -1, "p.id = (SELECT max(r.id) FROM entries r WHERE r.tenant_id = NEW.tenant_id"
        " AND coalesce(r.record_id, r.id) = NEW.record_id AND r.id < NEW.id) AND " + _IS_HEAD.format(e="NEW"),
        "entries p, ")}
END;
CREATE TRIGGER entries_relisted AFTER UPDATE OF asset, kind, status ON entries BEGIN
{_entry("OLD", -1, _IS_HEAD.format(e="OLD"))}
{_entry("NEW", 1, _IS_HEAD.format(e="NEW"))}
END;
CREATE TRIGGER tenants_unlisted AFTER DELETE ON tenants BEGIN
  DELETE FROM listing_counts WHERE tenant_id = OLD.id;
END;
"""


# PostgreSQL: PL/pgSQL triggers. Inserts are counted once per statement
# from its transition table: PostgreSQL writes a new version of a row at each update, so a bulk load of a
# million rows bumping the same few counts row by row would step over ever longer chains of versions.
# Concurrent writers of one tenant would all bump the newest range, and under SERIALIZABLE one of two such
# writers fails and runs again: each connection counts in its own stripe (its backend pid modulo 8), and
# readers sum the stripes.
_SHIFTS = ", ".join(str(s) for s in LISTING_SHIFTS)
_UPSERT = "ON CONFLICT (tenant_id, listing, level, bucket, category, stripe) DO UPDATE SET n = listing_counts.n + excluded.n"
_CATEGORY = "{e}.asset || '/' || {e}.kind || '/' || {e}.status"
_ENTRY_HEAD = "NOT EXISTS (SELECT 1 FROM entries q WHERE q.record_id = coalesce({e}.record_id, {e}.id) AND q.id > {e}.id)"


def _counted(rows: str, listing: str, key: str, category: str, n: str, where: str = "") -> str:
    """One upsert of the counts of `rows` (a table or subquery aliased r) at every width."""
    grouped = "" if category.startswith("'") else f", {category}"  # PostgreSQL refuses a literal in GROUP BY
    return (
        "    INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)\n"
        f"    SELECT r.tenant_id, '{listing}', s, ({key}) >> s, {category}, pg_backend_pid() % 8, {n}\n"
        f"    FROM {rows}, unnest(ARRAY[{_SHIFTS}]) AS s {where}\n"
        f"    GROUP BY r.tenant_id, s, ({key}) >> s{grouped}\n"
        f"    {_UPSERT};\n"
    )


PG_TRIGGERS = f"""
CREATE FUNCTION listing_count(t bigint, l text, k bigint, c text, d bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)
    SELECT t, l, s, k >> s, c, pg_backend_pid() % 8, d FROM unnest(ARRAY[{_SHIFTS}]) AS s
    {_UPSERT}
$$;
CREATE FUNCTION members_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_counted("added AS r", "members", "r.member_no", "''", "count(*)", "WHERE r.deleted = 0")}    RETURN NULL;
END $$;
CREATE TRIGGER members_listed AFTER INSERT ON members REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION members_added();
CREATE FUNCTION members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.deleted = 0 THEN
        PERFORM listing_count(OLD.tenant_id, 'members', OLD.member_no, '', -1);
    END IF;
    IF NEW.deleted = 0 THEN
        PERFORM listing_count(NEW.tenant_id, 'members', NEW.member_no, '', 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER members_relisted AFTER UPDATE OF member_no, deleted ON members
    FOR EACH ROW EXECUTE FUNCTION members_changed();
-- Every added entry is counted as the latest of its record; then, for each record revised by this
-- statement, every entry counted so far (its latest before the statement, the added ones) that is not its
-- latest now is taken off again.
CREATE FUNCTION entries_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{_counted("added AS r", "entries", "coalesce(r.record_id, r.id)", _CATEGORY.format(e="r"), "count(*)")}
    WITH revised AS (
        SELECT k.tenant_id, k.key,
            (SELECT max(e.id) FROM entries e WHERE e.tenant_id = k.tenant_id AND coalesce(e.record_id, e.id) = k.key) AS head,
            (SELECT max(e.id) FROM entries e WHERE e.tenant_id = k.tenant_id AND coalesce(e.record_id, e.id) = k.key
                AND e.id NOT IN (SELECT id FROM added)) AS before
        FROM (SELECT DISTINCT tenant_id, record_id AS key FROM added WHERE record_id IS NOT NULL) AS k
    ), superseded AS (
        SELECT e.tenant_id, e.record_id, e.id, e.asset, e.kind, e.status FROM revised v JOIN entries e ON e.id = v.before
        WHERE v.before <> v.head
        UNION ALL
        SELECT a.tenant_id, a.record_id, a.id, a.asset, a.kind, a.status FROM revised v
        JOIN added a ON a.tenant_id = v.tenant_id AND coalesce(a.record_id, a.id) = v.key WHERE a.id <> v.head
    )
{_counted("superseded AS r", "entries", "coalesce(r.record_id, r.id)", _CATEGORY.format(e="r"), "-count(*)")}    RETURN NULL;
END $$;
CREATE TRIGGER entries_listed AFTER INSERT ON entries REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION entries_added();
CREATE FUNCTION entries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_ENTRY_HEAD.format(e="NEW")} THEN
        PERFORM listing_count(OLD.tenant_id, 'entries', coalesce(OLD.record_id, OLD.id), {_CATEGORY.format(e="OLD")}, -1);
        PERFORM listing_count(NEW.tenant_id, 'entries', coalesce(NEW.record_id, NEW.id), {_CATEGORY.format(e="NEW")}, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER entries_relisted AFTER UPDATE OF asset, kind, status ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_changed();
CREATE FUNCTION tenants_unlisted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM listing_counts WHERE tenant_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER tenants_unlisted AFTER DELETE ON tenants FOR EACH ROW EXECUTE FUNCTION tenants_unlisted();
"""


# SQLite, a bulk load: the insert triggers that count row by row. A load drops them inside its transaction and
# makes them again before it ends (a crash or rollback leaves them as they were; no other writer runs
# meanwhile): besides their own work, a table's insert trigger makes SQLite keep a statement journal of every
# page each row touches, some twenty page writes per member. The load counts its rows at once instead, below.
# PostgreSQL's statement triggers count a load's COPY once per statement already.
SQLITE_ROW_COUNTERS = ("members_listed", "entries_listed", "entries_revised")
# One count added to a listing's bucket: (tenant, listing, level, bucket, category, n) rows, for a load that
# counts its rows itself.
SQLITE_ADD_COUNT = (
    "INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n) VALUES (?, ?, ?, ?, ?, 0, ?)"
    + _SQLITE_UPSERT
)
# The same counts grouped in SQL, as bench/seed_bench.py's raw reference runs them (the gateway's loads count
# in Python, repo/bulk.py, at a tenth of the cost). Members (tenant, first number, last number) of a load, and
# their entries: only new members and their first entries, so a count of their heads is exactly what the row
# triggers would have added.
SQLITE_COUNT_LOADED = (
    "INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)"
    " SELECT m.tenant_id, 'members', w.shift, m.member_no >> w.shift, '', 0, count(*)"
    f" FROM members m, ({_WIDTHS}) AS w"
    " WHERE m.tenant_id = ? AND m.deleted = 0 AND m.member_no BETWEEN ? AND ?"
    " GROUP BY w.shift, m.member_no >> w.shift" + _SQLITE_UPSERT,
    "INSERT INTO listing_counts (tenant_id, listing, level, bucket, category, stripe, n)"
    f" SELECT e.tenant_id, 'entries', w.shift, {_ENTRY_KEY.format(e='e')} >> w.shift, {_ENTRY_CATEGORY.format(e='e')},"
    " 0, count(*)"
    f" FROM members m, entries e, ({_WIDTHS}) AS w"
    " WHERE m.tenant_id = ? AND m.member_no BETWEEN ? AND ? AND e.tenant_id = m.tenant_id AND e.member_id = m.id"
    f" AND (e.record_id IS NULL OR {_IS_HEAD.format(e='e')})"
    f" GROUP BY w.shift, {_ENTRY_KEY.format(e='e')} >> w.shift, {_ENTRY_CATEGORY.format(e='e')}" + _SQLITE_UPSERT,
)
