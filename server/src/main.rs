//! `ticketing`: one binary that serves the pages, the JSON API and its own assets.

use clap::Parser;
use server::config::AdminCommand;
use server::{Application, Command, Config, seed, telemetry};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    return_large_allocations_to_the_os();
    let config = Config::parse();
    telemetry::init(&config.log, &config.log_format);
    let result = match config.command.clone() {
        None | Some(Command::Serve) => {
            async {
                let app = Application::build(config).await?;
                app.run_until(shutdown_signal()).await
            }
            .await
        }
        Some(Command::Migrate) => {
            async {
                let db = app::ssr::Db::connect(&config.database_url).await?;
                db.close().await;
                println!("The database is up to date.");
                Ok(())
            }
            .await
        }
        Some(Command::Admin {
            action: AdminCommand::Grant { email, role },
        }) => server::operator::set_role(&config, &email, Some(role.into())).await,
        Some(Command::Admin {
            action: AdminCommand::Revoke { email },
        }) => server::operator::set_role(&config, &email, None).await,
        Some(Command::Backup { path }) => server::operator::backup(&config, &path).await,
        Some(Command::Refund { order, reason }) => {
            server::operator::refund(&config, &order, &reason).await
        }
        Some(Command::Seed {
            demo: true,
            users,
            tickets,
        }) => seed::run(&config, users, tickets).await,
        Some(Command::Seed { demo: false, .. }) => Err(anyhow::anyhow!(
            "`seed` only creates demo data; run `ticketing seed --demo` to confirm"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = ?err, "ticketing stopped with an error");
            eprintln!("ticketing: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM, after which in-flight requests finish and the database closes.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Each password hash takes 19 MiB. glibc raises its mmap threshold after such a block is freed,
/// so later ones come from per-thread arenas that never shrink, and a burst of sign-ins would
/// leave the process holding hundreds of megabytes. A fixed threshold keeps large blocks mmapped:
/// freed, they go straight back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_allocations_to_the_os() {
    const M_MMAP_THRESHOLD: i32 = -3;
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt takes glibc's own allocator locks and only changes a tuning value.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations_to_the_os() {}
