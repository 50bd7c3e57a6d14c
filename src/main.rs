//! The `huddle` binary: parse the command line and run. Everything else is in the library.

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    huddle::cli::run().await
}
