//! `ticketing`: one binary that serves the pages, the JSON API and its own assets.

use clap::Parser;
use server::config::AdminCommand;
use server::{Application, Command, Config, seed, telemetry};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    server::memory::give_memory_back_to_the_os();
    let config = Config::parse();
    telemetry::init(&config.log, &config.log_format);
    let result = match config.command.clone() {
        None | Some(Command::Serve) => {
            #[cfg(feature = "profile")]
            let profiler = profiling::start();
            let served = async {
                let app = Application::build(config).await?;
                app.run_until(shutdown_signal()).await
            }
            .await;
            #[cfg(feature = "profile")]
            profiling::finish(profiler);
            served
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
        }) => server::operator::grant_role(&config, &email, role.into()).await,
        Some(Command::Admin {
            action: AdminCommand::Revoke { email, role },
        }) => server::operator::revoke_role(&config, &email, role.map(Into::into)).await,
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

/// The bench's profiler (`--features profile`): samples every thread 499 times a second. With
/// `PROFILE_FLAMEGRAPH=PATH`, each SIGUSR1 writes the samples since the last one to `PATH.N`
/// (N = 1, 2, …; written whole, then renamed into place) so that a bench can profile its phases
/// one by one, and shutdown writes the rest to `PATH`.
#[cfg(feature = "profile")]
mod profiling {
    use std::sync::mpsc;

    pub struct Profiler {
        requests: mpsc::Sender<Option<mpsc::Sender<()>>>,
    }

    pub fn start() -> Option<Profiler> {
        let path = std::env::var("PROFILE_FLAMEGRAPH").ok()?;
        let (requests, inbox) = mpsc::channel::<Option<mpsc::Sender<()>>>();
        // The guard lives on a thread of its own; a snapshot is a request to it.
        std::thread::spawn(move || {
            let mut guard = new_guard();
            let mut taken = 0;
            for request in inbox {
                match request {
                    None => {
                        taken += 1;
                        write(guard.take(), &format!("{path}.{taken}"));
                        guard = new_guard();
                    }
                    Some(done) => {
                        write(guard.take(), &path);
                        let _ = done.send(());
                        return;
                    }
                }
            }
        });
        let snapshots = requests.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
                return;
            };
            while usr1.recv().await.is_some() {
                if snapshots.send(None).is_err() {
                    return;
                }
            }
        });
        Some(Profiler { requests })
    }

    pub fn finish(profiler: Option<Profiler>) {
        let Some(profiler) = profiler else {
            return;
        };
        let (done, written) = mpsc::channel();
        if profiler.requests.send(Some(done)).is_ok() {
            let _ = written.recv();
        }
    }

    fn new_guard() -> Option<pprof::ProfilerGuard<'static>> {
        pprof::ProfilerGuardBuilder::default()
            .frequency(499)
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .ok()
    }

    fn write(guard: Option<pprof::ProfilerGuard<'static>>, path: &str) {
        let Some(guard) = guard else {
            eprintln!("no flamegraph: the profiler did not start");
            return;
        };
        let partial = format!("{path}.partial");
        let written = guard
            .report()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|report| {
                drop(guard);
                let file = std::fs::File::create(&partial).map_err(|e| e.to_string())?;
                report.flamegraph(file).map_err(|e| e.to_string())?;
                std::fs::rename(&partial, path).map_err(|e| e.to_string())
            });
        if let Err(err) = written {
            eprintln!("no flamegraph at {path}: {err}");
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
