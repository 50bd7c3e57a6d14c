//! Building the application: database, repository actors, services, HTTP server.
//! `main` and the tests use the same [`Application::build`]; tests bind port 0
//! and inject a manual clock.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use huddle_actors::bus::Bus;
use huddle_actors::cache::{Cache, MemoryCache};
use huddle_actors::club::Clubs;
use huddle_actors::cluster::cache::RedisCache;
use huddle_actors::cluster::Cluster;
use huddle_actors::db::{Db, DbOptions};
use huddle_actors::repo::settings::GetOrInitSetting;
use huddle_actors::repo::Repo;
use huddle_actors::room::{RoomSettings, Rooms};
use huddle_actors::scheduler::EventScheduler;
use huddle_actors::{SharedClock, SystemClock};

use crate::auth::h5::H5Sessions;
use crate::auth::sessions::Sessions;
use crate::clients::captcha::Captcha;
use crate::clients::linkpreview::Previewer;
use crate::clients::push::{OfflinePush, PushProvider};
use crate::clients::rtc::RtcTokens;
use crate::clients::storage::Uploads;
use crate::clients::wechat::WechatClient;
use crate::config::{Config, Secret};
use crate::http;
use crate::realtime::hub::{self, Hub};
use crate::realtime::{SessionDeps, WsLimits};
use crate::state::AppState;
use crate::telemetry::redact_url;

/// What tests (or embedders) may replace.
pub struct Overrides {
    /// The clock (default: the wall clock).
    pub clock: Option<SharedClock>,
    /// Whether SIGINT/SIGTERM stop the server (off in tests: many servers share a process).
    pub handle_signals: bool,
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            clock: None,
            handle_signals: true,
        }
    }
}

/// A built, not yet running, huddle server.
pub struct Application {
    server: Server,
    handle: ShutdownHandle,
    addr: SocketAddr,
    repo: Repo,
    state: web::Data<AppState>,
    handle_signals: bool,
}

/// Stops a running server: WebSockets first (close 1001), then HTTP.
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    hub: Addr<Hub>,
}

impl ShutdownHandle {
    /// Tells every WebSocket to close with 1001 and the server to stop
    /// (`graceful`: in-flight requests may finish within the shutdown
    /// timeout). Both are sent at once; await the result to wait for the stop.
    pub fn stop(&self, graceful: bool) -> impl std::future::Future<Output = ()> {
        self.hub.do_send(hub::CloseAll);
        self.server.stop(graceful)
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// The listening socket, with room for `backlog` connections not yet
/// accepted. The standard library's `bind` asks for 128, and a burst of
/// thousands of clients connecting at once (a room going live) then loses
/// SYNs and waits a full second for the retransmission
/// (docs/performance.md); the kernel caps the number at `net.core.somaxconn`.
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Options set on every accepted client connection.
#[derive(Debug, Clone, Copy)]
struct SocketOptions {
    /// SO_SNDBUF, when set.
    send_buffer: Option<usize>,
    /// TCP_USER_TIMEOUT: a peer that acknowledges nothing (not even window
    /// probes of a client that stopped reading) for this long is dropped by
    /// the kernel; the WebSocket idle timeout cannot run for such a socket,
    /// because its session is not polled while its writes are blocked.
    user_timeout: Duration,
}

impl SocketOptions {
    fn from_config(config: &Config) -> Self {
        Self {
            send_buffer: Some(config.socket_send_buffer_bytes).filter(|n| *n > 0),
            user_timeout: Duration::from_millis(config.ws_idle_timeout_ms),
        }
    }

    fn apply(self, conn: &dyn std::any::Any) {
        let Some(stream) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let socket = socket2::SockRef::from(stream);
        if let Some(size) = self.send_buffer {
            if let Err(e) = socket.set_send_buffer_size(size) {
                tracing::warn!(error = %e, "cannot set SO_SNDBUF");
            }
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Err(e) = socket.set_tcp_user_timeout(Some(self.user_timeout)) {
            tracing::warn!(error = %e, "cannot set TCP_USER_TIMEOUT");
        }
    }
}

fn room_settings(config: &Config) -> RoomSettings {
    let ms = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    RoomSettings {
        grace_ms: ms(config.room_grace_ms),
        history_events: config.room_history_events,
        history_ms: ms(config.room_history_ms),
        sweep_every: Duration::from_millis(config.scheduler_tick_ms.max(1)),
    }
}

fn ws_limits(config: &Config) -> WsLimits {
    WsLimits {
        ping_interval: Duration::from_millis(config.ws_ping_interval_ms),
        idle_timeout: Duration::from_millis(config.ws_idle_timeout_ms),
        outbound_limit: config.ws_outbound_limit,
        max_frame_bytes: config.ws_max_frame_bytes,
        max_bad_frames: config.ws_max_bad_frames,
        session_check: Duration::from_millis(config.ws_session_check_ms),
        messages_per_second: config.limits.ws_messages_per_second,
        connections_per_user: usize::try_from(config.limits.ws_connections_per_user)
            .unwrap_or(usize::MAX),
    }
}

/// Opens the database and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let options = DbOptions {
        max_connections: config.database_max_connections,
        ..DbOptions::default()
    };
    let db = Db::connect(&config.database_url, &options)
        .await
        .with_context(|| format!("cannot open database {}", redact_url(&config.database_url)))?;
    db.migrate().await.context("cannot apply migrations")?;
    Ok(db)
}

/// Notifications a slow hub may fall behind by before it loses the oldest.
const BUS_CAPACITY: usize = 4096;

/// Links to Redis when `HUDDLE_REDIS_URL` is set. A Redis that does not answer
/// yet does not stop the node: it starts not ready and links up later.
async fn link_cluster(config: &Config) -> anyhow::Result<Option<Cluster>> {
    let Some(url) = &config.redis_url else {
        return Ok(None);
    };
    let cluster = Cluster::start(url.expose(), &config.node_id)
        .context("HUDDLE_REDIS_URL is not a usable Redis URL")?;
    if cluster.wait_up(Duration::from_secs(3)).await {
        tracing::info!(node = %config.node_id, redis = %redact_url(url.expose()), "redis linked: rooms, notifications and the cache are shared");
    } else {
        tracing::error!(node = %config.node_id, redis = %redact_url(url.expose()), "redis does not answer yet: starting not ready");
    }
    Ok(Some(cluster))
}

fn worker_count(config: &Config) -> usize {
    if config.workers > 0 {
        config.workers
    } else {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
    }
}

/// The configured Agora app, or a development pair generated once and kept in
/// the database (tokens from it are well-formed but not accepted by Agora).
async fn rtc_tokens(config: &Config, repo: &Repo, now: i64) -> anyhow::Result<RtcTokens> {
    let (app_id, certificate) = match (&config.agora_app_id, &config.agora_app_certificate) {
        (Some(id), Some(cert)) => (id.clone(), cert.clone()),
        _ => {
            let mut pair = Vec::new();
            for key in ["dev_agora_app_id", "dev_agora_app_certificate"] {
                pair.push(
                    repo.run(GetOrInitSetting {
                        key: key.into(),
                        value_if_absent: huddle_actors::ids::random_hex32(),
                        now,
                    })
                    .await
                    .context("cannot load the development Agora app")?,
                );
            }
            tracing::warn!(app_id = %pair[0], "HUDDLE_AGORA_APP_ID unset: using a generated development Agora app; its voice tokens are not accepted by Agora");
            (pair[0].clone(), Secret::new(pair[1].clone()))
        }
    };
    Ok(RtcTokens::new(
        app_id,
        certificate,
        config.agora_token_version,
        config.rtc_token_ttl_secs,
    ))
}

impl Application {
    /// Connects, migrates, starts the actors and binds the listener.
    /// Must run inside an actix `System`.
    pub async fn build(config: Config, overrides: Overrides) -> anyhow::Result<Self> {
        let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let db = open_database(&config).await?;
        tracing::info!(database = %redact_url(&config.database_url), backend = ?db.backend(), "database ready");
        let workers = worker_count(&config);
        let repo = Repo::start(db, workers);

        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.expose().to_owned(),
            None => repo
                .run(GetOrInitSetting {
                    key: "jwt_secret".into(),
                    value_if_absent: format!(
                        "{}{}",
                        huddle_actors::ids::random_hex32(),
                        huddle_actors::ids::random_hex32()
                    ),
                    now: clock.now_ms(),
                })
                .await
                .context("cannot load the JWT secret")?,
        };

        let rtc = rtc_tokens(&config, &repo, clock.now_ms()).await?;
        let cluster = link_cluster(&config).await?;
        let bus = match &cluster {
            Some(cluster) => Bus::clustered(BUS_CAPACITY, cluster.clone()),
            None => Bus::new(BUS_CAPACITY),
        };
        let actor_threads = workers.clamp(1, 4);
        let mut rooms = Rooms::new(
            repo.clone(),
            clock.clone(),
            room_settings(&config),
            actor_threads,
        );
        if let Some(cluster) = &cluster {
            rooms = rooms.with_cluster(cluster.clone());
        }
        let http_client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("HTTP client")?;
        let offline_push = OfflinePush::start(
            repo.clone(),
            PushProvider::new(&config.services.push, http_client.clone()),
        );
        let mut hub = Hub::new(bus.clone(), clock.clone()).with_offline_push(offline_push);
        if let Some(cluster) = &cluster {
            hub = hub.with_subscriptions(cluster.subscriptions().clone());
        }
        let hub = hub.start();
        let uploads = Uploads::new(
            &config.services,
            crate::auth::derive_key(jwt_secret.as_bytes(), "huddle local upload addresses v1"),
            http_client.clone(),
        );
        if let Some(store) = uploads.local() {
            match store.remove_leftovers() {
                Ok(0) => {}
                Ok(removed) => {
                    tracing::info!(removed, "removed partial uploads an earlier crash left")
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for partial uploads"),
            }
        }
        let sessions = Arc::new(Sessions::new(
            jwt_secret.as_bytes(),
            repo.clone(),
            clock.clone(),
            config.session_ttl_days,
            Duration::from_millis(config.session_cache_ms),
        ));
        let realtime = SessionDeps {
            sessions: sessions.clone(),
            rooms: rooms.clone(),
            hub: hub.clone(),
            repo: repo.clone(),
            clock: clock.clone(),
            limits: Arc::new(ws_limits(&config)),
        };
        let clubs = Clubs::new(repo.clone(), clock.clone(), bus.clone(), actor_threads);
        let scheduler = EventScheduler::new(
            repo.clone(),
            clock.clone(),
            bus.clone(),
            Duration::from_millis(config.scheduler_tick_ms.max(1)),
        )
        .start();

        let memory = Arc::new(MemoryCache::new(clock.clone()));
        let cache: Arc<dyn Cache> = match &cluster {
            Some(cluster) => Arc::new(RedisCache::new(cluster.clone(), memory)),
            None => memory,
        };
        let sms = crate::clients::sms::from_config(&config.sms).context("SMS provider")?;
        let app_state = web::Data::new(AppState {
            sessions,
            limiter: crate::ratelimit::Limiter::new(config.limits, cache.clone(), clock.clone()),
            captcha: Captcha::new(cache.clone(), sms, config.sms_test_numbers.clone()),
            config: Arc::new(config.clone()),
            repo: repo.clone(),
            cache: cache.clone(),
            clock: clock.clone(),
            rooms,
            clubs,
            scheduler,
            bus,
            rtc,
            realtime,
            uploads,
            previews: Previewer::new(config.services.link_preview.clone()),
            h5_sessions: H5Sessions::new(
                &crate::auth::derive_key(jwt_secret.as_bytes(), "huddle h5 sessions v1"),
                clock.clone(),
                config.services.h5_session_ttl_secs,
            ),
            cluster,
            wechat: config
                .services
                .wechat
                .clone()
                .map(|w| WechatClient::new(w, http_client.clone(), cache.clone())),
        });

        let listener = listen(config.http_addr, config.listen_backlog)
            .with_context(|| format!("cannot listen on {}", config.http_addr))?;
        let addr = listener.local_addr()?;
        let state = app_state.clone();
        let socket_options = SocketOptions::from_config(&config);
        let cors_origins = config.cors_origins.clone();
        if !cors_origins.is_empty() {
            tracing::info!(origins = ?cors_origins.list(), "H5 API open to these origins (CORS)");
        }
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(http::routes)
                .default_service(web::to(http::not_found))
                .wrap(http::cors::middleware(&cors_origins))
                .wrap(from_fn(http::cors::preflight_no_content))
                .wrap(from_fn(http::json_errors))
                .wrap(from_fn(http::request_log))
        })
        .on_connect(move |conn, _| socket_options.apply(conn))
        .workers(workers)
        .shutdown_timeout(config.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(10))
        // Signals are handled here (see `run_until_stopped`), so that WebSockets
        // are closed with 1001 before the server waits for connections to end.
        .disable_signals()
        .listen(listener)?;
        let server = server.run();
        tracing::info!(addr = %addr, "listening");
        Ok(Self {
            handle: ShutdownHandle {
                server: server.handle(),
                hub,
            },
            server,
            addr,
            repo,
            state: app_state,
            handle_signals: overrides.handle_signals,
        })
    }

    /// The bound address (port 0 resolved).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Serves until stopped (signal or handle), then drains: WebSockets are
    /// closed (1001), in-flight requests finish, the scheduler and the actors
    /// stop, the database closes.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        if self.handle_signals {
            let handle = self.handle.clone();
            actix_web::rt::spawn(async move {
                wait_for_signal().await;
                tracing::info!("signal received: shutting down");
                handle.stop(true).await;
            });
        }
        self.server.await?;
        let _ = self
            .state
            .scheduler
            .send(huddle_actors::scheduler::Stop)
            .await;
        self.state.rooms.stop();
        self.state.clubs.stop();
        self.repo.db().close().await;
        self.repo.stop();
        tracing::info!("stopped");
        Ok(())
    }
}
