//! The command line: `huddle [--config FILE] [serve|migrate|account|sign]`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use huddle_actors::repo::account::SetFrozen;
use huddle_actors::repo::Repo;
use huddle_actors::{Clock, SystemClock, Uid};

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
    /// Print how a request is signed: the canonical string, the sign, and a ready body.
    Sign(SignArgs),
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
