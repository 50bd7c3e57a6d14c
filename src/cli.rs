//! The command line: `huddle [--config FILE] [serve|migrate|account|sign]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use huddle_actors::repo::account::SetFrozen;
use huddle_actors::repo::app::{AddAppVersion, AppVersion, ListAppVersions, RemoveAppVersion};
use huddle_actors::repo::{Repo, RepoError};
use huddle_actors::{Clock, SystemClock, Uid, VersionId};

use crate::auth::params::{BodyKind, Params};
use crate::auth::signature::{self, DEFAULT_ACCESS_SECRET};
use crate::config::{settings_help, Config};
use crate::startup::{open_database, Application, Overrides};

/// huddle: realtime server for live audio-room apps.
#[derive(Debug, Parser)]
#[command(name = "huddle", version, about, long_about = None)]
pub struct Cli {
    /// TOML file with settings (keys: the environment names below without HUDDLE_, lower case).
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "FILE",
        env = "HUDDLE_CONFIG"
    )]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default). SIGTERM/SIGINT drain in-flight requests and stop.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    Account {
        /// What to do with the account.
        #[command(subcommand)]
        action: AccountCommand,
    },
    /// Publish, list and withdraw app versions (`GET /app/version/upgrade`).
    AppVersion {
        /// What to do.
        #[command(subcommand)]
        action: AppVersionCommand,
    },
    /// Print how a request is signed: the canonical string, the sign, and a ready body.
    Sign(SignArgs),
}

/// `huddle app-version …`
#[derive(Debug, Subcommand)]
pub enum AppVersionCommand {
    /// Publish a version; the highest code per client type is what apps are offered.
    Add(AppVersionArgs),
    /// List published versions, newest first per client type.
    List {
        /// Only this client type (web, ios, android or 0, 1, 2).
        #[arg(long, value_parser = parse_client_type)]
        client_type: Option<i64>,
    },
    /// Withdraw a version by its versionId.
    Remove {
        /// The versionId (32 hex) shown by `list`.
        version_id: String,
    },
}

/// `huddle app-version add …`
#[derive(Debug, Args)]
pub struct AppVersionArgs {
    /// web, ios, android (or 0, 1, 2).
    #[arg(long, value_parser = parse_client_type)]
    pub client_type: i64,
    /// Build number (versionCode), increasing.
    #[arg(long)]
    pub code: i64,
    /// Display name (versionName), e.g. 0.1.7.
    #[arg(long)]
    pub name: String,
    /// Store or download address (downloadUrl).
    #[arg(long)]
    pub url: String,
    /// Release notes (versionDesc).
    #[arg(long, default_value = "")]
    pub desc: String,
    /// Older versions must upgrade (forcedUpgrade = 1).
    #[arg(long)]
    pub forced: bool,
}

fn parse_client_type(text: &str) -> Result<i64, String> {
    match text.to_ascii_lowercase().as_str() {
        "0" | "web" => Ok(0),
        "1" | "ios" => Ok(1),
        "2" | "android" => Ok(2),
        other => Err(format!(
            "client type must be web, ios or android (0, 1, 2), not {other:?}"
        )),
    }
}

/// `huddle account …`
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Freeze an account: its calls answer business code 100002 from the next request on.
    Freeze {
        /// The account's uid (32 hex).
        uid: String,
    },
    /// Unfreeze an account.
    Unfreeze {
        /// The account's uid (32 hex).
        uid: String,
    },
}

/// `huddle sign …`
#[derive(Debug, Args)]
pub struct SignArgs {
    /// accessSecret from login (default: the pre-login secret).
    #[arg(long)]
    pub secret: Option<String>,
    /// ts to sign with (default: now).
    #[arg(long)]
    pub ts: Option<i64>,
    /// Request parameters, e.g. countryCode=86 mobile=13800000000.
    #[arg(value_name = "KEY=VALUE")]
    pub params: Vec<String>,
}

/// Parses the command line and runs it.
pub async fn run() -> ExitCode {
    let command = Cli::command().after_long_help(settings_help());
    let cli = match Cli::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Some(Command::Sign(args)) = &cli.command {
        return print_signed(args);
    }
    let config = match Config::load(cli.config.as_deref(), |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("huddle: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = crate::telemetry::init(&config) {
        eprintln!("huddle: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Account { action } => account(config, action).await,
        Command::AppVersion { action } => app_version(config, action).await,
        Command::Sign(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "huddle failed");
            eprintln!("huddle: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config, Overrides::default()).await?;
    app.run_until_stopped().await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let db = open_database(&config).await?;
    db.close().await;
    println!("migrations applied");
    Ok(())
}

async fn account(config: Config, action: AccountCommand) -> anyhow::Result<()> {
    let (uid, frozen) = match action {
        AccountCommand::Freeze { uid } => (uid, true),
        AccountCommand::Unfreeze { uid } => (uid, false),
    };
    let uid = Uid::parse(&uid)?;
    let repo = Repo::start(open_database(&config).await?, 1);
    let found = repo
        .run(SetFrozen {
            uid: uid.clone(),
            frozen,
        })
        .await?;
    repo.db().close().await;
    if !found {
        anyhow::bail!("no account with uid {uid}");
    }
    println!(
        "account {uid} {}",
        if frozen { "frozen" } else { "unfrozen" }
    );
    Ok(())
}

async fn app_version(config: Config, action: AppVersionCommand) -> anyhow::Result<()> {
    let repo = Repo::start(open_database(&config).await?, 1);
    let result = app_version_with(&repo, action).await;
    repo.db().close().await;
    result
}

async fn app_version_with(repo: &Repo, action: AppVersionCommand) -> anyhow::Result<()> {
    match action {
        AppVersionCommand::Add(args) => {
            anyhow::ensure!(args.code >= 1, "--code must be at least 1");
            let name = args.name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= 32,
                "--name must be 1 to 32 characters"
            );
            anyhow::ensure!(
                args.desc.chars().count() <= 2000,
                "--desc must be at most 2000 characters"
            );
            let url = url::Url::parse(&args.url).map_err(|e| anyhow::anyhow!("--url: {e}"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https"),
                "--url must be http(s)"
            );
            let version = AppVersion {
                version_id: VersionId::new(),
                client_type: args.client_type,
                version_code: args.code,
                version_name: name.to_owned(),
                version_desc: args.desc,
                download_url: args.url,
                forced_upgrade: i64::from(args.forced),
                created_at: SystemClock.now_ms(),
            };
            match repo.run(AddAppVersion(version.clone())).await {
                Err(RepoError::Conflict(_)) => anyhow::bail!(
                    "version code {} is already published for client type {}",
                    version.version_code,
                    version.client_type
                ),
                other => other?,
            }
            println!(
                "published {} {} (code {}) for client type {}",
                version.version_id, version.version_name, version.version_code, version.client_type
            );
        }
        AppVersionCommand::List { client_type } => {
            let versions = repo.run(ListAppVersions { client_type }).await?;
            if versions.is_empty() {
                println!("no versions published");
            }
            for v in versions {
                println!(
                    "{}  client {}  code {:>5}  {:<10} forced {}  {}",
                    v.version_id,
                    v.client_type,
                    v.version_code,
                    v.version_name,
                    v.forced_upgrade,
                    v.download_url
                );
            }
        }
        AppVersionCommand::Remove { version_id } => {
            let version_id = VersionId::parse(&version_id)?;
            if !repo
                .run(RemoveAppVersion {
                    version_id: version_id.clone(),
                })
                .await?
            {
                anyhow::bail!("no version {version_id}");
            }
            println!("removed {version_id}");
        }
    }
    Ok(())
}

fn print_signed(args: &SignArgs) -> ExitCode {
    let ts = args.ts.unwrap_or_else(|| SystemClock.now_ms());
    let mut query: Vec<(String, String)> = Vec::new();
    for pair in &args.params {
        let Some((k, v)) = pair.split_once('=') else {
            eprintln!("huddle sign: {pair:?} is not KEY=VALUE");
            return ExitCode::from(2);
        };
        query.push((k.to_owned(), v.to_owned()));
    }
    query.push(("ts".into(), ts.to_string()));
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&query)
        .finish();
    let params = match Params::parse(&encoded, BodyKind::None, b"") {
        Ok(p) => p,
        Err(e) => {
            eprintln!("huddle sign: {e}");
            return ExitCode::from(2);
        }
    };
    let secret = args.secret.as_deref().unwrap_or(DEFAULT_ACCESS_SECRET);
    let sign = signature::sign(params.iter(), secret);
    println!(
        "canonical: {}",
        signature::canonical_string(params.iter(), secret)
    );
    println!("sign:      {sign}");
    println!("body:      {encoded}&sign={sign}");
    ExitCode::SUCCESS
}
