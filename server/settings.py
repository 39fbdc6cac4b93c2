"""Settings from ORDERGRAPH_* environment variables (pydantic-settings)."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "ordergraph-development-secret-do-not-use-in-production"


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'ordergraph.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERGRAPH_", frozen=True)

    database_url: str = default_database_url()
    # Analysts' reads may go to a replica; the primary when unset.
    read_database_url: str | None = None
    broadcast_url: str = "memory://"
    # Names this deployment's Redis channel and cost-bucket keys: deployments sharing one Redis need their own.
    redis_prefix: str = "ordergraph"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_ttl_seconds: int = 12 * 3600
    # The most bytes a request body may hold (GraphQL over HTTP; the carrier webhook keeps its own smaller cap),
    # counted while it is read, before it is parsed or its token looked at (server/request_body.py).
    max_body_bytes: int = 1_000_000
    max_page_size: int = 100
    # Analysts page through exports in bigger pages than the apps do.
    analyst_max_page_size: int = 500
    graphiql: bool = True
    # Off in production: no introspection and no "Did you mean …?" suggestions, which reveal the schema too.
    introspection: bool = True
    # Accept only the operations in frontend-contract/operations, sent by their persisted-query hash
    # (frontend-contract/trusted-documents.json).
    trusted_documents_only: bool = False
    # Off only for the benchmark's naive baseline: every loader key its own SQL statement.
    loader_batching: bool = True
    # Trusted queries run from a plan compiled once per document (schema/compiled.py); off: every request through
    # the generic executor (the reference, and what the plan falls back to).
    fast_path: bool = True
    sqlite_busy_timeout_ms: int = 10_000
    database_pool_size: int = 10
    # Returns: how long after delivery units may be returned, and returns worth at most this much (minor
    # units, refund value) are approved without an agent.
    return_window_days: int = 30
    return_auto_approve_max_minor: int = 5_000
    # The product page promises pickup only from stores within this distance of the shopper.
    pickup_max_distance_km: float = 50.0
    # Integration ports by name (resolvers/ports): the built-in defaults until a real provider is added.
    tax_calculator: str = "table"
    payment_gateway: str = "test"
    fraud_screen: str = "rules"
    carriers: str = "templates"
    # Live subscriptions (graphql-transport-ws on /graphql). Pages on other origins may open a WebSocket only
    # when listed here (comma-separated, e.g. "https://console.example.com"; "*" for any); same-origin pages
    # and non-browser clients always may.
    websocket_origins: str = ""
    max_subscriptions_per_connection: int = 20
    # Events waiting for one slow subscriber before it is caught up from the database instead.
    subscriber_queue_size: int = 100
    # How often the outbox relay looks for events committed elsewhere and not yet published.
    relay_poll_seconds: float = 1.0
    # Carrier webhooks (POST /webhooks/carriers/{carrier}): each carrier's HMAC-SHA256 secret, as
    # "UPS=secret,FedEx=another"; a carrier without one is refused.
    carrier_webhook_secrets: str = ""
    # Customer notifications (server.notifier). Email goes over SMTP when a host is set, SMS is posted to the
    # endpoint when one is set; without them messages are written to the outbox folder for a developer to read.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    email_from: str = "ordergraph <no-reply@ordergraph.localhost>"
    sms_sender: str = "http"
    sms_endpoint: str | None = None
    notification_outbox: Path = Path("outbox")
    notification_poll_seconds: float = 2.0
    # A failed send is tried again after notification_retry_seconds, doubling each time, up to this many attempts.
    notification_max_attempts: int = 5
    notification_retry_seconds: float = 30.0
    # How long a process's claim on a notification holds: one that dies mid-send leaves it to be sent again after
    # this. Keep it longer than any send may take (the SMTP and HTTP timeouts are 30 s and 10 s).
    notification_lease_seconds: float = 300.0
    # Where customers open what emails link to (signed document links: /d/{token}), e.g. https://shop.example.
    public_url: str = "http://localhost:8000"
    # How long a signed document link in an email opens its document without a login.
    document_link_days: int = 30
    # Operators' own message templates (subject.txt, email.html, email.txt, sms.txt), used before the shipped ones.
    notification_templates_dir: Path | None = None
    # How long a pickup order waits at the counter, and how long before the end its customer is reminded.
    pickup_window_days: int = 7
    pickup_reminder_hours: int = 24
    # Business orders above their company's approval threshold (#21) keep their stock and credit this long while
    # nobody decides; the approval sweep, every approval_sweep_seconds, then cancels them (EXPIRED).
    approval_reservation_hours: float = 48.0
    approval_sweep_seconds: float = 60.0
    # Outbound webhooks (server.webhooks). A failed delivery is tried again after a random wait of up to
    # retry_base * 2^(attempt-1) seconds (never more than retry_cap) for retry_window seconds; a subscription whose
    # attempts have all failed for failure_window seconds is disabled. A claim holds for lease seconds: longer
    # than timeout, so a live sender is never doubled; a dead one's delivery is sent again after it.
    webhook_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    webhook_max_response_bytes: int = 65_536
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_cap_seconds: float = 3600.0
    webhook_retry_window_seconds: float = 24 * 3600.0
    webhook_failure_window_seconds: float = 24 * 3600.0
    webhook_lease_seconds: float = 60.0
    webhook_concurrency: int = 16
    # Target URLs may resolve only to public addresses, unless listed here ("127.0.0.0/8,::1/128", comma-separated
    # networks): loopback, private, link-local and the like are refused, cloud metadata addresses always.
    webhook_allowed_networks: str = ""

    # Bulk exports (#20, server.bulk_exports): files are written to this folder; a download link works for
    # bulk_export_link_minutes from when its owner read it. A running export holds its claim for lease seconds
    # (renewed after every chunk of orders); one whose process died is started again by another, up to
    # max_attempts claims.
    bulk_export_dir: Path = Path("exports")
    bulk_export_link_minutes: int = 60
    bulk_export_lease_seconds: float = 60.0
    bulk_export_poll_seconds: float = 1.0
    bulk_export_max_attempts: int = 3
    bulk_export_chunk_orders: int = 5000

    # The cyclic garbage collector, tuned for a server (server/gc_tuning.py): what start-up leaves alive frozen out
    # of its collections, and allocations between young-generation collections (0: Python's, 700).
    gc_freeze: bool = True
    gc_threshold: int = 0

    # Operations (issue 22). Log lines as "json", "text", or "auto": text on a terminal, JSON otherwise.
    log_format: str = "auto"
    # Prometheus metrics at /metrics (server/metrics.py); off only to measure what they cost (bench/observability.py).
    metrics_enabled: bool = True
    # Who may read /metrics: a bearer token's holder, or callers from these networks (comma-separated).
    metrics_token: str | None = None
    metrics_allowed_networks: str = "127.0.0.0/8,::1/128"
    # On SIGTERM: how long in-flight requests may take to finish before they are cut, and the relay to publish
    # what is committed (WebSockets are closed at once with 1012, which graphql-ws clients reconnect on).
    shutdown_grace_seconds: float = 20.0
    # OpenTelemetry traces go to this OTLP/HTTP endpoint (e.g. http://collector:4318); none when unset.
    otlp_endpoint: str | None = None
    # The share of requests traced (the rest cost next to nothing); a traced caller's decision is followed.
    trace_sample_ratio: float = 1.0

    @property
    def allowed_websocket_origins(self) -> list[str]:
        return [origin.strip() for origin in self.websocket_origins.split(",") if origin.strip()]

    @property
    def carrier_secrets(self) -> dict[str, str]:
        """Each carrier's webhook secret by its name in lower case."""
        pairs = (entry.partition("=") for entry in self.carrier_webhook_secrets.split(","))
        return {name.strip().casefold(): secret.strip() for name, _, secret in pairs if name.strip() and secret.strip()}

    @property
    def uses_development_secret(self) -> bool:
        return self.jwt_secret == DEVELOPMENT_JWT_SECRET
