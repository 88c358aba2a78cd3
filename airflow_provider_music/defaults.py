"""
Every default the provider uses, in one place so a reviewer can see the whole budget at once.

Only defaults live here (values a deployment could want otherwise); fixed facts live with the code
that owns them: the vendor's limits in the wire layer, S3's part floor in storage, the manifest's
suffix in delivery, the task-state key in integration.
"""

from __future__ import annotations

from typing import Final

# --- Connection -------------------------------------------------------------------------------
CONN_TYPE: Final = "aimlapi"
DEFAULT_CONN_ID: Final = "aimlapi_default"
DEFAULT_HOST: Final = "https://api.aimlapi.com"
DEFAULT_MODEL: Final = "elevenlabs/eleven_music"
# How the connection form looks (read by the hook and by get_provider_info, which Airflow 3.2+
# uses to draw the form without importing the hook).
HOOK_NAME: Final = "AI/ML API (music)"
CONNECTION_HIDDEN_FIELDS: Final = ("schema", "login", "port")
CONNECTION_RELABELING: Final = {"password": "API key", "host": "API base URL"}
CONNECTION_PLACEHOLDERS: Final = {
    "password": "your AI/ML API key",
    "host": DEFAULT_HOST,
    "extra": '{"timeout": 60}',
}
# The connection's extra key the hook reads its read timeout (seconds) from. Airflow 3.2+ draws it as
# a typed field of the connection form (provider info ``conn-fields``), which stores into this very
# key of the extra JSON; on Airflow 3.1 it is typed into the Extra box (see the placeholder above).
CONNECTION_EXTRA_TIMEOUT: Final = "timeout"

# --- HTTP --------------------------------------------------------------------------------------
CONNECT_TIMEOUT_S: Final = 10.0
READ_TIMEOUT_S: Final = 60.0
# Attempts per API call for transient faults (429, 5xx, resets, timeouts, unparseable 200s).
MAX_REQUEST_ATTEMPTS: Final = 5
BACKOFF_BASE_S: Final = 1.0
BACKOFF_MAX_S: Final = 30.0
# How long the trigger's HTTP client keeps its idle connection: longer than any sane poll interval,
# shorter than typical server keep-alive limits (nginx: 75 s).
ASYNC_KEEPALIVE_EXPIRY_S: Final = 60.0
# The trigger's client: one connection is used at a time; a second covers a stale one being replaced.
ASYNC_MAX_CONNECTIONS: Final = 2
# Triggers running at the same time share one connection lookup for at most this long (a lookup
# costs more than several polls); a connection edited in the UI reaches new trigger runs within it.
SHARED_CONNECTION_TTL_S: Final = 60.0
# A status or submit answer is a few hundred bytes; a bigger body is not the API talking.
MAX_API_RESPONSE_BYTES: Final = 1024 * 1024
# A service's failure text is cut to this in exception messages (it may send megabytes).
FAILURE_MESSAGE_MAX_CHARS: Final = 1000
# A Retry-After larger than this is a sign of an outage, not of a short throttle.
RETRY_AFTER_MAX_S: Final = 120.0

# --- Triggerer (Airflow config, section [aimlapi]) ------------------------------------------------
CONFIG_SECTION: Final = "aimlapi"
# Opt-in: on the first trigger run in a triggerer process, gc.collect() and gc.freeze() what is alive
# then (Airflow itself, mostly), so the collector's full passes no longer walk it and stop the loop
# for 100+ ms. Off by default: the triggerer's process, and so its collector, is shared with every
# other provider's triggers, and a provider does not change it unasked (docs/performance.md says
# when to turn it on).
CONFIG_TRIGGERER_GC_FREEZE: Final = "triggerer_gc_freeze"
DEFAULT_TRIGGERER_GC_FREEZE: Final = False

# --- Waiting -----------------------------------------------------------------------------------
# The vendor polls every 10 s; a short track usually finishes within 30 s.
DEFAULT_POLL_INTERVAL_S: Final = 10.0
# The vendor's examples give up after 600-1000 s; 30 minutes leaves room for long tracks and queues.
DEFAULT_TIMEOUT_S: Final = 30 * 60.0
# Consecutive transient poll failures the trigger absorbs before it gives up (reset on success).
DEFAULT_MAX_CONSECUTIVE_POLL_FAILURES: Final = 10
# Progress in the task log while waiting: every new status at once, otherwise one line at most this
# often (so a thousand waits log about a thousand lines a minute between them, never one per poll).
PROGRESS_HEARTBEAT_S: Final = 60.0
# Airflow's own deferral timeout is a safety net behind the trigger's wall-clock deadline.
DEFERRAL_TIMEOUT_MARGIN_S: Final = 300.0

# --- Delivery ----------------------------------------------------------------------------------
# The memory budget of one delivery: peak growth stays near two of these (socket reads of at most
# NETWORK_READ_SIZE; storage blocks of half a chunk, at least S3's 5 MiB part minimum).
DEFAULT_CHUNK_SIZE: Final = 8 * 1024 * 1024
# Reads from the socket are smaller than a storage block: the block is buffered by the storage
# client anyway, so reading a whole chunk at once would only hold a second copy of it.
NETWORK_READ_SIZE: Final = 1024 * 1024
# A 300 s stereo 48 kHz 24-bit WAV is ~86 MB; anything far beyond is a runaway download.
DEFAULT_MAX_AUDIO_BYTES: Final = 512 * 1024 * 1024
# Times an expired audio URL (401/403/404/410) is refreshed through a new GET of the generation.
MAX_URL_REFRESHES: Final = 3
# Parts of such an upload held at once (one filling while one uploads, or two uploading): with 5 MiB
# parts about 10 MiB, inside the two-chunk budget, and a part's round trip overlaps the next one's.
UPLOAD_PARTS_IN_MEMORY: Final = 2
# Downloaded pieces (of up to NETWORK_READ_SIZE) queued for the sha256 thread of a local write on a
# machine with 3 or more CPUs free for the process (storage's HASH_THREAD_MIN_CPUS; on fewer the hash
# runs inline), which hashes while the next piece is read and written; more did not help.
HASH_QUEUE_PIECES: Final = 2
DEFAULT_IF_EXISTS: Final = "overwrite"
