// Versioned schema migrations, applied in order inside one transaction each; PRAGMA user_version
// records the last one applied. Append only: never edit a migration that has shipped.
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      -- Named secrets: a reference, or a blob of the local provider (exactly one of the two).
      CREATE TABLE secrets (
        id          TEXT PRIMARY KEY CHECK (length(id) = 25),
        name        TEXT NOT NULL UNIQUE,
        ref         TEXT,
        blob_id     TEXT,
        labels      TEXT NOT NULL DEFAULT '{}',
        mode        INTEGER,
        uid         INTEGER,
        gid         INTEGER,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        CHECK ((ref IS NULL) <> (blob_id IS NULL))
      );
      -- Ciphertext of the local provider (AES-256-GCM). Never plaintext.
      CREATE TABLE local_blobs (
        id          TEXT PRIMARY KEY,
        key_id      TEXT NOT NULL,
        nonce       BLOB NOT NULL,
        ciphertext  BLOB NOT NULL,
        tag         BLOB NOT NULL,
        created_at  TEXT NOT NULL
      );
      -- Who did what, when, with what outcome. Never values.
      CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        action      TEXT NOT NULL,
        frontend    TEXT NOT NULL,
        consumer    TEXT,
        subject     TEXT,
        provider    TEXT,
        outcome     TEXT NOT NULL,
        code        TEXT,
        cache       TEXT,
        detail      TEXT
      );
      CREATE INDEX audit_at ON audit(at);
      CREATE INDEX audit_subject ON audit(subject);
      -- Live delivery mount sets, so a restart after a crash can sweep orphans.
      CREATE TABLE mount_sets (
        id          TEXT PRIMARY KEY,
        consumer    TEXT NOT NULL,
        path        TEXT NOT NULL UNIQUE,
        owner_pid   INTEGER,
        spec        TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      -- Explicit Docker/Podman volumes (named secrets are implicit volumes and are not listed here).
      CREATE TABLE volumes (
        name        TEXT PRIMARY KEY,
        opts        TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL
      );
      -- Active mounts of volumes: one mount set per (volume, mount id), counted for Podman's fixed id.
      CREATE TABLE volume_mounts (
        volume        TEXT NOT NULL,
        mount_id      TEXT NOT NULL,
        mount_set_id  TEXT NOT NULL,
        refcount      INTEGER NOT NULL DEFAULT 1,
        created_at    TEXT NOT NULL,
        PRIMARY KEY (volume, mount_id)
      );
      -- Plugin catalog: executables pinned by sha256 (or OCI images pinned by digest).
      CREATE TABLE plugins (
        name          TEXT PRIMARY KEY,
        path          TEXT,
        sha256        TEXT,
        oci_image     TEXT,
        runtime       TEXT,
        lifecycle     TEXT NOT NULL DEFAULT 'oneshot',
        dialect       TEXT NOT NULL DEFAULT 'keyway',
        allow_network INTEGER NOT NULL DEFAULT 0,
        env           TEXT NOT NULL DEFAULT '{}',
        options       TEXT NOT NULL DEFAULT '{}',
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      -- Secrets stored through Podman's shell driver, keyed by Podman's own 25-hex id.
      CREATE TABLE podman_secrets (
        id          TEXT PRIMARY KEY,
        ref         TEXT,
        blob_id     TEXT,
        created_at  TEXT NOT NULL,
        CHECK ((ref IS NULL) <> (blob_id IS NULL))
      );
    `,
  },
];
