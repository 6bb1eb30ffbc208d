-- Hearth's whole schema, in the order it was introduced.
--
-- Each `-- version N` line starts the migration that takes a database from
-- PRAGMA user_version N-1 to N. A database is migrated forward one step at a
-- time; a released step is never edited, only followed by a new one.
-- Times are unix milliseconds, UTC.

-- version 1: accounts and sessions
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    display_name        TEXT    NOT NULL,
    password_hash       TEXT    NOT NULL,
    role                TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    deactivated         INTEGER NOT NULL DEFAULT 0 CHECK (deactivated IN (0, 1)),
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash          BLOB    PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token          TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    last_seen_at        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE audit_log (
    id                  INTEGER PRIMARY KEY,
    at                  INTEGER NOT NULL,
    actor               TEXT    NOT NULL,
    action              TEXT    NOT NULL,
    target              TEXT    NOT NULL DEFAULT ''
) STRICT;

-- version 2: conversations, messages, read state and the event log
CREATE TABLE conversations (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT    NOT NULL CHECK (kind IN ('channel', 'group', 'direct')),
    name                TEXT    NOT NULL DEFAULT '',
    topic               TEXT    NOT NULL DEFAULT '',
    direct_key          TEXT    UNIQUE,
    archived            INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_by          INTEGER REFERENCES users(id),
    created_at          INTEGER NOT NULL,
    last_message_id     INTEGER NOT NULL DEFAULT 0,
    last_activity_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX conversations_channel_name ON conversations(name COLLATE NOCASE)
    WHERE kind = 'channel';

CREATE TABLE memberships (
    conversation_id     INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role                TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
    last_read_message_id INTEGER NOT NULL DEFAULT 0,
    notify              TEXT    NOT NULL DEFAULT 'all' CHECK (notify IN ('all', 'mentions', 'none')),
    joined_at           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships(user_id, conversation_id);

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    conversation_id     INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    sender_id           INTEGER NOT NULL REFERENCES users(id),
    body                TEXT    NOT NULL,
    html                TEXT    NOT NULL,
    reply_to            INTEGER REFERENCES messages(id),
    client_id           TEXT,
    created_at          INTEGER NOT NULL,
    edited_at           INTEGER,
    deleted_at          INTEGER
) STRICT;
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE UNIQUE INDEX messages_by_client_id ON messages(sender_id, client_id)
    WHERE client_id IS NOT NULL;

CREATE TABLE reactions (
    message_id          INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji               TEXT    NOT NULL,
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE mentions (
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    conversation_id     INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id          INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, conversation_id, message_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE attachments (
    id                  INTEGER PRIMARY KEY,
    message_id          INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    uploader_id         INTEGER NOT NULL REFERENCES users(id),
    sha256              TEXT    NOT NULL,
    size                INTEGER NOT NULL,
    mime                TEXT    NOT NULL,
    filename            TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_by_message ON attachments(message_id);

-- The live event log. An event goes to one user when user_id is set, else to the members of
-- conversation_id. `frame` is the exact JSON text sent over WebSocket.
CREATE TABLE events (
    seq                 INTEGER PRIMARY KEY,
    conversation_id     INTEGER,
    user_id             INTEGER,
    kind                TEXT    NOT NULL,
    frame               TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE invites (
    token_hash          BLOB    PRIMARY KEY,
    created_by          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    used_by             INTEGER REFERENCES users(id)
) STRICT, WITHOUT ROWID;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;

-- version 3: indexes for unread counts and for the mentions of one message
-- Counting a member's unread messages walks (conversation_id, id) past their read marker and
-- checks sender_id and deleted_at of each: this index covers all four, so the count is an
-- index-only range scan (deleted_at is listed only so SQLite sees the index as covering).
CREATE INDEX messages_unread ON messages(conversation_id, id, sender_id, deleted_at)
    WHERE deleted_at IS NULL;
-- Editing or deleting a message replaces its mentions: find them without scanning them all.
CREATE INDEX mentions_by_message ON mentions(message_id);

-- version 4: settings of this instance, among them its secrets (the key that signs device cookies)
CREATE TABLE settings (
    name                TEXT    PRIMARY KEY,
    value               BLOB    NOT NULL
) STRICT, WITHOUT ROWID;

-- version 5: read state that tells no lies, and lines about the conversation among its messages
-- `last_read_message_id` is what the member has read, and nothing else: it is the receipt others
-- see. Joining a channel sets `unread_after_message_id` instead: its history up to then never
-- counts as unread for them, yet they have not read it.
ALTER TABLE memberships ADD COLUMN unread_after_message_id INTEGER NOT NULL DEFAULT 0;
-- A row with a `notice` is a line about the conversation ("Bob added Ada", a rename), not a
-- message: ordered and paged with the messages, never unread, its body empty (so never found by
-- search). The notice is JSON: {"action": …, …}.
ALTER TABLE messages ADD COLUMN notice TEXT CHECK (notice IS NULL OR json_valid(notice));
-- Unread counts skip those lines: the partial index leaves them out and still covers the count.
DROP INDEX messages_unread;
CREATE INDEX messages_unread ON messages(conversation_id, id, sender_id, deleted_at, notice)
    WHERE deleted_at IS NULL AND notice IS NULL;

-- version 6: people and administration: invites, one-time password links, session details,
-- instance settings in `settings`, audit details, the support inbox and reports
-- The version 2 invites table was never written to: it is replaced by one that can be listed.
DROP TABLE invites;
CREATE TABLE invites (
    id                  INTEGER PRIMARY KEY,
    token_hash          BLOB    NOT NULL UNIQUE,
    -- NULL when made from the command line.
    created_by          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    -- NULL: never expires.
    expires_at          INTEGER,
    -- NULL: any number of uses.
    max_uses            INTEGER CHECK (max_uses IS NULL OR max_uses > 0),
    uses                INTEGER NOT NULL DEFAULT 0,
    role                TEXT    NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    -- Channels and groups the newcomer joins: a JSON array of conversation ids.
    conversations       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(conversations)),
    revoked_at          INTEGER
) STRICT;

-- One-time "set your password" links, for a new person added by an admin or a reset.
CREATE TABLE password_links (
    token_hash          BLOB    PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose             TEXT    NOT NULL CHECK (purpose IN ('welcome', 'reset')),
    created_by          TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    used_at             INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX password_links_by_user ON password_links(user_id);

-- Where a session was opened, for the list of one's sessions.
ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
-- Why a session ended when its owner did not end it, told at their next visit; kept 30 days.
CREATE TABLE ended_sessions (
    token_hash          BLOB    PRIMARY KEY,
    reason              TEXT    NOT NULL,
    ended_at            INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- When the person last used Hearth (refreshed with their session's, at most once a minute).
ALTER TABLE users ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;

-- What an audit row's action was about beyond its target (a JSON object or empty).
ALTER TABLE audit_log ADD COLUMN detail TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_by_actor ON audit_log(actor COLLATE NOCASE, id);
CREATE INDEX audit_by_action ON audit_log(action, id);
CREATE INDEX audit_by_at ON audit_log(at);

-- A member's one private conversation with the admin team: a `group` whose members are that
-- member and every admin, marked by its row here.
CREATE TABLE support_threads (
    conversation_id     INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    member_id           INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    state               TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    assignee_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

-- Notes the admins leave in a support conversation. Kept apart from `messages` so that no
-- path that shows messages (pages, API, WebSocket, search, export, receipts) can show them.
CREATE TABLE support_notes (
    id                  INTEGER PRIMARY KEY,
    conversation_id     INTEGER NOT NULL
                        REFERENCES support_threads(conversation_id) ON DELETE CASCADE,
    author_id           INTEGER NOT NULL REFERENCES users(id),
    body                TEXT    NOT NULL,
    html                TEXT    NOT NULL,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX support_notes_by_conversation ON support_notes(conversation_id, id);

-- A member's report of a message to the admins.
CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    message_id          INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    reporter_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason              TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX reports_by_message ON reports(message_id);

-- version 7: files: uploads bound to messages, thumbnails, link previews, pictures, the outbox
-- The version 2 attachments table was never written to by a running server: it is replaced
-- by one that knows uploads waiting to be sent, image sizes and thumbnails.
DROP TABLE attachments;
CREATE TABLE attachments (
    id                  INTEGER PRIMARY KEY,
    uploader_id         INTEGER NOT NULL REFERENCES users(id),
    -- Both NULL while the upload waits to be sent; set in the write that stores the message.
    message_id          INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id     INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    -- The blob: attachments/<first two hex digits>/<sha256>.
    sha256              TEXT    NOT NULL,
    size                INTEGER NOT NULL CHECK (size >= 0),
    -- Sniffed from the content, never taken from the name.
    mime                TEXT    NOT NULL,
    kind                TEXT    NOT NULL DEFAULT 'file'
                        CHECK (kind IN ('image', 'video', 'audio', 'file')),
    filename            TEXT    NOT NULL,
    -- Images: the size as displayed (EXIF orientation applied), and a thumbnail blob.
    width               INTEGER,
    height              INTEGER,
    thumb_sha256        TEXT,
    thumb_mime          TEXT,
    thumb_width         INTEGER,
    thumb_height        INTEGER,
    created_at          INTEGER NOT NULL,
    -- When its message was deleted; the row and blob go after the retention time.
    deleted_at          INTEGER
) STRICT;
CREATE INDEX attachments_by_message ON attachments(message_id);
CREATE INDEX attachments_by_conversation ON attachments(conversation_id, id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX attachments_pending ON attachments(created_at) WHERE message_id IS NULL;
CREATE INDEX attachments_by_uploader ON attachments(uploader_id);
CREATE INDEX attachments_by_sha ON attachments(sha256);
CREATE INDEX attachments_by_thumb ON attachments(thumb_sha256) WHERE thumb_sha256 IS NOT NULL;

-- The card shown under a message with a link: read by the server, its image stored here,
-- never hot-linked. `removed`: the author took it away (and it is not fetched again).
CREATE TABLE link_previews (
    message_id          INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    url                 TEXT    NOT NULL,
    title               TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    site                TEXT    NOT NULL DEFAULT '',
    image_sha256        TEXT,
    image_mime          TEXT,
    image_width         INTEGER,
    image_height        INTEGER,
    removed             INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX link_previews_by_image ON link_previews(image_sha256) WHERE image_sha256 IS NOT NULL;

-- Pictures: a person's avatar and a channel's or group's picture (square thumbnails).
ALTER TABLE users ADD COLUMN avatar_sha256 TEXT;
ALTER TABLE conversations ADD COLUMN picture_sha256 TEXT;

-- Work that leaves the process (link previews now), written in the same transaction as what
-- causes it and done by a worker off the writer; `key` makes a job happen once.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT    NOT NULL,
    key                 TEXT    NOT NULL UNIQUE,
    payload             TEXT    NOT NULL CHECK (json_valid(payload)),
    attempts            INTEGER NOT NULL DEFAULT 0,
    run_at              INTEGER NOT NULL,
    last_error          TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox(run_at);

-- version 8: search beyond whole words, over attachment names too, and by sender
-- Substrings and scripts written without spaces (Chinese, Japanese): every three characters
-- of a body, case and diacritics folded. Positions are not kept (`detail=none`): a query asks
-- for all of a term's trigrams and the match is then checked against the text itself.
CREATE VIRTUAL TABLE messages_trigram USING fts5(
    body, content = 'messages', content_rowid = 'id',
    tokenize = 'trigram remove_diacritics 1', detail = none, columnsize = 0
);
INSERT INTO messages_trigram(messages_trigram) VALUES ('rebuild');
CREATE TRIGGER messages_trigram_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_trigram(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_trigram_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_trigram(messages_trigram, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_trigram_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_trigram(messages_trigram, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_trigram(rowid, body) VALUES (new.id, new.body);
END;
-- The names of files, found by any part of them ("report" finds "Q3-report.pdf").
CREATE VIRTUAL TABLE attachments_names USING fts5(
    filename, content = 'attachments', content_rowid = 'id',
    tokenize = 'trigram remove_diacritics 1', detail = none, columnsize = 0
);
INSERT INTO attachments_names(attachments_names) VALUES ('rebuild');
CREATE TRIGGER attachments_names_insert AFTER INSERT ON attachments BEGIN
    INSERT INTO attachments_names(rowid, filename) VALUES (new.id, new.filename);
END;
CREATE TRIGGER attachments_names_delete AFTER DELETE ON attachments BEGIN
    INSERT INTO attachments_names(attachments_names, rowid, filename)
        VALUES ('delete', old.id, old.filename);
END;
CREATE TRIGGER attachments_names_update AFTER UPDATE OF filename ON attachments BEGIN
    INSERT INTO attachments_names(attachments_names, rowid, filename)
        VALUES ('delete', old.id, old.filename);
    INSERT INTO attachments_names(rowid, filename) VALUES (new.id, new.filename);
END;
-- `from:@name`: one person's messages, newest first, without reading everyone else's.
CREATE INDEX messages_by_sender ON messages(sender_id, id);

-- version 9: notifications: a level and a mute per membership, do not disturb, push devices
-- Channels tell their members of mentions only unless asked; directs and groups of everything.
UPDATE memberships SET notify = 'mentions'
    WHERE notify = 'all'
      AND conversation_id IN (SELECT id FROM conversations WHERE kind = 'channel');
-- Muted: no unread badge and no notification, except for a mention.
ALTER TABLE memberships ADD COLUMN muted INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1));
-- Do not disturb until this time (unix ms): nothing notifies the person before it.
ALTER TABLE users ADD COLUMN quiet_until INTEGER;
-- A device that receives Web Push: its endpoint and keys as its browser gave them.
CREATE TABLE push_subscriptions (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    endpoint            TEXT    NOT NULL UNIQUE,
    p256dh              BLOB    NOT NULL CHECK (length(p256dh) = 65),
    auth                BLOB    NOT NULL CHECK (length(auth) = 16),
    label               TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    last_sent_at        INTEGER,
    last_error          TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions(user_id);

-- version 10: email: each person's address, its verification, and the notifications it gets
-- One address a person; an address verified by one person cannot be verified by another.
CREATE TABLE email_addresses (
    user_id             INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    address             TEXT    NOT NULL COLLATE NOCASE,
    verified_at         INTEGER,
    -- The link that verifies it: only its token's hash, and when it stops working.
    token_hash          BLOB    UNIQUE,
    token_expires_at    INTEGER,
    -- Whether unread mentions and direct messages are emailed (once verified).
    notify              INTEGER NOT NULL DEFAULT 1 CHECK (notify IN (0, 1)),
    -- The newest message gathered into a notification email (or read before it went); set to
    -- the newest message when the address is verified or emails are turned back on.
    emailed_through     INTEGER NOT NULL DEFAULT 0,
    -- The outbox key of the email being handed to the SMTP server: set just before, cleared
    -- with the outcome. Found still set, the server stopped mid-send: it is not sent again.
    sending             TEXT,
    last_sent_at        INTEGER,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX email_addresses_verified ON email_addresses(address)
    WHERE verified_at IS NOT NULL;
-- The messages that notified a person (as decided when each arrived) while their address
-- gets notification emails, waiting to be gathered into their next email.
CREATE TABLE email_pending (
    user_id             INTEGER NOT NULL REFERENCES email_addresses(user_id) ON DELETE CASCADE,
    message_id          INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, message_id)
) STRICT, WITHOUT ROWID;

-- version 11: integrations: bots, API tokens, incoming and outgoing webhooks, imports
-- A bot acts only through its tokens and hooks: it has no password and never signs in.
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0 CHECK (bot IN (0, 1));
-- An API token: only its hash is kept; it acts as its owner within its scope until it
-- expires (NULL: never) or is revoked.
CREATE TABLE api_tokens (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    token_hash          BLOB    NOT NULL UNIQUE,
    scope               TEXT    NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    created_by          INTEGER REFERENCES users(id),
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER,
    last_used_at        INTEGER,
    revoked_at          INTEGER
) STRICT;
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);
-- An incoming webhook: a secret URL (only its hash is kept) that posts to one conversation
-- as the hook's own bot.
CREATE TABLE webhooks_in (
    id                  INTEGER PRIMARY KEY,
    conversation_id     INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    bot_id              INTEGER NOT NULL REFERENCES users(id),
    name                TEXT    NOT NULL,
    secret_hash         BLOB    NOT NULL UNIQUE,
    created_by          INTEGER REFERENCES users(id),
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER,
    revoked_at          INTEGER
) STRICT;
CREATE INDEX webhooks_in_by_conversation ON webhooks_in(conversation_id);
-- The name a message was posted under, when a webhook asked for one ('username').
ALTER TABLE messages ADD COLUMN posted_as TEXT;
-- An outgoing webhook: new messages of one conversation (all of them, those that mention the
-- bot, or those that start with a trigger word) are POSTed to `url`, signed with `secret`;
-- an answer becomes a reply from the bot.
CREATE TABLE webhooks_out (
    id                  INTEGER PRIMARY KEY,
    conversation_id     INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    bot_id              INTEGER NOT NULL REFERENCES users(id),
    url                 TEXT    NOT NULL,
    secret              TEXT    NOT NULL,
    trigger             TEXT    NOT NULL DEFAULT 'all' CHECK (trigger IN ('all', 'mention', 'word')),
    words               TEXT    NOT NULL DEFAULT '',
    allow_private       INTEGER NOT NULL DEFAULT 0 CHECK (allow_private IN (0, 1)),
    created_by          INTEGER REFERENCES users(id),
    created_at          INTEGER NOT NULL,
    revoked_at          INTEGER
) STRICT;
CREATE INDEX webhooks_out_by_conversation ON webhooks_out(conversation_id);
-- Each attempt to deliver a message to an outgoing webhook, for its admins to read.
CREATE TABLE webhook_deliveries (
    id                  INTEGER PRIMARY KEY,
    hook_id             INTEGER NOT NULL REFERENCES webhooks_out(id) ON DELETE CASCADE,
    message_id          INTEGER NOT NULL,
    attempt             INTEGER NOT NULL,
    at                  INTEGER NOT NULL,
    status              INTEGER,
    outcome             TEXT    NOT NULL CHECK (outcome IN ('delivered', 'replied', 'retrying', 'failed')),
    error               TEXT    NOT NULL DEFAULT '',
    duration_ms         INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries(hook_id, id);
-- What an import brought in, by its id in the source, so a second run adds nothing twice.
CREATE TABLE imported (
    source              TEXT    NOT NULL,
    kind                TEXT    NOT NULL CHECK (kind IN ('user', 'conversation', 'message', 'reaction')),
    external_id         TEXT    NOT NULL,
    local_id            INTEGER NOT NULL,
    PRIMARY KEY (source, kind, external_id)
) STRICT, WITHOUT ROWID;
