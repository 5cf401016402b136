//! `doan-bench`: measures the platform against raw baselines measured in the same run, prints
//! the tables and writes them to `docs/benchmarks.md`.
//!
//! ```sh
//! cargo build --release -p doan -p doan-bench && target/release/doan-bench all
//! ```
//! Needs PostgreSQL, RabbitMQ and Redis on their default loopback ports (or the
//! `DOAN_TEST_*_URL` variables of the tests). Reports figures; never fails on them.

mod admissions;
mod announce;
mod bulk;
mod cards;
mod day;
mod events;
mod footprint;
mod gateway;
mod nation;
mod reorg;
mod setup;
mod stats;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use doan_tests::{TestPlatform, base_settings, real_servers, run_id};
use sea_orm::{ConnectionTrait, Database};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Every scenario.
    All,
    /// Gateway overhead: direct vs gateway (gRPC, gRPC-web).
    Gateway,
    /// Event pipeline vs raw lapin.
    Events,
    /// Admissions vs raw PostgreSQL INSERT and COPY.
    Admissions,
    /// RSS and start-up time of each process.
    Footprint,
    /// Offline member-card verification per core vs raw Ed25519.
    Cards,
    /// A provincial-scale move (MoveUnit) vs one raw UPDATE.
    Reorganisation,
    /// A 90,000-row import and export through the gateway vs raw COPY (both modes).
    Bulk,
    /// A national day of action: check-ins with rotating codes and a geofence through the
    /// gateway, at rising rates (`--rates`), against raw PostgreSQL transactions.
    DayOfAction,
    /// A province-wide announcement (`--recipients`, `--watchers`): CreateBroadcast to every
    /// inbox and every push through the FCM and APNs fakes, against the adapters alone and raw
    /// INSERTs; then the latency to live watches.
    Announce,
    /// A synthetic nation (`--members`, `--seed`): its build, the national queries and part
    /// of the 2025 plan. Not part of `all` (it takes minutes and gigabytes).
    Nation,
}

/// Benchmarks of the Đoàn platform, each against a raw baseline measured in the same run.
#[derive(Parser)]
#[command(name = "doan-bench", version, about)]
struct Cli {
    /// Which scenario to run.
    #[arg(value_enum, default_value = "all")]
    scenario: Scenario,
    /// Seconds each measured load lasts.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Members of the synthetic nation.
    #[arg(long, default_value_t = 6_500_000)]
    members: u64,
    /// Seed of the synthetic nation.
    #[arg(long, default_value_t = 2025)]
    seed: u64,
    /// Rows of the bulk import.
    #[arg(long, default_value_t = 90_000)]
    rows: usize,
    /// Check-in rates of the day of action, per second.
    #[arg(long, value_delimiter = ',', default_value = "100,250,500")]
    rates: Vec<u32>,
    /// Recipients of the province-wide announcement (members, one device each).
    #[arg(long, default_value_t = 90_000)]
    recipients: usize,
    /// Live WatchNotifications streams open during the second announcement.
    #[arg(long, default_value_t = 10_000)]
    watchers: usize,
    /// Where to write the Markdown report (`-` for none).
    #[arg(long, default_value = "docs/benchmarks.md")]
    out: String,
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    format!("{cpu}, {cores} cores, {mem:.0} GiB RAM; {}", command_output("uname", &["-sr"]))
}

/// Waits until the previous scenario's events are published and consumed, so one scenario's
/// backlog does not slow the next.
async fn settle(world: &setup::World) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    for producer in ["membership", "activities", "awards"] {
        let db = world.tp.database(producer).await?;
        while doan_platform::outbox::pending(&db).await? > 0 && started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Consumers finish what the relays just published.
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let duration = Duration::from_secs(cli.seconds);
    let Some(urls) = real_servers("doan-bench").await else {
        anyhow::bail!("the benchmarks need PostgreSQL, RabbitMQ and Redis");
    };
    let wants = |s: Scenario| cli.scenario == Scenario::All || cli.scenario == s;
    let mut sections: Vec<(String, String)> = Vec::new();

    if wants(Scenario::Gateway) || wants(Scenario::Events) || wants(Scenario::Admissions) {
        let run = run_id();
        let mut settings = TestPlatform::server_settings(&urls, &run).await?;
        settings.gateway.rate_limit_per_minute = 0;
        // Production pool sizes (the tests use smaller ones).
        for name in doan::ServiceName::ALL {
            settings.service_mut(name.as_str()).expect("service").max_db_connections = 10;
        }
        let world = setup::World::build(TestPlatform::servers_with(urls.clone(), run, settings).await?, 40).await?;
        let mut embedded_settings = base_settings();
        embedded_settings.gateway.rate_limit_per_minute = 0;
        let embedded = setup::World::build(TestPlatform::embedded_with(embedded_settings).await?, 1).await?;

        if wants(Scenario::Gateway) {
            let mut t = gateway::run(&world, "real servers", duration).await?;
            let e = gateway::run(&embedded, "embedded", duration).await?;
            t.rows.extend(e.rows);
            sections.push(("1. Gateway overhead (GetMemberCard)".into(), t.markdown()));
        }
        if wants(Scenario::Events) {
            settle(&world).await?;
            let rate = 50;
            let ours = events::pipeline(&world, 25, rate, 4).await?;
            let raw = events::raw_lapin(&urls.amqp, ours.events, rate, 4).await?;
            sections
                .push(("2. Event pipeline (check-in to inbox)".into(), events::table(&ours, &raw, rate).markdown()));
        }
        if wants(Scenario::Admissions) {
            settle(&world).await?;
            let scratch = format!("doan_bench_{}_scratch", run_id());
            let admin = Database::connect(format!("{}/postgres", urls.postgres)).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {scratch}")).await?;
            let t = admissions::run(&world, &format!("{}/{scratch}", urls.postgres), &[8, 32], duration).await?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")).await?;
            sections.push(("3. Admissions".into(), t.markdown()));
        }
        world.tp.stop().await?;
        embedded.tp.stop().await?;
    }
    if wants(Scenario::Footprint) {
        let t = footprint::run(&urls, duration).await?;
        sections.push(("4. Footprint (release binary)".into(), t.markdown()));
    }
    if wants(Scenario::Cards) {
        let t = tokio::task::spawn_blocking(move || cards::run(duration)).await??;
        sections.push(("5. Member cards verified offline".into(), t.markdown()));
    }
    if wants(Scenario::Reorganisation) {
        let run = run_id();
        let settings = TestPlatform::server_settings(&urls, &run).await?;
        let tp = TestPlatform::servers_with(urls.clone(), run, settings).await?;
        let t = reorg::run(&tp, 100_000).await?;
        tp.stop().await?;
        sections.push(("6. Reorganisation (100,000 members move)".into(), t.markdown()));
    }

    if wants(Scenario::Bulk) {
        let mut t = stats::Table::new(&["path", "rows", "seconds", "rows/s", "ratio vs raw"]);
        let run = run_id();
        let settings = TestPlatform::server_settings(&urls, &run).await?;
        let tp = TestPlatform::servers_with(urls.clone(), run, settings).await?;
        bulk::run(&tp, "PostgreSQL", cli.rows, &mut t).await?;
        tp.stop().await?;
        let tp = TestPlatform::embedded_with(base_settings()).await?;
        bulk::run(&tp, "embedded (SQLite)", cli.rows, &mut t).await?;
        tp.stop().await?;
        sections.push((format!("7. Members in bulk ({} rows)", cli.rows), t.markdown()));
    }
    if wants(Scenario::DayOfAction) {
        let run = run_id();
        let mut settings = TestPlatform::server_settings(&urls, &run).await?;
        settings.gateway.rate_limit_per_minute = 0;
        for name in doan::ServiceName::ALL {
            settings.service_mut(name.as_str()).expect("service").max_db_connections = 10;
        }
        let tp = TestPlatform::servers_with(urls.clone(), run, settings).await?;
        let scratch = format!("doan_bench_{}_day", run_id());
        let admin = Database::connect(format!("{}/postgres", urls.postgres)).await?;
        admin.execute_unprepared(&format!("CREATE DATABASE {scratch}")).await?;
        let seconds = u32::try_from(cli.seconds.max(1)).unwrap_or(3);
        let t = day::run(&tp, &format!("{}/{scratch}", urls.postgres), &cli.rates, seconds).await;
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {scratch} WITH (FORCE)")).await?;
        tp.stop().await?;
        sections.push(("9. A national day of action (check-ins through the gateway)".into(), t?.markdown()));
    }
    if wants(Scenario::Announce) {
        let t = announce::run(&urls, cli.recipients, cli.watchers).await?;
        sections.push((format!("10. A province-wide announcement ({} recipients, push)", cli.recipients), t));
    }
    if cli.scenario == Scenario::Nation {
        let run = run_id();
        let mut settings = TestPlatform::server_settings(&urls, &run).await?;
        settings.gateway.rate_limit_per_minute = 0;
        let tp = TestPlatform::servers_with(urls.clone(), run, settings).await?;
        let mut build = stats::Table::new(&["step", "rows", "seconds", "rows/s"]);
        let nation = nation::build(&tp, cli.members, cli.seed, &mut build).await?;
        let mut queries = stats::Table::new(&["query (through the gateway)", "calls", "p50 ms", "p95 ms", "p99 ms"]);
        nation::queries(&tp, &nation, &mut queries).await?;
        let mut reorg = stats::Table::new(&["plan", "seconds", "member paths/s", "statistics read meanwhile"]);
        nation::reorganise(&tp, &nation, &mut reorg).await?;
        tp.stop().await?;
        sections.push((
            format!("8. A synthetic nation ({} members, seed {})", cli.members, cli.seed),
            format!(
                "Build (COPY):\n\n{}\nQueries:\n\n{}\nPart of the 2025 plan, applied while statistics are read:\n\n{}",
                build.markdown(),
                queries.markdown(),
                reorg.markdown()
            ),
        ));
    }

    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut report = format!(
        "# Benchmarks\n\nFigures from one run of the committed code; each scenario measures its raw baseline in \
         the same run on the same machine, so the ratios hold on a noisy machine better than the absolute numbers.\n\n\
         - machine: {}\n- date: {}\n- commit: {}\n- command: `cargo build --release -p doan -p doan-bench && target/release/doan-bench {}`\n",
        machine(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        command_output("git", &["rev-parse", "--short", "HEAD"]),
        args.join(" "),
    );
    // Sections this run did not measure stay as the last run that did left them (their own
    // commit and command are in their text when they differ).
    let old = if cli.out == "-" { String::new() } else { std::fs::read_to_string(&cli.out).unwrap_or_default() };
    let old_body = old.split_once("\n## Findings").map_or(old.as_str(), |(b, _)| b);
    let mut kept: Vec<(String, String)> = old_body
        .split("\n## ")
        .skip(1)
        .filter_map(|s| s.split_once('\n').map(|(t, b)| (t.trim().to_string(), b.trim_start_matches('\n').to_string())))
        .filter(|(t, _)| {
            let number = |t: &str| t.split('.').next().unwrap_or("").to_string();
            !sections.iter().any(|(new, _)| number(new) == number(t))
        })
        .map(|(t, b)| {
            (
                t,
                format!(
                    "{}\n_(from an earlier run)_\n",
                    b.trim_end().trim_end_matches("_(from an earlier run)_").trim_end()
                ),
            )
        })
        .collect();
    kept.extend(sections.iter().cloned());
    kept.sort_by_key(|(t, _)| t.split('.').next().and_then(|n| n.parse::<u32>().ok()).unwrap_or(99));
    for (title, table) in &sections {
        println!("\n## {title}\n\n{table}");
    }
    for (title, table) in &kept {
        report.push_str(&format!("\n## {title}\n\n{table}"));
    }
    if cli.out != "-" {
        let path = PathBuf::from(&cli.out);
        let notes = old.split_once("\n## Findings").map(|(_, n)| format!("\n## Findings{n}")).unwrap_or_default();
        report.push_str(&notes);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, report)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
