"""Schema migrations, numbered; each store applies the ones it has not seen yet, at open, in one
transaction. SQL kept portable where the engines allow."""
from __future__ import annotations

from .listing_counts import LISTING_TABLE, SQLITE_TRIGGERS

# Migration 8. Before migration 6, a member's client-assigned code lived only in its profile, under the key
# the profile's writer used (`alternate_code`); migration 6 added the column without copying it, so a
# database from before the upgrade let a second member take a code the first held. This copies it: a
# non-blank text code goes to the column of the lowest member id holding it in the tenant, unless a member
# already holds it in the column (written since migration 6). Members whose code another holds keep it in
# their profile as it was, outside the column: the index cannot hold two, and which of them is the real
# one is the client's to say (an update that sets the code moves it into the column). The profile's copy
# stays: readers prefer the column and fall back to the profile, and an update that sets the code clears
# it. A separate migration (not a change to 6) so databases already past 6 are backfilled too.
BACKFILL_EXTERNAL_REF = """
UPDATE members SET external_ref = json_extract(profile, '$.alternate_code')
WHERE external_ref IS NULL
  AND json_type(profile, '$.alternate_code') = 'text'
  AND trim(json_extract(profile, '$.alternate_code')) <> ''
  AND NOT EXISTS (
    SELECT 1 FROM members AS other
    WHERE other.tenant_id = members.tenant_id
      AND (other.external_ref = json_extract(members.profile, '$.alternate_code')
           OR (other.id < members.id AND other.external_ref IS NULL
               AND json_type(other.profile, '$.alternate_code') = 'text'
               AND json_extract(other.profile, '$.alternate_code') = json_extract(members.profile, '$.alternate_code')))
  )
"""

SQLITE_MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE TABLE credentials (
    scheme TEXT NOT NULL,
    principal TEXT NOT NULL,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    secret TEXT,
    PRIMARY KEY (scheme, principal)
);
CREATE INDEX credentials_tenant ON credentials(tenant_id);
CREATE TABLE programmes (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    name TEXT NOT NULL,
    spend_ratio INTEGER,
    earn_unit INTEGER,
    discount TEXT NOT NULL DEFAULT '0',
    data TEXT NOT NULL DEFAULT '{}',
    status TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, number)
);
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    customer_no INTEGER NOT NULL,
    member_no INTEGER NOT NULL,
    email TEXT,
    user_ref TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    programme_no INTEGER,
    profile TEXT NOT NULL DEFAULT '{}',
    deleted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (tenant_id, customer_no),
    UNIQUE (tenant_id, member_no),
    UNIQUE (tenant_id, user_ref)
);
CREATE UNIQUE INDEX members_email ON members(tenant_id, lower(email)) WHERE email IS NOT NULL;
CREATE INDEX members_updated ON members(tenant_id, updated_at);
CREATE TABLE cards (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    card_ref TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, card_ref)
);
CREATE INDEX cards_member ON cards(member_id);
CREATE TABLE accounts (
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    asset TEXT NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0 CHECK (posted >= 0),
    pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
    updated_at TEXT,
    PRIMARY KEY (member_id, asset)
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    reference TEXT,
    member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,
    value INTEGER NOT NULL,
    earned INTEGER NOT NULL DEFAULT 0,
    voided INTEGER NOT NULL DEFAULT 0,
    void_reason TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    voided_at TEXT,
    UNIQUE (tenant_id, number)
);
CREATE UNIQUE INDEX orders_reference ON orders(tenant_id, reference) WHERE reference IS NOT NULL;
CREATE TABLE entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    asset TEXT NOT NULL,
    amount INTEGER NOT NULL,
    record_id INTEGER,
    record_amount INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT,
    note TEXT,
    origin TEXT,
    value INTEGER,
    order_id INTEGER REFERENCES orders(id) ON DELETE CASCADE,
    reverses_id INTEGER UNIQUE REFERENCES entries(id) ON DELETE CASCADE,
    public_ref TEXT,
    occurred_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX entries_member ON entries(tenant_id, member_id, id);
CREATE INDEX entries_tenant ON entries(tenant_id, id);
CREATE INDEX entries_record ON entries(record_id, id) WHERE record_id IS NOT NULL;
CREATE INDEX entries_reference ON entries(tenant_id, reference);
CREATE UNIQUE INDEX entries_public_ref ON entries(tenant_id, public_ref) WHERE public_ref IS NOT NULL;
CREATE TABLE resolutions (
    entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    resolved_at TEXT NOT NULL
);
CREATE TABLE idempotency (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    response BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, scope, key)
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    entry_id INTEGER REFERENCES entries(id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_entry ON outbox(entry_id);
CREATE INDEX outbox_tenant ON outbox(tenant_id, id);
""",
    ),
    (
        2,
        """
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    event_id INTEGER REFERENCES outbox(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    label TEXT NOT NULL,
    target TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (channel, event_id, label)
);
CREATE INDEX deliveries_due ON deliveries(state, next_at);
CREATE INDEX deliveries_tenant ON deliveries(tenant_id, id);
CREATE TABLE delivery_attempts (
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    at TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    PRIMARY KEY (delivery_id, number)
);
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
""",
    ),
    (
        3,
        """
ALTER TABLE tenants ADD COLUMN roster_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN history_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX members_live ON members(tenant_id, deleted, member_no);
CREATE INDEX entries_listing ON entries(tenant_id, coalesce(record_id, id), id);
""",
    ),
    (
        4,
        """
ALTER TABLE deliveries ADD COLUMN claim TEXT;
""",
    ),
    (
        5,
        # Tenant ids are never handed out twice (SQLite would reuse the highest after a delete), so
        # nothing remembered under a tenant's id can reach a tenant created later. Access grants keep
        # a hash of the token only; they go with their tenant.
        """
INSERT INTO cursors (name, position) SELECT 'tenants.id', coalesce(max(id), 0) FROM tenants;
CREATE TABLE access_grants (
    token_hash TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    scopes TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX access_grants_grant ON access_grants(tenant_id, client, scopes);
""",
    ),
    (
        6,
        # A client-assigned member code (Identity.EXTERNAL_REF), unique per tenant when set: the index is
        # the last word, the ledger's check inside the same transaction gives the readable error.
        """
ALTER TABLE members ADD COLUMN external_ref TEXT;
CREATE UNIQUE INDEX members_external_ref ON members(tenant_id, external_ref) WHERE external_ref IS NOT NULL;
""",
    ),
    (
        7,
        # One counter every tenant change moves, so a tenant cache knows with one read whether it is stale.
        """
CREATE TABLE tenant_epoch (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
""",
    ),
    (
        8,
        BACKFILL_EXTERNAL_REF,
    ),
    (
        9,
        # Forwarding to an upstream. A member's identity at its tenant's upstream (unique in the tenant when
        # set). An account's upstream_offset: the part of its posted figure made at the upstream by others
        # (the local account mirrors the upstream's balance; its entries are the movements forwarded from
        # here), so posted = confirmed entries + offset. An intent: one forwarded write, recorded before the
        # upstream is called and settled after, keyed the same on every attempt.
        """
ALTER TABLE members ADD COLUMN upstream_ref TEXT;
CREATE UNIQUE INDEX members_upstream_ref ON members(tenant_id, upstream_ref) WHERE upstream_ref IS NOT NULL;
ALTER TABLE accounts ADD COLUMN upstream_offset INTEGER NOT NULL DEFAULT 0;
CREATE TABLE upstream_intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    member_ref TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL,
    asset TEXT NOT NULL,
    points_cents INTEGER NOT NULL,
    cause TEXT NOT NULL,
    value_cents INTEGER,
    note TEXT,
    reference TEXT,
    reverses TEXT,
    state TEXT NOT NULL,
    answered TEXT,
    outcome TEXT NOT NULL DEFAULT '{}',
    local TEXT NOT NULL DEFAULT '{}',
    client_scope TEXT,
    client_key TEXT,
    client_fingerprint TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    settled_by TEXT
);
CREATE INDEX upstream_intents_state ON upstream_intents(tenant_id, state);
CREATE INDEX upstream_intents_client ON upstream_intents(tenant_id, client_scope, client_key) WHERE client_key IS NOT NULL;
""",
    ),
    (
        10,
        # Claims on intents, held in the store so one worker (the sender, a settler, a client's retry; of this
        # instance or another on the same database) works an open intent at a time: claimed_by is the claim's
        # token, claimed_until when the lease ends unless renewed. sent_at: when the write was last sent, so
        # "not applied" is believed only once that request could have landed, whoever asks (NULL on intents
        # from before: their created_at stands in).
        """
ALTER TABLE upstream_intents ADD COLUMN claimed_by TEXT;
ALTER TABLE upstream_intents ADD COLUMN claimed_until TEXT;
ALTER TABLE upstream_intents ADD COLUMN sent_at TEXT;
""",
    ),
    (
        11,
        # Listing counts: where a deep page starts, kept by triggers (see listing_counts.py).
        LISTING_TABLE + SQLITE_TRIGGERS,
    ),
    (
        13,
        # State several processes over one database must see alike, kept without knowing what it is (there is
        # no 12: migrations run by which are missing, not by the highest, so a gap is harmless): named documents, each write moving one version every reader compares with
        # its own; named counters that restart after a window; and streams of records appended in batches
        # (their index holds the size, so trimming reads the index alone).
        """
CREATE TABLE shared_documents (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE shared_counters (
    name TEXT PRIMARY KEY,
    started INTEGER NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE shared_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    size INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX shared_records_stream ON shared_records(stream, id, size);
""",
    ),
    (
        14,
        # Deliveries whose receiver answers with more than a status (a shadow upstream: what it applied or why
        # it refused) keep that answer as JSON in `outcome`; "refused" is a final state that is never retried.
        # A consumer may claim in order: only the earliest pending delivery of a (channel, label) is due, which
        # the partial index finds without reading the settled ones.
        """
ALTER TABLE deliveries ADD COLUMN outcome TEXT;
CREATE INDEX deliveries_in_order ON deliveries(channel, label, event_id) WHERE state = 'pending';
CREATE INDEX deliveries_channel ON deliveries(channel, tenant_id, state, id);
CREATE INDEX deliveries_by_dedupe ON deliveries(channel, tenant_id, dedupe_key);
""",
    ),
    (
        15,
        # A channel's deliveries read a label at a time (a drift report's page of members): the distinct labels
        # and one label's deliveries come from this index, never from a scan of the channel.
        """
CREATE INDEX deliveries_by_label ON deliveries(channel, tenant_id, label, id);
""",
    ),
]
